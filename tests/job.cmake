# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The DFU/DfuSe engine (find, dev, dfu, dfuse, job) against an in-process
# fake device (tests/unit/mock_dfu.c) with a fake clock: no I/O, no waiting.
add_library(dfk_mock_dfu STATIC ${CMAKE_CURRENT_SOURCE_DIR}/unit/mock_dfu.c)
target_include_directories(dfk_mock_dfu PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/unit ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(dfk_mock_dfu PUBLIC dfukit_jobs PRIVATE dfukit_private)

foreach(t test_dfu test_job test_find test_watch)
  dfk_unit_test(${t} dfk_mock_dfu dfukit_jobs)
endforeach()
