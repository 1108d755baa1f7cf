# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The emulator's device model (emu/emu_*.c), driven in-process through
# emu_device_control: no sockets, no USB/IP.
dfk_unit_test(test_emu_device dfukit_emu_core)
dfk_unit_test(test_emu_dfu dfukit_emu_core)
dfk_unit_test(test_emu_dfuse dfukit_emu_core)
dfk_unit_test(test_emu_timing dfukit_emu_core)
dfk_unit_test(test_emu_faults dfukit_emu_core)
dfk_unit_test(test_emu_memory dfukit_emu_core)
dfk_unit_test(test_emu_random dfukit_emu_core)
dfk_unit_test(test_emu_quirks dfukit_emu_core)
