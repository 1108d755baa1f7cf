# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Man pages and shell completion keep up with the programs' options (label docs).
dfk_script_test(docs_options docs/options_documented.sh docs)
