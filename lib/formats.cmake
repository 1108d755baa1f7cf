# File formats: no USB, only zlib.
add_library(dfukit_formats STATIC
  lib/error.c
  lib/crc.c
  lib/image.c
  lib/firmware.c
  lib/fileio.c
  lib/suffix.c
  lib/prefix.c
  lib/dfuse_file.c
  lib/ihex.c
  lib/srec.c
  lib/text.c
  lib/image_run.c
  lib/elf.c
)
target_include_directories(dfukit_formats PUBLIC ${CMAKE_SOURCE_DIR}/include PRIVATE ${CMAKE_SOURCE_DIR}/lib)
target_link_libraries(dfukit_formats PUBLIC ZLIB::ZLIB)
# ELF input goes through elfutils' libelf (Debian libelf-dev) rather than a
# hand-written reader.
pkg_check_modules(LIBELF REQUIRED IMPORTED_TARGET libelf)
target_link_libraries(dfukit_formats PUBLIC PkgConfig::LIBELF)
