#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit-emu's command line: --help, --list-profiles, --version, usage
# errors (exit 64 with a message), TCP listening with port 0, --serial.
. "$(dirname "$0")/lib.sh" "$1"

t_help() {
	help=$("$EMU" --help)
	expect_eq "--help exit status" "$?" 0
	for opt in --profile --count --listen unix:PATH --memory --timing --fault --stats --serial --attach-vhci --list-profiles 'Fault SPEC' control_transfers busy_ms erased_pages; do
		expect_match "--help documents $opt" "$help" "$opt"
	done
}

t_list_profiles() {
	profiles=$("$EMU" --list-profiles)
	expect_eq "--list-profiles exit status" "$?" 0
	for p in stm32f405 stm32f103-flash-loader stm32l476 stm32h743 dfu11; do
		expect_match "profile $p listed" "$profiles" "^$p "
	done
}

t_version() {
	expect_match "--version" "$("$EMU" --version)" '^dfukit-emu [0-9]+\.[0-9]+'
}

# usage_error EXPECTED-MESSAGE ARGS...
usage_error() {
	local msg=$1
	shift
	"$EMU" "$@" >"$T/out" 2>"$T/err"
	local st=$?
	expect_eq "exit status of dfukit-emu $*" "$st" 64
	expect_match "message of dfukit-emu $*" "$(cat "$T/err")" "$msg"
}

t_usage_errors() {
	usage_error '--profile NAME is required'
	usage_error '--profile NAME is required' --listen unix:"$T/s"
	usage_error 'unknown option --bogus' --profile stm32f405 --bogus
	usage_error 'needs an argument' --profile
	usage_error '--timing takes fast or real, not "slow"' --profile stm32f405 --timing slow
	usage_error 'unexpected argument "extra"' --profile stm32f405 extra
	usage_error 'nosuch' --profile nosuch --listen unix:"$T/s"
	usage_error 'exclude each other' --profile stm32f405 --attach-vhci --listen 127.0.0.1:0
	many=()
	for i in $(seq 1 33); do many+=(--fault "stall@req=$i"); done
	usage_error 'too many --fault' --profile stm32f405 "${many[@]}"
}

# A bad listen address is an I/O error with the address named.
t_bad_listen_address() {
	"$EMU" --profile stm32f405 --listen nonsense 2>"$T/err"
	expect_eq "bad listen address exit status" "$?" 74
	expect_match "bad listen address message" "$(cat "$T/err")" 'bad listen address "nonsense"'
	check "nothing left listening" test ! -e "$T/s"
}

# TCP with port 0: the ready line gives the port actually bound.
t_tcp_port0_serial() {
	"$EMU" --profile dfu11 --listen 127.0.0.1:0 --serial "TEST-SERIAL-42" 2>"$T/tcp.log" &
	EMU_PID=$!
	port=
	for i in $(seq 1 200); do
		port=$(sed -n 's/^dfukit-emu: dfu11 listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$T/tcp.log")
		[ -n "$port" ] && break
		sleep 0.05
	done
	check "TCP ready line" test -n "$port"
	if [ -n "$port" ]; then
		ADDR="127.0.0.1:$port"
		out=$(probe list)
		expect_match "devlist over TCP" "$out" '^status=0 devices=1$'
		dev=$(run_script 'in 80 06 0100 0000 0012')
		dd=$(printf '%s\n' "$dev" | sed -n 's/^status=0 len=18 data=//p')
		iserial=$((16#${dd:32:2}))
		check "device has a serial string" test "$iserial" -ne 0
		str=$(run_script "in 80 06 03$(printf '%02x' "$iserial") 0409 00ff" | tail -1)
		want=$(printf 'TEST-SERIAL-42' | od -An -tx1 -v | tr -d ' \n' | sed 's/\(..\)/\100/g')
		expect_match "--serial string (UTF-16LE)" "$str" "^status=0 len=30 data=1e03$want\$"
	fi
	stop_emu INT
	expect_eq "exit status on SIGINT" "$EMU_STATUS" 0
}

run_scenarios "${@:2}"
