#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
"""Safety rules of dfukit against dfukit-emu, checked in the device's
memory file (alt 0 filled with a random pattern first):
  - no erase or write outside the segments/pages the image covers;
  - no mass erase or read unprotect without the force modifier;
  - no write into read-only segments without force;
  - an upload never overwrites an existing file unless --force, and never
    leaves a partial file on failure.
Usage: safety.py BUILD_DIR [CASE...]   (default: every case)
       safety.py --list                (the case names, one a line)"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402


class Case:
    def __init__(self, build, tmp, profile, faults=()):
        self.build = build
        self.work = tempfile.mkdtemp(dir=tmp)
        self.profile = profile
        self.base = fl.FLASH[profile][0]
        shutil.copyfile(fl.memory_template(build, profile, tmp), os.path.join(self.work, "mem.bin"))
        self.emu = fl.Emu(build, self.work, profile, faults=faults)
        self.emu.start()
        self.before = self.mem()

    def path(self, name):
        return os.path.join(self.work, name)

    def write(self, name, data):
        with open(self.path(name), "wb") as f:
            f.write(data)
        return self.path(name)

    def mem(self):
        with open(self.emu.mem, "rb") as f:
            return f.read()

    def run(self, *args):
        rc, out, err, dt, hung = fl.run_tool(self.build, self.emu.sock, fl.TOOL_DEADLINES + list(args), cwd=self.work)
        if hung:
            raise Failure("dfukit %s hung" % " ".join(args))
        if rc < 0:
            raise Failure("dfukit %s killed by signal %d" % (" ".join(args), -rc))
        if fl.SANITIZER_RE.search(err):
            raise Failure("dfukit %s: sanitizer report: %s" % (" ".join(args), fl.SANITIZER_RE.search(err).group(0)))
        self.last = (rc, out, err)
        return rc, out, err

    def expect_ok(self, *args):
        rc, out, err = self.run(*args)
        if rc != 0:
            raise Failure("dfukit %s: exit %d: %s" % (" ".join(args), rc, err.strip()[-600:]))

    def expect_fail(self, *args, codes=None):
        rc, out, err = self.run(*args)
        if rc == 0:
            raise Failure("dfukit %s succeeded; it must be refused" % " ".join(args))
        if rc not in fl.FAILURE_EXITS:
            raise Failure("dfukit %s: exit %d is not a failure code %s" %
                          (" ".join(args), rc, sorted(fl.FAILURE_EXITS)))
        if codes and rc not in codes:
            raise Failure("dfukit %s: exit %d, expected %s: %s" % (" ".join(args), rc, codes, err.strip()[-600:]))
        if len(fl.error_lines(err)) != 1:
            raise Failure("dfukit %s: expected one error line, got: %s" % (" ".join(args), err.strip()[-600:]))
        return err

    def unchanged_outside(self, allowed):
        bad = fl.diff_outside(self.before, self.mem(), allowed, self.base)
        if bad:
            raise Failure(bad)

    def holds(self, addr, data):
        off = addr - self.base
        if self.mem()[off:off + len(data)] != data:
            raise Failure("device memory at 0x%08X does not hold the image" % addr)

    def close(self):
        self.emu.stop()
        shutil.rmtree(self.work, ignore_errors=True)


class Failure(Exception):
    pass


def ihex(ranges):
    """Intel HEX text for [(addr, data)], with 04 extended linear address records."""
    def rec(t, addr, payload):
        b = bytes([len(payload), (addr >> 8) & 0xFF, addr & 0xFF, t]) + payload
        return ":" + b.hex().upper() + "%02X" % ((-sum(b)) & 0xFF)
    lines = []
    for base, data in ranges:
        hi = None
        for off in range(0, len(data), 16):
            a = base + off
            if a >> 16 != hi:
                hi = a >> 16
                lines.append(rec(4, 0, hi.to_bytes(2, "big")))
            lines.append(rec(0, a & 0xFFFF, data[off:off + 16]))
    lines.append(rec(1, 0, b""))
    return ("\n".join(lines) + "\n").encode()


# ---- no erase or write outside what the image covers ----

def raw_within_pages(c):
    """A raw image inside one 16 KiB sector changes that sector only."""
    fw = c.write("fw.bin", os.urandom(10000))
    c.expect_ok("-a", "0", "-s", "0x08004000", "-D", fw)
    c.holds(0x08004000, open(fw, "rb").read())
    c.unchanged_outside([(0x08004000, 0x08008000)])


def dfu_gap_untouched(c):
    """A .dfu with two elements and a gap: the sectors in the gap keep their data."""
    a, b = os.urandom(1000), os.urandom(1000)
    out = c.path("fw.dfu")
    subprocess.run([c.build.dfukit, "pack", "-b", "0x08000000:" + c.write("a.bin", a), "-b",
                    "0x0800C000:" + c.write("b.bin", b), out], check=True, stdout=subprocess.DEVNULL)
    c.expect_ok("-a", "0", "-D", out)
    c.holds(0x08000000, a)
    c.holds(0x0800C000, b)
    c.unchanged_outside([(0x08000000, 0x08004000), (0x0800C000, 0x08010000)])


def hex_small_pages(c):
    """Intel HEX with two ranges on 2 KiB pages: only the pages they touch change."""
    a, b = os.urandom(3000), os.urandom(100)
    fw = c.write("fw.hex", ihex([(0x08001000, a), (0x08006010, b)]))
    c.expect_ok("-a", "0", "-D", fw)
    c.holds(0x08001000, a)
    c.holds(0x08006010, b)
    c.unchanged_outside([(0x08001000, 0x08002000), (0x08006000, 0x08006800)])


def outside_map_refused(c):
    """An image reaching past the end of the flash is refused before any erase."""
    fw = c.write("fw.bin", os.urandom(8192))
    c.expect_fail("-a", "0", "-s", "0x080FF000", "-D", fw)
    c.unchanged_outside([])


# ---- mass erase and read unprotect need force ----

def mass_erase_needs_force(c):
    c.expect_fail("-a", "0", "-s", "0x08000000:mass-erase", codes=(64,))
    c.unchanged_outside([])


def unprotect_needs_force(c):
    c.expect_fail("-a", "0", "-s", "0x08000000:unprotect", codes=(64,))
    c.unchanged_outside([])


def mass_erase_with_force(c):
    """The counterpart: with force, the flash is erased (the test above can fail)."""
    c.expect_ok("-a", "0", "-s", "0x08000000:mass-erase:force")
    size = fl.FLASH[c.profile][1]
    if c.mem()[:size] != b"\xff" * size:
        raise Failure("mass erase with force did not erase the flash")
    c.unchanged_outside([(c.base, c.base + size)])


# ---- read-only segments ----

def loader_pages_refused(c):
    """The F103 loader's own 12 pages are type 'a' (read-only)."""
    fw = c.write("fw.bin", os.urandom(1024))
    err = c.expect_fail("-a", "0", "-s", "0x08000000", "-D", fw)
    if "0x08000000" not in err:
        raise Failure("the refusal does not name the address: %s" % err.strip())
    c.unchanged_outside([])


