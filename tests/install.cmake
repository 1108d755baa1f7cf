# cmake --install and what a user does with the installed tree (label install).
dfk_script_test(install install/install.sh install)
set_tests_properties(install PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)
