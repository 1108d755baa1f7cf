#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The fidelity table of a tests/vm/guest-zoo.sh run: one row per device, what
# dfu-util 0.11 and dfukit did with it (-l lines equal, download, upload,
# leave), from the guest's "@@ZOO" and "@@ZOOMSG" lines.
# Usage: zoo-table.sh GUEST_LOG
set -euo pipefail
echo "| device | \`-l\` lines | dfu-util 0.11: download, upload, leave | dfukit: download, upload, leave |"
echo "|---|---|---|---|"
awk '
function cell(d, tool,   s, j, job, r) {
	s = ""
	for (j = 1; j <= 3; j++) {
		job = jobs[j]
		if (!((d, job, tool) in rc)) { r = "not run" }
		else if (rc[d, job, tool] == 0 && mem[d, job, tool] != "differ" && after[d, job, tool] !~ /still-there|missing/ &&
			 content[d, tool] != "differ" || 0) {
			r = "ok"
			if (job == "download" && mem[d, job, tool] == "match") r = "ok (memory checked)"
			if (job == "upload" && content[d, tool] == "match") r = "ok (data checked)"
			if (job == "leave" && after[d, job, tool] != "-") r = "ok (" after[d, job, tool] ")"
		} else {
			r = "**exit " rc[d, job, tool] "**"
			if (mem[d, job, tool] == "differ") r = r ", memory wrong"
			if (job == "upload" && content[d, tool] == "differ") r = r ", data wrong"
			if (after[d, job, tool] ~ /still-there|missing/) r = r ", device " after[d, job, tool]
			if (msg[d, job, tool] != "") r = r ": " msg[d, job, tool]
		}
		s = s (j > 1 ? "; " : "") job " " r
	}
	return s
}
BEGIN { jobs[1] = "download"; jobs[2] = "upload"; jobs[3] = "leave" }
$1 == "@@ZOO" && $3 == "list" { if (!($2 in seen)) { seen[$2] = 1; order[n++] = $2 }
	list[$2] = ($NF == "same" ? "same" : "**differ**"); next }
$1 == "@@ZOO" && $3 == "upload-content" { content[$2, $4] = $5; next }
$1 == "@@ZOO" {
	d = $2; job = $3; tool = $4
	if (!(d in seen)) { seen[d] = 1; order[n++] = d }
	for (i = 5; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	rc[d, job, tool] = v["rc"]; mem[d, job, tool] = v["mem"]; after[d, job, tool] = v["after"]
	next
}
$1 == "@@ZOOMSG" {
	m = $0; sub(/^@@ZOOMSG [^ ]+ [^ ]+ [^ ]+ ?/, "", m); gsub(/\|/, "/", m)
	msg[$2, $3, $4] = m
}
END {
	for (i = 0; i < n; i++) {
		d = order[i]
		printf "| %s | %s | %s | %s |\n", d, (d in list) ? list[d] : "not run", cell(d, "dfu-util"), cell(d, "dfukit")
	}
}' "$1"
