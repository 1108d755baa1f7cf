# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The pure layers (base, usb, proto: descriptors, memory maps, plans,
# matching, context, transport wrappers): unit tests that need no device.

foreach(t test_usb_desc test_memmap test_plan test_match test_ctx test_quirks)
  dfk_unit_test(${t} dfukit_proto)
endforeach()
