# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Issue 14, a production station: --all on many devices at once
# (tests/station/*.sh) against dfukit-emu servers of several devices each,
# and farms of several servers (--usbip repeated).
dfk_scenario_tests(station_all station/all.sh station)
dfk_scenario_tests(station_farm station/farm.sh station)
dfk_scenario_tests(station_watch station/watch.sh station)
