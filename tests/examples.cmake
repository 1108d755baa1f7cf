# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The example programs, run against dfukit-emu (script in examples/).
dfk_script_test(example_flash ../examples/test_flash.sh examples)
