# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The fuzz targets, tests/fuzz/fuzz_<name>.c: libdfukit's input parsers and
# dfukit-emu's device model and USB/IP session. Used by the libFuzzer build
# (tests/fuzz/CMakeLists.txt) and the corpus replay (tests/fuzz_replay.cmake).
set(DFUKIT_FUZZ_LIB_TARGETS descriptors device dfuse elf ihex memmap prefix srec suffix)
set(DFUKIT_FUZZ_EMU_TARGETS usbip_server emu_device_json usbip_client)
# Targets of both: the library's USB/IP client against the emulator's server.
set(DFUKIT_FUZZ_BOTH_TARGETS usbip_client)
