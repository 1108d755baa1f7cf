# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The zoo matrix: every description in emu/zoo/ through USB/IP (-l,
# download with verify, upload, leave, its quirks). A new file there is a
# new test at the next configure.
file(GLOB dfk_zoo_devices CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/emu/zoo/*.json)
foreach(desc ${dfk_zoo_devices})
  get_filename_component(dev ${desc} NAME_WE)
  add_test(NAME zoo.${dev} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/zoo/zoo_device.sh ${CMAKE_BINARY_DIR} ${desc})
  set_tests_properties(zoo.${dev} PROPERTIES LABELS zoo TIMEOUT 300)
endforeach()
