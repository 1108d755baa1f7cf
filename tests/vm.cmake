# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# QEMU end-to-end run through vhci-hcd and libusb, dfukit beside dfu-util.
add_test(NAME vm_e2e COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/vm/vm-test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(vm_e2e PROPERTIES LABELS vm TIMEOUT 1200 RUN_SERIAL TRUE)
