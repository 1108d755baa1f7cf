# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# File formats (lib/formats.cmake): unit tests.
foreach(t test_suffix test_prefix test_fileio test_image test_dfuse_file test_firmware test_fmt_mutate)
  dfk_unit_test(${t} dfukit_formats)
endforeach()

# The CRC over 4 GiB of zeros takes half a minute: its own test, label slow
# (ctest -LE slow leaves it out). Each must have run its one case.
add_executable(test_crc ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_crc.c)
target_link_libraries(test_crc PRIVATE dfukit_formats dfukit_private PkgConfig::CMOCKA)
add_test(NAME test_crc COMMAND test_crc --skip above_4g)
set_tests_properties(test_crc PROPERTIES LABELS unit PASS_REGULAR_EXPRESSION "\\[  PASSED  \\] 2 test"
                                         FAIL_REGULAR_EXPRESSION "FAILED")
add_test(NAME test_crc.above_4g COMMAND test_crc above_4g)
set_tests_properties(test_crc.above_4g PROPERTIES LABELS "unit;slow" TIMEOUT 600
                     PASS_REGULAR_EXPRESSION "\\[  PASSED  \\] 1 test"
                     FAIL_REGULAR_EXPRESSION "FAILED")
