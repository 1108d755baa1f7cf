# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# QEMU end-to-end run through vhci-hcd and libusb, dfukit beside dfu-util.
add_test(NAME vm_e2e COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/vm/vm-test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(vm_e2e PROPERTIES LABELS vm TIMEOUT 1200 RUN_SERIAL TRUE)
# Devices of the zoo (emu/zoo/*.json), dfukit beside dfu-util 0.11 with their
# real timing; the fidelity table is written to zoo-fidelity.md (README).
add_test(NAME vm_zoo COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/vm/zoo-vm.sh ${CMAKE_BINARY_DIR}
	${CMAKE_BINARY_DIR}/zoo-fidelity.md)
set_tests_properties(vm_zoo PROPERTIES LABELS vm TIMEOUT 1500 RUN_SERIAL TRUE)