def loader_straddle_refused(c):
    """An image that starts in the read-only pages and runs into writeable
    ones is refused as a whole: not even its writeable part is written."""
    fw = c.write("fw.bin", os.urandom(2048))
    c.expect_fail("-a", "0", "-s", "0x08002C00", "-D", fw)
    c.unchanged_outside([])


def loader_after_pages_ok(c):
    """The counterpart: right after the loader, the download works."""
    data = os.urandom(2048)
    fw = c.write("fw.bin", data)
    c.expect_ok("-a", "0", "-s", "0x08003000", "-D", fw)
    c.holds(0x08003000, data)
    c.unchanged_outside([(0x08003000, 0x08003800)])


def otp_refused(c):
    """stm32f405 alt 2, the one-time-programmable area."""
    fw = c.write("otp.bin", os.urandom(32))
    c.expect_fail("-a", "2", "-s", "0x1FFF7800", "-D", fw)
    if c.mem() != c.before:
        raise Failure("the OTP (or other memory) changed")


# ---- upload files ----

def upload_no_overwrite(c):
    out = c.write("out.bin", b"precious")
    c.expect_fail("-a", "0", "-s", "0x08000000:4096", "-U", out, codes=(73,))
    if open(out, "rb").read() != b"precious":
        raise Failure("-U without --force changed the existing file")


