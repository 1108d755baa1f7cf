# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit-emu --device FILE: device descriptions in JSON (emu/emu_desc.c,
# doc/device-format.md) and the built-in devices made of them (emu/devices/).

# The built-in devices, driven in-process through a fixed script, against
# the log recorded from the C profile tables they replaced.
add_executable(test_emu_builtin ${CMAKE_CURRENT_SOURCE_DIR}/emu/test_emu_builtin.c)
target_link_libraries(test_emu_builtin PRIVATE dfukit_emu_core)
# tests/unit/emu_random_request.h, shared with test_emu_random.
target_include_directories(test_emu_builtin PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
add_test(NAME emu_builtin_devices COMMAND test_emu_builtin ${CMAKE_CURRENT_SOURCE_DIR}/emu/builtin_devices.golden)
set_tests_properties(emu_builtin_devices PROPERTIES LABELS "unit;emu")

# The description parser and what it makes (cmocka, in-process).
dfk_unit_test(test_emu_desc dfukit_emu_core)
set_tests_properties(test_emu_desc PROPERTIES LABELS "unit;emu")

# dfukit-emu --device through USB/IP with the real dfukit (tests/emu/devices/).
dfk_script_test(emu_device_two emu/test_device_two.sh emu)
dfk_script_test(emu_device_composite emu/test_device_composite.sh emu)
dfk_script_test(emu_device_serial emu/test_device_serial.sh emu)
dfk_script_test(emu_device_errors emu/test_device_errors.sh emu)
dfk_script_test(emu_device_flash emu/test_device_flash.sh emu)
