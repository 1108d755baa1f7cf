# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Reliability (issue 6): the fault matrix and the safety rules against
# dfukit-emu (label "faults"), the main paths under valgrind (label
# "valgrind"), and the replay of the device fuzz target's seeds.
find_program(DFUKIT_PYTHON3 python3 REQUIRED)

# One test per operation, so that ctest -j runs them side by side; each
# prints its matrix (cells tried, cells passed).
foreach(op download-raw download-dfu download-plain upload leave detach mass-erase list)
  add_test(NAME faults_matrix_${op}
           COMMAND ${DFUKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/faults/matrix.py ${CMAKE_BINARY_DIR} ${op})
  set_tests_properties(faults_matrix_${op} PROPERTIES LABELS faults TIMEOUT 300)
endforeach()

# The same with --json for a sample of the faults: one final result object
# that agrees with the exit status and carries the message.
add_test(NAME faults_matrix_json
         COMMAND ${DFUKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/faults/matrix.py --json ${CMAKE_BINARY_DIR})
set_tests_properties(faults_matrix_json PROPERTIES LABELS faults TIMEOUT 300)

# The safety rules, one test per case (safety.py --list names them, as the
# scenario scripts do). The fault matrix stays one test per operation
# above: each runs a fault-free baseline of its operation first, which
# per-fault tests would repeat for every cell.
dfk_scenario_tests(faults_safety faults/safety.py faults ${DFUKIT_PYTHON3})

# valgrind and ASan cannot run together; the sanitizer build has ASan.
if(NOT DFUKIT_SANITIZE)
  dfk_script_test(faults_valgrind faults/valgrind.sh valgrind)
  set_tests_properties(faults_valgrind PROPERTIES TIMEOUT 600)
endif()

# The device fuzz target built with the replay driver instead of libFuzzer
# (any compiler), run over its seed corpus.
add_executable(replay_fuzz_device ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_device.c
                                  ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay_main.c)
target_link_libraries(replay_fuzz_device PRIVATE dfukit_private)
target_link_libraries(replay_fuzz_device PRIVATE libdfukit)
add_test(NAME faults_fuzz_device_replay COMMAND replay_fuzz_device ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/device
                                                ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regress/device)
set_tests_properties(faults_fuzz_device_replay PROPERTIES LABELS "faults;fuzz" TIMEOUT 120)
