# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# cmake --install and what a user does with the installed tree (label install).
# Not in sanitizer builds: programs built outside CMake against an
# instrumented libdfukit.so would need the sanitizer runtime preloaded.
if(NOT DFUKIT_SANITIZE)
  dfk_script_test(install install/install.sh install)
  set_tests_properties(install PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)
endif()
