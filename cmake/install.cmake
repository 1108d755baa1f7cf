# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# cmake --install: programs, libdfukit (shared with its soname links, and
# static), headers, pkg-config file, CMake package, man pages, completion,
# udev rule, docs. Every path is relative to the prefix given at install
# time (cmake --install build --prefix P); nothing refers to the build tree.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(DFUKIT_BASH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    CACHE STRING "Where the bash completion goes (relative to the prefix, or absolute)")
set(DFUKIT_ZSH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/zsh/site-functions
    CACHE STRING "Where the zsh completion goes (Debian: share/zsh/vendor-completions)")
set(DFUKIT_UDEV_RULES_DIR lib/udev/rules.d
    CACHE STRING "Where the udev rule goes (udev reads /usr/lib/udev/rules.d and /etc/udev/rules.d)")
option(DFUKIT_INSTALL_COMPAT_LINKS
       "Install dfu-util, dfu-suffix, dfu-prefix and dfuse-pack as links to dfukit (conflicts with dfu-util)" OFF)

# The programs find libdfukit next to them ($ORIGIN/../lib) when the
# library directory is not one the dynamic linker searches anyway; a
# distribution's /usr/lib/<triplet> gets no RPATH.
list(FIND CMAKE_C_IMPLICIT_LINK_DIRECTORIES "${CMAKE_INSTALL_FULL_LIBDIR}" dfk_libdir_is_system)
if(dfk_libdir_is_system EQUAL -1)
  file(RELATIVE_PATH dfk_bin_to_lib ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
  set_target_properties(dfukit PROPERTIES INSTALL_RPATH "$ORIGIN/${dfk_bin_to_lib}")
endif()

install(TARGETS dfukit dfukit-emu RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set_target_properties(dfukit_shared PROPERTIES EXPORT_NAME dfukit)
set_target_properties(dfukit_static PROPERTIES EXPORT_NAME dfukit_static)
install(TARGETS dfukit_shared EXPORT dfukit-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS dfukit_static EXPORT dfukit-static-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/dfukit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")

# CMake package: find_package(dfukit) -> dfukit::dfukit.
set(dfk_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/dfukit)
install(EXPORT dfukit-targets NAMESPACE dfukit:: DESTINATION ${dfk_cmakedir})
install(EXPORT dfukit-static-targets NAMESPACE dfukit:: DESTINATION ${dfk_cmakedir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dfukitConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/cmake/dfukitConfig.cmake INSTALL_DESTINATION ${dfk_cmakedir})
# The soname is libdfukit.so.0: any 0.x library serves a program built for
# an older 0.x.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/dfukitConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/dfukitConfig.cmake ${PROJECT_BINARY_DIR}/cmake/dfukitConfigVersion.cmake
        DESTINATION ${dfk_cmakedir})

# pkg-config: the prefix is the one of this install run, so the file is
# written when installing (install rules run in order).
configure_file(${PROJECT_SOURCE_DIR}/cmake/dfukit.pc.in ${PROJECT_BINARY_DIR}/dfukit.pc.tmpl @ONLY)
foreach(d LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
    set(dfk_pc_${d} "${CMAKE_INSTALL_${d}}")
  else()
    set(dfk_pc_${d} "\${prefix}/${CMAKE_INSTALL_${d}}")
  endif()
endforeach()
install(CODE "
  file(READ \"${PROJECT_BINARY_DIR}/dfukit.pc.tmpl\" pc)
  string(REPLACE \"%PREFIX%\" \"\${CMAKE_INSTALL_PREFIX}\" pc \"\${pc}\")
  string(REPLACE \"%LIBDIR%\" [[${dfk_pc_LIBDIR}]] pc \"\${pc}\")
  string(REPLACE \"%INCLUDEDIR%\" [[${dfk_pc_INCLUDEDIR}]] pc \"\${pc}\")
  file(WRITE \"${PROJECT_BINARY_DIR}/dfukit.pc\" \"\${pc}\")
")
install(FILES ${PROJECT_BINARY_DIR}/dfukit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(DFUKIT_MAN_PAGES)
  install(FILES ${DFUKIT_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/data/completion/bash/dfukit ${PROJECT_SOURCE_DIR}/data/completion/bash/dfukit-emu
        DESTINATION ${DFUKIT_BASH_COMPLETION_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/data/completion/zsh/_dfukit ${PROJECT_SOURCE_DIR}/data/completion/zsh/_dfukit-emu
        DESTINATION ${DFUKIT_ZSH_COMPLETION_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/data/udev/70-dfukit.rules DESTINATION ${DFUKIT_UDEV_RULES_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})

# dfu-util's names: dfukit behaves as each tool when called by its name.
if(DFUKIT_INSTALL_COMPAT_LINKS)
  set(dfk_links "")
  file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/compat)
  foreach(name dfu-util dfu-suffix dfu-prefix dfuse-pack)
    file(CREATE_LINK dfukit ${PROJECT_BINARY_DIR}/compat/${name} SYMBOLIC)
    list(APPEND dfk_links ${PROJECT_BINARY_DIR}/compat/${name})
  endforeach()
  install(FILES ${dfk_links} DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
