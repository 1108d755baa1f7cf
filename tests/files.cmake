# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# File formats (Intel HEX, S-record, ELF) and the `dfukit` file commands.
dfk_unit_test(test_ihex dfukit_formats)
dfk_unit_test(test_srec dfukit_formats)
dfk_unit_test(test_elf dfukit_formats)
dfk_scenario_tests(files_suffix files/suffix.sh files)
dfk_scenario_tests(files_prefix files/prefix.sh files)
dfk_scenario_tests(files_pack files/pack.sh files)
dfk_scenario_tests(files_interop files/interop.sh files)
dfk_scenario_tests(files_info files/info.sh files)
# 60 random corruptions, each checked with gen.py: minutes on a loaded machine.
set_tests_properties(files_info.random_mutations PROPERTIES TIMEOUT 900)
