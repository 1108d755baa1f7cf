#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
"""The fault matrix: each operation of dfukit against dfukit-emu with each
injected fault at the beginning, the middle and the end of the job.

Usage: matrix.py [--json] BUILD_DIR [OPERATION...]   (default: every operation)
Operations: download-raw download-dfu upload leave detach mass-erase
download-plain list
Environment: DFUKIT_FAULT_JOBS (parallel cells, default 4).

Where the faults go: a fault-free run of the operation first (it must
succeed, or the matrix would be testing nothing) gives from the emulator's
--stats the number of control transfers T and of standard requests S
(enumeration, SET_INTERFACE), which all come before the DFU requests of
the job. Then begin = req S+1 (the job's first DFU request), end = req T
(its last), middle = half way; status and short-reply faults at the end of
a job that reads go on its last UPLOAD (upblock=N), else on request T-1,
since nothing is read or executed after the last request. Hostile descriptors (desc=NAME) are always
on, so they are one cell per operation. Cells where the fault cannot
happen are "n/a": status and busy faults in jobs that send no GETSTATUS
(detach from run-time mode, list), a short reply after the last read, and
a device that vanishes or goes silent right after the leave request
(that is what leaving looks like).

With --json, dfukit runs with --json for a sample of the faults and the
same checks apply to its single final result object (result, exit, message).

A cell passes when dfukit
  - ends within the outer deadline (its own deadlines shortened with
    --usb-timeout/--timeout/--poll-cap), is not killed by a signal and
    prints no sanitizer report, and the emulator is still running;
  - exits with a failure code (64, 65, 66, 73, 74 or 76; not 70, an
    internal error) printing no success line, with exactly one error line
    that names the step (download/erase/write/verify/read/leave/detach...)
    and, for DfuSe jobs other than a mass erase, a 0x######## address,
    and for an injected status fault that status's name (errWRITE...);
  - leaves the device memory outside what the job was asked to touch
    unchanged (alt 0 is filled with a random pattern first; the other
    alts must not change at all), and no new file (for an upload, no
    output file and no temporary file);
  - prints no control characters (device strings are sanitised).
A device that stalls once, reports an error status once or sends one short
reply may be recovered from: exit 0 is then accepted ("rec" in the table)
only when the result is checked correct in the device memory or the
uploaded file. A device that vanishes, hangs or stays busy can never give
a confirmed success. `dfukit -l` may list nothing (exit 0) for a faulty
device, as dfu-util does; it must still not hang, crash or print control
characters. Failures listed in known_failures.txt (tool or engine
defects found by this matrix) are shown as "xfail" and do not fail the
test; a line that matches no failing cell is reported as XPASS.
"""

import concurrent.futures
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402

STATUSES = ["errTARGET", "errFILE", "errWRITE", "errERASE", "errCHECK_ERASED", "errPROG", "errVERIFY",
            "errADDRESS", "errNOTDONE", "errFIRMWARE", "errVENDOR", "errUSBR", "errPOR", "errUNKNOWN",
            "errSTALLEDPKT"]
KINDS = ["stall"] + ["status=" + s for s in STATUSES] + ["busy", "disconnect", "short", "timeout"]
NEVER_RECOVERABLE = {"busy", "disconnect", "timeout"}
POSITIONS = ["begin", "middle", "end"]
DESCS = ["str-long", "str-badlen", "str-odd", "memmap-garbage", "memmap-overflow", "memmap-empty", "xfer0",
         "xfer65535", "func-badlen", "func-missing", "total-long", "total-short", "blen0", "dev-badlen"]

# --json: the same checks on the final result object, for a sample of faults.
JSON_KINDS = ["stall", "status=errWRITE", "busy", "disconnect", "short", "timeout"]
JSON_DESCS = ["str-long", "memmap-garbage", "xfer0"]

ADDR_RE = re.compile(r"0x[0-9A-Fa-f]{8}")
STD_REQUESTS = ["GET_STATUS", "CLEAR_FEATURE", "SET_FEATURE", "SET_ADDRESS", "GET_DESCRIPTOR", "SET_DESCRIPTOR",
                "GET_CONFIGURATION", "SET_CONFIGURATION", "GET_INTERFACE", "SET_INTERFACE", "SYNCH_FRAME"]


