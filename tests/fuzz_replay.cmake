# Every fuzz target's seeds and crash regressions replayed under CTest with
# the normal (or sanitizer) build: tests/fuzz/{corpus,regress}/NAME.
file(GLOB DFUKIT_FUZZ_TARGET_SRCS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_*.c)
foreach(src ${DFUKIT_FUZZ_TARGET_SRCS})
  get_filename_component(fname ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" name ${fname})
  if(name STREQUAL "device")
    continue() # replayed by faults.cmake
  endif()
  add_executable(replay_${name} ${src} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay_main.c)
  target_include_directories(replay_${name} PRIVATE ${CMAKE_SOURCE_DIR}/emu)
  target_link_libraries(replay_${name} PRIVATE dfukit_private)
  if(name STREQUAL "usbip_server" OR name MATCHES "^emu")
    target_link_libraries(replay_${name} PRIVATE dfukit_emu_core)
  else()
    target_link_libraries(replay_${name} PRIVATE libdfukit)
  endif()
  add_test(NAME fuzz_replay_${name} COMMAND replay_${name}
    ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regress/${name})
  set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS fuzz)
endforeach()
