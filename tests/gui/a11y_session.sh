#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Runs a command inside a headless desktop session with an accessibility
# bus: Xvfb (xvfb-run), a D-Bus session, the AT-SPI bus launcher, and the
# toolkit-accessibility setting dogtail insists on.
# Usage: a11y_session.sh COMMAND [ARGS...]
set -euo pipefail
if [ -z "${DFUKIT_A11Y_INNER:-}" ]; then
	export DFUKIT_A11Y_INNER=1
	exec xvfb-run -a -s "-screen 0 1280x1600x24" dbus-run-session -- "$0" "$@"
fi
export GSK_RENDERER=cairo GTK_A11Y=atspi NO_AT_BRIDGE=0 GDK_BACKEND=x11
/usr/libexec/at-spi-bus-launcher --launch-immediately &
LAUNCHER=$!
trap 'kill $LAUNCHER 2>/dev/null || true' EXIT
gsettings set org.gnome.desktop.interface toolkit-accessibility true
sleep 0.5
"$@"