class Op:
    def __init__(self, name, profile, words, allowed, dfuse=True, must_fail_descs=()):
        self.name = name
        self.profile = profile
        self.words = re.compile(words, re.I)
        self.allowed = allowed  # address ranges the job may change
        self.dfuse = dfuse
        self.must_fail_descs = set(must_fail_descs)

    def setup(self, work):
        """Writes the input files; returns the dfukit arguments."""
        raise NotImplementedError

    def check_success(self, work, mem):
        """On exit 0: None when the result is right, else what is wrong."""
        return "reported success but the result cannot be confirmed"

    def confirm(self, build, sock, work):
        """On exit 0, while the device still runs: a check through the
        device itself (for jobs whose result is not in its memory)."""
        return None

    def applicable(self, kind, position, base_stats):
        """False for cells where the fault cannot fire in this job: status
        and busy faults act on GETSTATUS, which some jobs never send."""
        req = base_stats.get("requests", base_stats)
        return not ((kind.startswith("status=") or kind == "busy") and not int(req.get("GETSTATUS", 0)))


BROKEN_MAPS = ["memmap-garbage", "memmap-overflow", "memmap-empty"]
BROKEN_CONFIG = ["total-short", "blen0"]


class DownloadRaw(Op):
    def __init__(self):
        # 10000 bytes at 0x08004000: the 16 KiB sector 0x08004000-0x08007FFF.
        super().__init__("download-raw", "stm32f405", r"download|eras|writ|program|verif|address|read",
                         [(0x08004000, 0x08008000)], must_fail_descs=BROKEN_MAPS + BROKEN_CONFIG + ["xfer0"])

    def setup(self, work):
        with open(os.path.join(work, "fw.bin"), "wb") as f:
            f.write(os.urandom(10000))
        return ["-a", "0", "-s", "0x08004000", "-D", os.path.join(work, "fw.bin")]

    def check_success(self, work, mem):
        fw = open(os.path.join(work, "fw.bin"), "rb").read()
        off = 0x4000
        return None if mem[off:off + len(fw)] == fw else "exit 0 but the flash at 0x08004000 does not hold the image"


class DownloadDfu(Op):
    def __init__(self, build):
        super().__init__("download-dfu", "stm32f405", r"download|eras|writ|program|verif|address|read|target",
                         [(0x08004000, 0x0800C000)], must_fail_descs=BROKEN_MAPS + BROKEN_CONFIG + ["xfer0"])
        self.build = build

    def setup(self, work):
        a, b = os.urandom(3000), os.urandom(3000)
        for n, d in (("a.bin", a), ("b.bin", b)):
            with open(os.path.join(work, n), "wb") as f:
                f.write(d)
        out = os.path.join(work, "fw.dfu")
        subprocess.run([self.build.dfukit, "pack", "-b", "0x08004000:" + os.path.join(work, "a.bin"), "-b",
                        "0x08008000:" + os.path.join(work, "b.bin"), out], check=True, stdout=subprocess.DEVNULL)
        return ["-a", "0", "-D", out]

    def check_success(self, work, mem):
        for name, off in (("a.bin", 0x4000), ("b.bin", 0x8000)):
            d = open(os.path.join(work, name), "rb").read()
            if mem[off:off + len(d)] != d:
                return "exit 0 but the flash at 0x%08X does not hold %s" % (0x08000000 + off, name)
        return None


class Upload(Op):
    def __init__(self):
        super().__init__("upload", "stm32f405", r"upload|read", [], must_fail_descs=BROKEN_CONFIG + ["xfer0"])

    def setup(self, work):
        return ["-a", "0", "-s", "0x08000000:32768", "-U", os.path.join(work, "out.bin")]

    def check_success(self, work, mem):
        try:
            got = open(os.path.join(work, "out.bin"), "rb").read()
        except OSError:
            return "exit 0 but no output file"
        return None if got == mem[:32768] else "exit 0 but the uploaded file differs from the device memory"


