# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Man pages: doc/man/*.scd turned into roff by scdoc at build time.
# DFUKIT_MAN: AUTO builds them when scdoc is found, ON requires scdoc
# (packaging), OFF skips them.
set(DFUKIT_MAN AUTO CACHE STRING "Build the man pages with scdoc: AUTO, ON (scdoc required) or OFF")
set_property(CACHE DFUKIT_MAN PROPERTY STRINGS AUTO ON OFF)

set(DFUKIT_MAN_PAGES "")
if(DFUKIT_MAN STREQUAL "ON")
  find_program(DFUKIT_SCDOC scdoc REQUIRED)
elseif(DFUKIT_MAN STREQUAL "AUTO")
  find_program(DFUKIT_SCDOC scdoc)
  if(NOT DFUKIT_SCDOC)
    message(STATUS "scdoc not found: no man pages (Debian package scdoc)")
  endif()
elseif(NOT DFUKIT_MAN STREQUAL "OFF")
  message(FATAL_ERROR "DFUKIT_MAN must be AUTO, ON or OFF, not \"${DFUKIT_MAN}\"")
endif()

if(DFUKIT_SCDOC AND NOT DFUKIT_MAN STREQUAL "OFF")
  set(pages dfukit.1 dfukit-emu.1)
  if(DFUKIT_GUI_BUILT)
    list(APPEND pages dfukit-gui.1)
  endif()
  foreach(page ${pages})
    set(src ${PROJECT_SOURCE_DIR}/doc/man/${page}.scd)
    set(out ${PROJECT_BINARY_DIR}/man/${page})
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND sh -c "\"$1\" <\"$2\" >\"$3.tmp\" && mv \"$3.tmp\" \"$3\"" scdoc ${DFUKIT_SCDOC} ${src} ${out}
      DEPENDS ${src}
      COMMENT "scdoc ${page}"
      VERBATIM)
    list(APPEND DFUKIT_MAN_PAGES ${out})
  endforeach()
  add_custom_target(man ALL DEPENDS ${DFUKIT_MAN_PAGES})
endif()
