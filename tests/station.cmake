# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Issue 14, a production station: --all on many devices at once
# (tests/station/*.sh) against one dfukit-emu serving several devices.
dfk_scenario_tests(station_all station/all.sh station)