class Leave(Op):
    def __init__(self):
        super().__init__("leave", "stm32f103-flash-loader", r"leav|address", [],
                         must_fail_descs=BROKEN_CONFIG + ["xfer0"])

    def setup(self, work):
        # The job ends with the leave request. dfukit's look at the bus
        # afterwards (--leave-watch: the application enumerating) is not
        # the job's, and its descriptor requests would move the fault
        # positions (they assume enumeration first, then DFU requests) past
        # the leave; confirm() checks with -l that the application runs.
        return ["-a", "0", "-s", "0x08003000:leave", "--leave-watch", "0"]

    def check_success(self, work, mem):
        return None

    def applicable(self, kind, position, base_stats):
        # A device that vanishes or stops answering right after the leave
        # request is what leaving looks like (a real ROM resets at once):
        # success there is right, not a fault to detect.
        if position == "end" and kind in ("disconnect", "timeout"):
            return False
        return super().applicable(kind, position, base_stats)

    def confirm(self, build, sock, work):
        # The loader's leave starts the application, which shows a run-time
        # DFU interface under another PID.
        return listed(build, sock, "Found Runtime: [0483:5740]", "the device is not running the application")


class Detach(Op):
    def __init__(self):
        super().__init__("detach", "dfu11", r"detach|descriptor|device", [], dfuse=False,
                         must_fail_descs=BROKEN_CONFIG)

    def setup(self, work):
        return ["-e"]

    def check_success(self, work, mem):
        return None

    def confirm(self, build, sock, work):
        return listed(build, sock, "Found DFU: [1209:df11]", "the device did not come back in DFU mode")

    def applicable(self, kind, position, base_stats):
        # Nothing is read after DETACH.
        if kind == "short" and position == "end":
            return False
        return super().applicable(kind, position, base_stats)


class MassErase(Op):
    def __init__(self):
        base, size = fl.FLASH["stm32f405"]
        # A mass erase has no address of its own (the -s address is ignored,
        # as by the ROM), so its message need not give one.
        super().__init__("mass-erase", "stm32f405", r"mass.erase|eras", [(base, base + size)], dfuse=False,
                         must_fail_descs=BROKEN_CONFIG + ["xfer0"])

    def setup(self, work):
        return ["-a", "0", "-s", "0x08000000:mass-erase:force"]

    def check_success(self, work, mem):
        size = fl.FLASH["stm32f405"][1]
        return None if mem[:size] == b"\xff" * size else "exit 0 but the flash is not erased"


class DownloadPlain(Op):
    """Plain DFU 1.1: the device starts in run-time mode, so dfukit
    detaches it, waits for it in DFU mode, downloads and manifests."""

    def __init__(self):
        # 5000 bytes from offset 0 of the 1 KiB-page flash.
        super().__init__("download-plain", "dfu11", r"download|detach|manifest|writ|block|verif|read", [(0, 5120)],
                         dfuse=False, must_fail_descs=BROKEN_CONFIG)

    def setup(self, work):
        with open(os.path.join(work, "fw.bin"), "wb") as f:
            f.write(os.urandom(5000))
        return ["-a", "0", "-D", os.path.join(work, "fw.bin")]

    def check_success(self, work, mem):
        fw = open(os.path.join(work, "fw.bin"), "rb").read()
        return None if mem[:len(fw)] == fw else "exit 0 but the flash does not hold the image"


class List(Op):
    """dfukit -l: reads descriptors and strings only. Listing nothing (exit
    0) is a right answer for a device that stalls or vanishes, as for
    dfu-util; what matters is no hang, no crash and sanitised strings."""

    def __init__(self):
        super().__init__("list", "stm32f405", r"device|descriptor|list|USB", [], dfuse=False)
        self.any_success = True

    def setup(self, work):
        return ["-l"]

    def check_success(self, work, mem):
        return None


def listed(build, sock, needle, what):
    """Polls dfukit -l (the device re-enumerates after it is told to go)."""
    deadline = time.monotonic() + 5
    while True:
        rc, out, err, dt, hung = fl.run_tool(build, sock, ["-l"], deadline=10)
        if rc == 0 and needle in out:
            return None
        if time.monotonic() > deadline:
            return "exit 0 but %s (dfukit -l: exit %s, %r)" % (what, rc, (out + err)[-300:])
        time.sleep(0.1)