def upload_force_overwrites(c):
    out = c.write("out.bin", b"precious")
    c.expect_ok("-a", "0", "-s", "0x08000000:4096", "-U", out, "--force")
    if open(out, "rb").read() != c.mem()[:4096]:
        raise Failure("-U --force did not replace the file with the device memory")


def upload_fault_no_file(c):
    out = c.path("out.bin")
    c.expect_fail("-a", "0", "-s", "0x08000000:32768", "-U", out)
    left = sorted(os.listdir(c.work))
    if "out.bin" in left or any(n.startswith("out.bin") or n.startswith(".out.bin") for n in left):
        raise Failure("a failed upload left files behind: %s" % left)


def upload_fault_keeps_old(c):
    out = c.write("out.bin", b"precious")
    c.expect_fail("-a", "0", "-s", "0x08000000:32768", "-U", out, "--force")
    if open(out, "rb").read() != b"precious":
        raise Failure("a failed -U --force damaged the existing file")
    left = sorted(n for n in os.listdir(c.work) if "out" in n)
    if left != ["out.bin"]:
        raise Failure("a failed upload left files behind: %s" % left)


CASES = [
    ("raw_within_pages", "stm32f405", (), raw_within_pages),
    ("dfu_gap_untouched", "stm32f405", (), dfu_gap_untouched),
    ("hex_small_pages", "stm32l476", (), hex_small_pages),
    ("outside_map_refused", "stm32f405", (), outside_map_refused),
    ("mass_erase_needs_force", "stm32f405", (), mass_erase_needs_force),
    ("unprotect_needs_force", "stm32f405", (), unprotect_needs_force),
    ("mass_erase_with_force", "stm32f405", (), mass_erase_with_force),
    ("loader_pages_refused", "stm32f103-flash-loader", (), loader_pages_refused),
    ("loader_straddle_refused", "stm32f103-flash-loader", (), loader_straddle_refused),
    ("loader_after_pages_ok", "stm32f103-flash-loader", (), loader_after_pages_ok),
    ("otp_refused", "stm32f405", (), otp_refused),
    ("upload_no_overwrite", "stm32f405", (), upload_no_overwrite),
    ("upload_force_overwrites", "stm32f405", (), upload_force_overwrites),
    ("upload_fault_no_file", "stm32f405", ("stall@upblock=5",), upload_fault_no_file),
    ("upload_fault_keeps_old", "stm32f405", ("disconnect@upblock=5",), upload_fault_keeps_old),
]


# Cases that fail today because of the tool or the engine, with why; they
# are reported as XFAIL and do not fail the test (XPASS: remove the entry).
KNOWN = {}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "--list":
        for name, _, _, _ in CASES:
            print(name)
        return
    build = fl.Build(sys.argv[1])
    want = set(sys.argv[2:])
    tmp = tempfile.mkdtemp(prefix="dfukit-safety-")
    failed = ran = xfailed = 0
    try:
        for name, profile, faults, fn in CASES:
            if want and name not in want:
                continue
            ran += 1
            c = None
            try:
                c = Case(build, tmp, profile, faults)
                fn(c)
                print("%s %s" % ("XPASS (remove it from KNOWN)" if name in KNOWN else "PASS", name))
            except (Failure, RuntimeError, subprocess.CalledProcessError) as e:
                if name in KNOWN:
                    print("XFAIL %s (%s): %s [known: %s]" % (name, profile, e, KNOWN[name]))
                    xfailed += 1
                else:
                    failed += 1
                    print("FAIL %s (%s): %s" % (name, profile, e))
            finally:
                if c:
                    c.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("safety: %d cases, %d passed, %d failed, %d known failures" % (ran, ran - failed - xfailed, failed, xfailed))
    sys.exit(1 if failed or not ran else 0)


if __name__ == "__main__":
    main()
