# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Scenarios of a test script: each is a function t_NAME() { ... } defined at
# the start of a line in the script, self-contained (its own device, its own
# files), so that CTest runs each as its own test (dfk_scenario_tests in
# tests/CMakeLists.txt). Sourced first by the helpers (tests/cli/lib.sh,
# tests/files/lib.sh, tests/emu/lib.sh) with the script's first argument:
#
#   script.sh --list               the scenario names, one a line
#   script.sh BUILD_DIR [NAME...]  runs the named scenarios, or all in order
#
# The script ends with: run_scenarios "${@:2}"

# scenario_names: t_* functions of the script, in the order written.
scenario_names() {
	grep -oE '^t_[A-Za-z0-9_]+[[:space:]]*\(\)' "$0" | sed -E 's/^t_//; s/[[:space:]]*\(\)$//'
}

if [ "${1:-}" = --list ]; then
	names=$(scenario_names)
	[ -n "$names" ] || { echo "$0: no scenarios (t_NAME functions)" >&2; exit 1; }
	dups=$(printf '%s\n' "$names" | sort | uniq -d)
	[ -z "$dups" ] || { echo "$0: scenarios defined twice: $dups" >&2; exit 1; }
	printf '%s\n' "$names"
	exit 0
fi

# run_scenarios [NAME...]: runs each named scenario (all without names),
# then finish (the helper's: exit status from the checks).
run_scenarios() {
	local n
	local names=("$@")
	[ ${#names[@]} -gt 0 ] || mapfile -t names < <(scenario_names)
	[ ${#names[@]} -gt 0 ] || { echo "$0: no scenarios" >&2; exit 1; }
	for n in "${names[@]}"; do
		if ! declare -F "t_$n" >/dev/null; then
			echo "$0: no scenario '$n' (--list names them)" >&2
			exit 2
		fi
	done
	for n in "${names[@]}"; do
		echo "== $n"
		"t_$n"
	done
	finish
}
