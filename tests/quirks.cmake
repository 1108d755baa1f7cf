# Device quirks handled by the tool, through USB/IP against dfukit-emu.
dfk_script_test(quirks_suffix_force quirks/suffix_force.sh quirks)
