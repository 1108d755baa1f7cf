# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Issue 13, "tell the truth": each item's scenario against dfukit-emu over
# USB/IP (tests/truth/*.sh).
dfk_script_test(truth_verified truth/verified.sh flash)
dfk_script_test(truth_output_kinds truth/output_kinds.sh flash)
dfk_script_test(truth_platformio_ids truth/platformio_ids.sh flash)
dfk_script_test(truth_detach_dfu_mode truth/detach_dfu_mode.sh flash)
dfk_script_test(truth_leave truth/leave.sh flash)
dfk_script_test(truth_signals truth/signals.sh flash)
dfk_script_test(truth_skipped_devices truth/skipped_devices.sh flash)
dfk_script_test(truth_trace truth/trace.sh flash)
