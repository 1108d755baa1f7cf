# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Every fuzz target's seeds and crash regressions replayed under CTest with
# the normal (or sanitizer) build: tests/fuzz/{corpus,regress}/NAME.
include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/targets.cmake)
foreach(name ${DFUKIT_FUZZ_LIB_TARGETS} ${DFUKIT_FUZZ_EMU_TARGETS})
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_${name}.c)
  if(name STREQUAL "device")
    continue() # replayed by faults.cmake
  endif()
  add_executable(replay_${name} ${src} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay_main.c)
  target_include_directories(replay_${name} PRIVATE ${PROJECT_SOURCE_DIR}/emu)
  target_link_libraries(replay_${name} PRIVATE dfukit_private)
  if(name IN_LIST DFUKIT_FUZZ_BOTH_TARGETS)
    find_package(Threads REQUIRED)
    target_link_libraries(replay_${name} PRIVATE dfukit_emu_core libdfukit Threads::Threads)
  elseif(name IN_LIST DFUKIT_FUZZ_EMU_TARGETS)
    target_link_libraries(replay_${name} PRIVATE dfukit_emu_core)
  else()
    target_link_libraries(replay_${name} PRIVATE libdfukit)
  endif()
  add_test(NAME fuzz_replay_${name} COMMAND replay_${name}
    ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regress/${name})
  set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS fuzz)
endforeach()
