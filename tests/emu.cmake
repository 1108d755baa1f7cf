# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit-emu front end: the USB/IP server driven over its socket by a small
# scriptable client (tests/emu/emu_probe.c).
add_executable(emu_probe ${CMAKE_CURRENT_SOURCE_DIR}/emu/emu_probe.c)
target_link_libraries(emu_probe PRIVATE dfukit_wire)
set_target_properties(emu_probe PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/emu)

dfk_script_test(emu_server_protocol emu/test_server_protocol.sh emu)
dfk_scenario_tests(emu_cli emu/test_cli.sh emu)
dfk_scenario_tests(emu_vhci_sysfs emu/test_vhci_sysfs.sh emu)
dfk_script_test(emu_dfu_socket emu/test_dfu_socket.sh emu)
dfk_scenario_tests(emu_multi_device emu/test_multi_device.sh emu)
dfk_script_test(emu_multi_flash emu/test_multi_flash.sh emu)

# The per-connection protocol engine without sockets (cmocka).
add_executable(test_emu_session ${CMAKE_CURRENT_SOURCE_DIR}/emu/test_emu_session.c)
target_link_libraries(test_emu_session PRIVATE dfukit_emu_core PkgConfig::CMOCKA)
add_test(NAME test_emu_session COMMAND test_emu_session)
set_tests_properties(test_emu_session PROPERTIES LABELS "unit;emu")
