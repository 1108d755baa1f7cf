# The USB/IP wire format, shared with dfukit-emu.
add_library(dfukit_wire STATIC lib/usbip_wire.c)
target_include_directories(dfukit_wire PUBLIC ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/lib)

# Transports: libusb-1.0 and the USB/IP client.
add_library(dfukit_transport STATIC
  lib/transport_libusb.c
  lib/transport_usbip.c
)
target_include_directories(dfukit_transport PUBLIC ${CMAKE_SOURCE_DIR}/include PRIVATE ${CMAKE_SOURCE_DIR}/lib)
target_link_libraries(dfukit_transport PUBLIC dfukit_engine dfukit_wire PkgConfig::LIBUSB)
