# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The dfu-util compatible command line: parsing and usage, no device.
dfk_scenario_tests(cli_options cli/options.sh cli)
dfk_scenario_tests(cli_dfuse_spec cli/dfuse_spec.sh cli)
dfk_scenario_tests(cli_files cli/files.sh cli)

# The option parser linked on its own (tool/ is not a library).
add_executable(test_cli_parse ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_cli_parse.c
  ${CMAKE_SOURCE_DIR}/tool/tool_flash_opts.c ${CMAKE_SOURCE_DIR}/tool/tool_version.c)
# tool_version.c includes the generated dfukit_build_info.h (tool/CMakeLists.txt).
target_include_directories(test_cli_parse PRIVATE ${CMAKE_SOURCE_DIR}/tool ${CMAKE_BINARY_DIR}/generated)
target_link_libraries(test_cli_parse PRIVATE libdfukit PkgConfig::CMOCKA)
add_test(NAME test_cli_parse COMMAND test_cli_parse)
set_tests_properties(test_cli_parse PROPERTIES LABELS "cli;unit")
