# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The flashing command line against dfukit-emu over USB/IP (unix socket).
dfk_scenario_tests(flash_list flash/list.sh flash)
dfk_scenario_tests(flash_dfuse_examples flash/dfuse_examples.sh flash)
dfk_scenario_tests(flash_dfuse_ops flash/dfuse_ops.sh flash)
dfk_scenario_tests(flash_dfu11 flash/dfu11.sh flash)
dfk_scenario_tests(flash_faults flash/faults.sh flash)
dfk_scenario_tests(flash_profiles flash/profiles.sh flash)
dfk_scenario_tests(flash_opts flash/opts.sh flash)
# Cancel from another thread during a 256 KiB download over USB/IP (public
# API, shared library): cancelled within a second, device in dfuIDLE.
find_package(Threads REQUIRED)
add_executable(test_cancel_usbip ${CMAKE_CURRENT_SOURCE_DIR}/cancel/test_cancel_usbip.c)
target_link_libraries(test_cancel_usbip PRIVATE dfukit_shared Threads::Threads)
add_test(NAME flash_cancel COMMAND test_cancel_usbip $<TARGET_FILE:dfukit-emu>)
set_tests_properties(flash_cancel PROPERTIES LABELS flash TIMEOUT 120)
