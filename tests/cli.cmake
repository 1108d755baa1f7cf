# The dfu-util compatible command line: parsing and usage, no device.
dfk_script_test(cli_options cli/options.sh cli)
dfk_script_test(cli_dfuse_spec cli/dfuse_spec.sh cli)
dfk_script_test(cli_files cli/files.sh cli)
