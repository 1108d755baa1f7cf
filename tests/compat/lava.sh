# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# LAVA's DFU boot method runs dfu-util once per image and judges by its
# stdout: success only when it holds "No error condition is present\nDone!\n"
# ("as dfu-util can return 0 in case of errors"), and an empty output fails.
# Source: Linaro/lava at commit 07edb227921c744c2d8e93468b3333c40f3bc2a4,
# lava_dispatcher/actions/boot/dfu.py (FlashDFUAction): the command is
#   <parameters.command> [<parameters.options>...] --serial <board_id>
#     --device <usb_vendor_id>:<usb_product_id> <image_arg> [--reset]
# with --reset appended to the last image's command (reset_works defaults to
# true); the device type sets command: dfu-util
# (etc/dispatcher-config/device-types/arduino101.jinja2 at commit
# 79dfe75d5f88086159d1883d0b38461af546eccb) and the job's images give
# image_arg: --alt x86_app --download {app} (an alt setting by name).
# Here: dfukit under the dfu-util name, dfukit-emu's plain DFU 1.1 device
# (run-time 1209:df10, DFU mode 1209:df11, one alt named "Flash").
. "$(dirname "$0")/lib.sh" "$1"

LAVA_OK='No error condition is present\nDone!\n'

# board: a fresh dfu11 listed; serial and vidpid of its run-time
# interface; then a fresh board again (-l leaves it in run-time mode
# anyway); app.bin and app2.bin made.
board() {
	fresh_emu dfu11
	expect 0 -l
	serial=$(grep '^Found Runtime' "$TMP/out" | head -1 | sed -E 's/.* serial="([^"]*)".*/\1/')
	vidpid=$(grep '^Found Runtime' "$TMP/out" | head -1 | sed -E 's/.*\[([0-9a-f:]+)\].*/\1/')
	[ "$vidpid" = 1209:df10 ] || fail "unexpected run-time IDs $vidpid"
	fresh_emu dfu11
	rand_file "$TMP/app.bin" 30000
	rand_file "$TMP/app2.bin" 12000
}

# lava_cmd IMAGE_ARG...: the command line FlashDFUAction builds.
lava_cmd() { run --serial "$serial" --device "$vidpid" "$@"; }

# Two images, as a job with two deploy images: the first without --reset,
# the last with it. Each must print LAVA's success text.
t_two_images() {
	board
	lava_cmd --alt Flash --download "$TMP/app.bin"
	[ "$RC" = 0 ] || fail "image 1: exit $RC: $(head -c 300 "$TMP/err")"
	out_seq "$LAVA_OK"
	mem_check 0 "$TMP/app.bin" 0
	lava_cmd --alt Flash --download "$TMP/app2.bin" --reset
	[ "$RC" = 0 ] || fail "image 2 (--reset): exit $RC: $(head -c 300 "$TMP/err")"
	out_seq "$LAVA_OK"
	mem_check 0 "$TMP/app2.bin" 0
}

# The options list of the device dictionary goes before --serial.
t_options_first() {
	board
	run -v --serial "$serial" --device "$vidpid" --alt 0 --download "$TMP/app.bin" --reset
	[ "$RC" = 0 ] || fail "with options: exit $RC"
	out_seq "$LAVA_OK"
}

# Failures LAVA must catch from the text: no success text, non-zero exit.
# A device error during the download,
t_fail_device_error() {
	board
	fresh_emu dfu11 --fault status=errWRITE@dnblock=3
	lava_cmd --alt Flash --download "$TMP/app.bin" --reset
	[ "$RC" != 0 ] || fail "errWRITE: exit 0"
	no_seq "$LAVA_OK"
	no_out '^Done!$'
}
# another board's serial (LAVA's board_id),
t_fail_wrong_serial() {
	board
	run --serial "not-$serial" --device "$vidpid" --alt Flash --download "$TMP/app.bin" --reset
	[ "$RC" = 74 ] || fail "wrong serial: exit $RC, expected 74"
	no_seq "$LAVA_OK"
}
# an alt name the device does not have.
t_fail_unknown_alt() {
	board
	run --serial "$serial" --device "$vidpid" --alt x86_app --download "$TMP/app.bin" --reset
	[ "$RC" != 0 ] || fail "unknown alt name: exit 0"
	no_seq "$LAVA_OK"
}

run_scenarios "${@:2}"
