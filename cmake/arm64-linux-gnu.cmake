# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Cross-compiling for Debian arm64 (multiarch) from an amd64 host:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/arm64-linux-gnu.cmake
# Needs crossbuild-essential-arm64 and the :arm64 -dev packages
# (scripts/cross-arm64.sh installs them). Tests run under qemu-user.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(DFUKIT_CROSS_TRIPLET aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${DFUKIT_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${DFUKIT_CROSS_TRIPLET}-g++)

# Debian multiarch: arm64 libraries live in /usr/lib/aarch64-linux-gnu of the
# host root, so the root is / and only the library paths differ.
set(CMAKE_LIBRARY_ARCHITECTURE ${DFUKIT_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_FIND_ROOT_PATH /usr/lib/${DFUKIT_CROSS_TRIPLET} /usr)
# pkg-config must see the arm64 .pc files, not the host's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${DFUKIT_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# Test programs run through qemu-user with the arm64 loader and libraries
# from the host root (Debian multiarch puts them under /usr/lib/aarch64-linux-gnu,
# the loader under /lib/ld-linux-aarch64.so.1).
find_program(DFUKIT_QEMU_AARCH64 qemu-aarch64-static)
if(DFUKIT_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${DFUKIT_QEMU_AARCH64} -L /)
endif()
