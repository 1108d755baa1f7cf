# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Device quirks handled by the tool, through USB/IP against dfukit-emu.
dfk_script_test(quirks_suffix_force quirks/suffix_force.sh quirks)
# The engine applies each quirk, against the mock device on a fake clock.
dfk_unit_test(test_quirk_engine dfk_mock_dfu dfukit_jobs)
