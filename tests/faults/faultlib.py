# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
"""Shared helpers for the fault and safety tests: a dfukit-emu per case on a
Unix socket in its own temporary directory, with a memory file prepared
beforehand, and dfukit run against it under a hard outer deadline.

The device memory is checked directly in the emulator's --memory file (the
memories of every alt setting back to back, alt 0 first, no header), never
through dfukit, so that a tool bug cannot hide itself."""

import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time

# The tool's own deadlines are shortened so that a stuck device is given up
# on quickly; the outer deadline is what a hang is measured against.
TOOL_DEADLINES = ["--usb-timeout", "1000", "--timeout", "2000", "--poll-cap", "200"]
OUTER_DEADLINE_S = 20.0
# A job that gives up later than this has not kept to its own deadlines: a
# few control transfers timing out (1 s each) or one status wait (2 s).
TOOL_BUDGET_S = 10.0

# Size of alt 0 (the flash) in the memory file, per profile: what the fault
# tests fill with a pattern before a job. Base address of alt 0.
FLASH = {
    "stm32f405": (0x08000000, 1024 * 1024),
    "stm32f103-flash-loader": (0x08000000, 128 * 1024),
    "stm32l476": (0x08000000, 1024 * 1024),
    "dfu11": (0, 128 * 1024),
}

# Where the fault tests' memory holds an application to leave to.
APP_VECTORS = {"stm32f103-flash-loader": (0x08003000, 0x20005000, 0x08003101)}

SUCCESS_RE = re.compile(r"Download done|downloaded successfully|Upload done|DfuSe command.* done|"
                        r"Detached:|Device reset|\"result\":\"ok\"")


# sysexits as dfu-util uses them; 70 (internal error) is a bug, not an answer.
FAILURE_EXITS = {64, 65, 66, 73, 74, 76}
SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer.*|ERROR: LeakSanitizer.*|runtime error:.*")


class Build:
    def __init__(self, build_dir):
        self.dir = os.path.abspath(build_dir)
        self.dfukit = os.path.join(self.dir, "dfukit")
        self.emu = os.path.join(self.dir, "dfukit-emu")
        for p in (self.dfukit, self.emu):
            if not os.access(p, os.X_OK):
                raise SystemExit("missing %s (build it first)" % p)