def load_known(path):
    """known_failures.txt: OP KIND POSITION CLASS REASON..., the first three
    fnmatch patterns; CLASS "msg" excuses only a message that lacks the
    operation, address or status, "any" excuses any failure of the cell."""
    known = []
    if os.path.exists(path):
        for line in open(path):
            line = line.split("#", 1)[0].strip()
            if line:
                parts = line.split(None, 4)
                if len(parts) < 4 or parts[3] not in ("msg", "any"):
                    sys.exit("%s: bad line: %s" % (path, line))
                known.append(parts)
    return known


def is_known(known, op, kind, pos, why, used):
    for i, k in enumerate(known):
        if fnmatch.fnmatchcase(op, k[0]) and fnmatch.fnmatchcase(kind, k[1]) and fnmatch.fnmatchcase(pos, k[2]):
            if k[3] == "any" or why.startswith("msg: "):
                used.add(i)
                return True
    return False


class Matrix:
    def __init__(self, build, tmp, json_mode=False):
        self.build = build
        self.tmp = tmp
        self.json = json_mode
        self.slowest = (0.0, "")

    def new_work(self, op):
        work = tempfile.mkdtemp(prefix=op.name + "-", dir=self.tmp)
        shutil.copyfile(fl.memory_template(self.build, op.profile, self.tmp), os.path.join(work, "mem.bin"))
        return work

    def baseline(self, op):
        """Fault-free run: (S, T) from the stats, or raises with the reason."""
        work = self.new_work(op)
        args = op.setup(work)
        emu = fl.Emu(self.build, work, op.profile)
        emu.start()
        try:
            rc, out, err, dt, hung = fl.run_tool(self.build, emu.sock, fl.TOOL_DEADLINES + args, cwd=work)
        finally:
            # Stopped before any check through the device, so that the
            # stats count the job's transfers only.
            emu.stop()
        mem = open(emu.mem, "rb").read()
        bad = op.check_success(work, mem) if rc == 0 else None
        if bad:
            raise RuntimeError("fault-free %s: %s" % (op.name, bad))
        if hung or rc != 0:
            raise RuntimeError("fault-free %s failed (exit %s%s):\n%s%s" % (op.name, rc, ", hung" if hung else "",
                                                                            out[-1500:], err[-1500:]))
        st = emu.last_stats()
        if not st or "control_transfers" not in st:
            raise RuntimeError("no --stats from the emulator after the fault-free %s" % op.name)
        req = st.get("requests", st)
        total = int(st["control_transfers"])
        std = sum(int(req.get(k, 0)) for k in STD_REQUESTS)
        shutil.rmtree(work, ignore_errors=True)
        return std, total, st

    @staticmethod
    def positions(std, total):
        if total - std >= 3:
            begin = std + 1
        else:  # detach: the job is mostly enumeration
            begin = 1
        return {"begin": begin, "middle": (begin + total) // 2, "end": total}

    def run_cell(self, op, fault, label):
        work = self.new_work(op)
        args = op.setup(work) + (["--json"] if self.json else [])
        emu = fl.Emu(self.build, work, op.profile, faults=[fault])
        try:
            emu.start()
        except RuntimeError as e:
            return "FAIL", str(e), ""
        before = open(emu.mem, "rb").read()
        files_before = set(os.listdir(work))
        confirm = None
        try:
            rc, out, err, dt, hung = fl.run_tool(self.build, emu.sock, fl.TOOL_DEADLINES + args, cwd=work)
            if rc == 0 and not hung:
                confirm = op.confirm(self.build, emu.sock, work)
            emu_died = emu.proc.poll()
        finally:
            emu.stop()
        if emu_died is not None:
            return "FAIL", "dfukit-emu exited (status %s) during the job: %s" % (emu_died, emu.log_text()[-500:]), ""
        after = open(emu.mem, "rb").read()
        new_files = set(os.listdir(work)) - files_before - {"stats.json", "emu.log", "emu.sock"}
        cmd = "dfukit-emu --profile %s --fault %s; dfukit %s" % (op.profile, fault, " ".join(args))
        self.slowest = max(self.slowest, (dt, fault))
        verdict, why = self.judge(op, fault, work, rc, out, err, dt, hung, before, after, confirm, new_files)
        detail = "%s\n    exit %s in %.1fs\n    stderr: %s" % (cmd, rc, dt, err.strip().replace("\n", "\n            "))
        if verdict != "FAIL":
            shutil.rmtree(work, ignore_errors=True)
        return verdict, why, detail

    def judge(self, op, fault, work, rc, out, err, dt, hung, before, after, confirm, new_files):
        verdict, why = self.judge_common(op, fault, work, rc, out, err, dt, hung, before, after, confirm, new_files)
        if verdict != "ok" or not self.json:
            return verdict, why
        return "ok", why

    @staticmethod
    def json_result(out):
        """The --json run's final result object, or (None, what is wrong)."""
        results = []
        for line in out.splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                return None, "--json printed a line that is not JSON: %r" % line[:200]
            if isinstance(obj, dict) and "result" in obj:
                results.append(obj)
        if len(results) != 1:
            return None, "--json printed %d result objects, expected 1" % len(results)
        return results[0], None

    def judge_common(self, op, fault, work, rc, out, err, dt, hung, before, after, confirm, new_files):
        base = fl.FLASH[op.profile][0]
        kind = fault.split("@", 1)[0]
        is_desc = fault.startswith("desc=")
        if hung:
            return "FAIL", "still running after %.0f s (killed): hang" % fl.OUTER_DEADLINE_S
        if dt > fl.TOOL_BUDGET_S:
            return "FAIL", "took %.1f s, past its own deadlines (%s)" % (dt, " ".join(fl.TOOL_DEADLINES))
        if rc < 0:
            return "FAIL", "killed by signal %d" % -rc
        if fl.SANITIZER_RE.search(err):
            return "FAIL", "sanitizer report: %s" % fl.SANITIZER_RE.search(err).group(0)
        if fl.has_control_chars(out + err):
            return "FAIL", "printed control characters (device strings not sanitised)"
        bad = fl.diff_outside(before, after, op.allowed, base)
        if bad:
            return "FAIL", bad
        errs = fl.error_lines(err)
        if self.json:
            res, bad = self.json_result(out)
            if bad:
                return "FAIL", bad
            if res.get("exit") != rc or res.get("result") != ("ok" if rc == 0 else "error"):
                return "FAIL", "--json result %r does not match exit %d" % (res, rc)
            if rc != 0:
                if not res.get("message"):
                    return "FAIL", "--json error result without a message: %r" % res
                # The message is the error line of the plain output.
                errs = errs + ["dfukit: " + res["message"]]
                out = "\n".join(l for l in out.splitlines() if '"result"' not in l)
        if rc == 0 and getattr(op, "any_success", False):
            return "ok", "exit 0"
        if rc == 0:
            if errs:
                return "FAIL", "exit 0 with an error line: %s" % errs[0]
            if is_desc and kind[5:] in op.must_fail_descs:
                return "FAIL", "exit 0 although the descriptors make the job impossible"
            if not is_desc and kind in NEVER_RECOVERABLE:
                return "FAIL", "exit 0 although the device never confirmed the job"
            wrong = confirm or op.check_success(work, after)
            if wrong:
                return "FAIL", wrong
            return "rec", "recovered, result checked"
        if rc not in fl.FAILURE_EXITS:
            return "FAIL", "exit %d is not one of the failure codes %s" % (rc, sorted(fl.FAILURE_EXITS))
        m = fl.SUCCESS_RE.search(out + err)
        if m:
            return "FAIL", "exit %d but printed success (%r)" % (rc, m.group(0))
        if len(errs) != 1:
            return "FAIL", "expected exactly one error line, got %d" % len(errs)
        line = errs[0]
        if new_files:
            return "FAIL", "the failed job left files behind: %s" % " ".join(sorted(new_files))
        if not is_desc:
            # Status names (errWRITE, errADDRESS...) do not name a step.
            words = re.sub(r"\berr[A-Z_]+", "", line)
            if not op.words.search(words):
                return "FAIL", "msg: error line does not name the operation (%s): %s" % (op.words.pattern, line)
            if op.dfuse and not ADDR_RE.search(line):
                return "FAIL", "msg: error line names no address: %s" % line
            if kind.startswith("status=") and kind[7:].lower() not in line.lower():
                return "FAIL", "msg: error line does not give the device status %s: %s" % (kind[7:], line)
        return "ok", line


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    argv = sys.argv[1:]
    json_mode = "--json" in argv
    argv = [a for a in argv if a != "--json"]
    build = fl.Build(argv[0])
    all_ops = {o.name: o for o in (DownloadRaw(), DownloadDfu(build), Upload(), Leave(), Detach(), MassErase(),
                                   DownloadPlain(), List())}
    names = argv[1:] or list(all_ops)
    for n in names:
        if n not in all_ops:
            sys.exit("unknown operation %s (%s)" % (n, " ".join(all_ops)))
    jobs = int(os.environ.get("DFUKIT_FAULT_JOBS", "4"))
    known = load_known(os.path.join(os.path.dirname(os.path.abspath(__file__)), "known_failures.txt"))
    tmp = tempfile.mkdtemp(prefix="dfukit-faults-")
    matrix = Matrix(build, tmp, json_mode)
    tried = passed = recovered = xfailed = 0
    failures = []
    xfails = []
    used = set()
    try:
        for name in names:
            op = all_ops[name]
            try:
                std, total, base_stats = matrix.baseline(op)
            except RuntimeError as e:
                print("%s: %s" % (name, e))
                failures.append((name, "baseline", str(e)))
                tried += 1
                continue
            pos = matrix.positions(std, total)
            print("%s on %s: %d control transfers, %d standard; faults at req %s" %
                  (name, op.profile, total, std, ", ".join("%s=%d" % (p, pos[p]) for p in POSITIONS)))
            req = base_stats.get("requests", base_stats)
            uploads = int(req.get("UPLOAD", 0))

            def trigger(kind, p):
                # The job's last request is often one after which nothing
                # is read or executed (ABORT, the GETSTATUS that ends a
                # command): a status or short-reply fault set there would
                # never show. Those go on the last UPLOAD, or on the request
                # before the last.
                if p == "end" and (kind.startswith("status=") or kind == "short"):
                    if uploads:
                        return "%s@upblock=%d" % (kind, uploads - 1)
                    return "%s@req=%d" % (kind, max(pos["begin"], pos["end"] - 1))
                return "%s@req=%d" % (kind, pos[p])

            kinds, descs = (JSON_KINDS, JSON_DESCS) if json_mode else (KINDS, DESCS)
            cells = [(k, p, trigger(k, p)) for k in kinds for p in POSITIONS if op.applicable(k, p, base_stats)]
            cells += [("desc=" + d, "any", "desc=" + d) for d in descs]
            table = {}
            with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
                futs = {pool.submit(matrix.run_cell, op, spec, p): (k, p, spec) for k, p, spec in cells}
                for fut in concurrent.futures.as_completed(futs):
                    k, p, spec = futs[fut]
                    try:
                        verdict, why, detail = fut.result()
                    except Exception as e:  # a harness error is a failed cell, not a crash
                        verdict, why, detail = "FAIL", "harness: %r" % e, spec
                    tried += 1
                    if verdict == "FAIL" and is_known(known, name, k, p, why, used):
                        xfailed += 1
                        verdict = "xfail"
                        xfails.append((name, "%s at %s" % (k, p), why))
                    if verdict == "FAIL":
                        failures.append((name, "%s at %s" % (k, p), "%s\n    %s" % (why, detail)))
                    elif verdict != "xfail":
                        passed += 1
                        recovered += verdict == "rec"
                    table[(k, p)] = verdict
            for k in kinds:
                for p in POSITIONS:
                    table.setdefault((k, p), "n/a")
            rows = kinds + ["desc=" + d for d in descs]
            print(fl.format_table(name + (" --json" if json_mode else ""), rows, POSITIONS + ["any"], table))
            print("slowest cell so far: %.1f s (%s)\n" % matrix.slowest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name, where, why in xfails:
        print("xfail %s, %s: %s" % (name, where, why))
    for name, where, why in failures:
        print("FAIL %s, %s: %s" % (name, where, why))
    for i, k in enumerate(known):
        if i not in used and any(fnmatch.fnmatchcase(n, k[0]) for n in names):
            print("XPASS: known_failures.txt line matched no failing cell, remove it: %s" % " ".join(k))
    print("fault matrix: %d cells tried, %d passed (%d recovered with a checked result), %d failed, %d known failures"
          % (tried, passed, recovered, tried - passed - xfailed, xfailed))
    sys.exit(1 if tried - passed - xfailed else 0)


if __name__ == "__main__":
    main()
