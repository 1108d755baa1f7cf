# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Source checks that need no build (python3 is required by faults.cmake):
# library messages name no command-line option (tests/lint/lib_messages.sh,
# which first checks that it finds a planted one).
dfk_script_test(lib_messages lint/lib_messages.sh lint)
