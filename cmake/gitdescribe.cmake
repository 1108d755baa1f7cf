# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# `git describe` of the source tree at configure time, for `dfukit -V`:
# ${DFUKIT_GEN_DIR}/dfukit_build_info.h defines DFUKIT_GIT_DESCRIBE, which is
# the plain version when the sources are not a git checkout (a release
# tarball, a Debian source package) or git is missing. Re-run cmake to
# refresh it after new commits.
set(DFUKIT_GIT_DESCRIBE "${PROJECT_VERSION}")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  execute_process(
    COMMAND ${GIT_EXECUTABLE} describe --tags --always --dirty
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    OUTPUT_VARIABLE _dfk_describe
    OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _dfk_rc
    ERROR_QUIET)
  if(_dfk_rc EQUAL 0 AND NOT _dfk_describe STREQUAL "")
    set(DFUKIT_GIT_DESCRIBE "${_dfk_describe}")
  endif()
endif()
set(DFUKIT_GEN_DIR ${PROJECT_BINARY_DIR}/generated)
configure_file(${CMAKE_CURRENT_LIST_DIR}/dfukit_build_info.h.in ${DFUKIT_GEN_DIR}/dfukit_build_info.h @ONLY)
