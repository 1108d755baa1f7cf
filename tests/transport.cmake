# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Transports: the USB/IP wire format, the USB/IP client against an in-test
# fake server, and the libusb backend (which must cope with no USB at all).
find_package(Threads REQUIRED)
dfk_unit_test(test_usbip_wire dfukit_wire)
dfk_unit_test(test_transport_usbip dfukit_transport Threads::Threads)
# Includes lib/transport/transport_libusb.c itself to reach its static helpers.
dfk_unit_test(test_transport_libusb dfukit_usb PkgConfig::LIBUSB)
