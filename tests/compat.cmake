# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit under dfu-util's names, and the command lines of the test
# frameworks that drive dfu-util (labgrid, LAVA), against dfukit-emu.
dfk_scenario_tests(compat_names compat/names.sh compat)
dfk_scenario_tests(compat_labgrid compat/labgrid.sh compat)
dfk_scenario_tests(compat_lava compat/lava.sh compat)
