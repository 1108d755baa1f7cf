# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit capture: devices served by dfukit-emu captured, served again from
# the capture and compared (-l lines, raw descriptors, a second capture).
dfk_scenario_tests(capture capture/roundtrip.sh "capture;emu;cli")
