# The flashing command line against dfukit-emu over USB/IP (unix socket).
dfk_script_test(flash_list flash/list.sh flash)
dfk_script_test(flash_dfuse_examples flash/dfuse_examples.sh flash)
dfk_script_test(flash_dfuse_ops flash/dfuse_ops.sh flash)
dfk_script_test(flash_dfu11 flash/dfu11.sh flash)
dfk_script_test(flash_faults flash/faults.sh flash)
dfk_script_test(flash_profiles flash/profiles.sh flash)
dfk_script_test(flash_opts flash/opts.sh flash)