class Emu:
    """One dfukit-emu process serving unix:DIR/emu.sock with DIR/mem.bin."""

    def __init__(self, build, workdir, profile, faults=(), timing="fast", extra=()):
        self.build = build
        self.dir = workdir
        self.profile = profile
        self.sock = os.path.join(workdir, "emu.sock")
        self.mem = os.path.join(workdir, "mem.bin")
        self.stats = os.path.join(workdir, "stats.json")
        self.log = os.path.join(workdir, "emu.log")
        self.args = [build.emu, "--profile", profile, "--listen", "unix:" + self.sock, "--memory", self.mem,
                     "--timing", timing, "--stats", self.stats]
        for f in faults:
            self.args += ["--fault", f]
        self.args += list(extra)
        self.proc = None

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.args, stdout=logf, stderr=logf)
        logf.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            # The socket file appears at bind(), before listen(): wait for
            # the line the emulator prints when it accepts connections.
            if os.path.exists(self.sock) and "listening on" in self.log_text():
                return
            if self.proc.poll() is not None:
                raise RuntimeError("dfukit-emu %s did not start: %s" % (" ".join(self.args[1:]), self.log_text()))
            time.sleep(0.01)
        self.stop()
        raise RuntimeError("dfukit-emu made no socket %s" % self.sock)

    def stop(self):
        """SIGTERM (the emulator then writes its stats), SIGKILL if it lingers."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def last_stats(self):
        """The statistics of device 1-1 from the --stats file ({"devices": {"1-1": {...}}},
        replaced at every host disconnect and at exit)."""
        try:
            with open(self.stats) as f:
                text = f.read()
        except OSError:
            return None
        objs = []
        dec = json.JSONDecoder()
        i = 0
        while i < len(text):
            while i < len(text) and text[i] in " \t\r\n":
                i += 1
            if i >= len(text):
                break
            try:
                obj, i = dec.raw_decode(text, i)
            except ValueError:
                break
            objs.append(obj)
        if not objs:
            return None
        return objs[-1].get("devices", {}).get("1-1")


def memory_template(build, profile, cache_dir, seed=1):
    """A memory file for profile with alt 0 filled with a pseudo-random
    pattern (everything else as a fresh device has it), made once."""
    path = os.path.join(cache_dir, "template-%s.bin" % profile)
    if os.path.exists(path):
        return path
    work = tempfile.mkdtemp(dir=cache_dir)
    emu = Emu(build, work, profile)
    emu.start()
    emu.stop()
    with open(emu.mem, "rb") as f:
        data = bytearray(f.read())
    base, size = FLASH[profile]
    if size > len(data):
        raise RuntimeError("memory file of %s has %d bytes, less than its flash" % (profile, len(data)))
    rnd = random.Random(seed)
    data[0:size] = rnd.randbytes(size)
    if profile in APP_VECTORS:
        # A valid vector table (initial SP in SRAM), so that leave starts an
        # application there rather than staying in the loader.
        addr, sp, pc = APP_VECTORS[profile]
        data[addr - base:addr - base + 8] = struct.pack("<II", sp, pc)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    shutil.rmtree(work, ignore_errors=True)
    return path


def run_tool(build, sock, args, deadline=OUTER_DEADLINE_S, cwd=None, wrapper=(), env_extra=None):
    """Runs dfukit against the emulator; returns (rc, out, err, seconds, hung)."""
    env = dict(os.environ)
    env.pop("DFUKIT_USBIP", None)
    if env_extra:
        env.update(env_extra)
    cmd = list(wrapper) + [build.dfukit, "--usbip", "unix:" + sock] + list(args)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
                         start_new_session=True)
    hung = False
    try:
        out, err = p.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        hung = True
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
    dt = time.monotonic() - t0
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), dt, hung


def diff_outside(before, after, allowed, base):
    """First offset (as a device address) where before and after differ
    outside the allowed [start, end) address ranges of alt 0, or None.
    Everything past alt 0 (other alts) must be equal too."""
    if len(before) != len(after):
        return "memory file changed size (%d -> %d)" % (len(before), len(after))
    spans = sorted((max(0, s - base), max(0, e - base)) for s, e in allowed)
    pos = 0
    for s, e in spans + [(len(before), len(before))]:
        s = min(s, len(before))
        if before[pos:s] != after[pos:s]:
            i = pos + next(k for k in range(s - pos) if before[pos + k] != after[pos + k])
            return "memory changed at 0x%08X (offset %d), outside what the job may touch" % (base + i, i)
        pos = max(pos, min(e, len(before)))
    return None


def error_lines(err):
    """The tool's error lines: 'dfukit: ...' on stderr that are not warnings
    or hints (what the user can do about the error, after it)."""
    return [l for l in err.splitlines()
            if l.startswith("dfukit: ") and not l.startswith(("dfukit: warning:", "dfukit: hint:"))]


def has_control_chars(text):
    return any((ord(c) < 0x20 and c not in "\n\t") or ord(c) == 0x7F for c in text)


def format_table(title, rows, cols, cells):
    """rows x cols table of short strings; cells maps (row, col) to text."""
    w0 = max([len(title)] + [len(r) for r in rows])
    widths = [max([len(c)] + [len(cells.get((r, c), "")) for r in rows]) for c in cols]
    lines = [title.ljust(w0) + " | " + " | ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines.append("-" * len(lines[0]))
    for r in rows:
        lines.append(r.ljust(w0) + " | " + " | ".join(cells.get((r, c), "").ljust(w) for c, w in zip(cols, widths)))
    return "\n".join(lines)
