#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
"""Black-box tests of dfukit-gui over the accessibility bus (dogtail).

Starts dfukit-emu on a unix socket and dfukit-gui against it, drives the
window only through AT-SPI, and checks the emulator's memory file.
Usage (inside a11y_session.sh): a11y_test.py BUILD_DIR SCENARIO
SCENARIO: flash | fault | read | erase | cancel | hotplug | optionbytes | optionbytes_confirmed
          | station | station_fault | station_auto
DFUKIT_GUI_SHOTS=DIR saves screenshots of the states into DIR."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

from dogtail import rawinput, tree
from dogtail.config import config

config.searchShowingOnly = False
config.defaultDelay = 0.05
config.searchBackoffDuration = 0.2
config.searchCutoffCount = 50

BUILD = os.path.abspath(sys.argv[1])
SCENARIO = sys.argv[2]
TMP = tempfile.mkdtemp(prefix="dfukit-gui-")
SOCK = os.path.join(TMP, "emu.sock")
MEM = os.path.join(TMP, "mem.bin")
FLASH_BASE = 0x08000000
procs = []


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def start_emu(*extra, memory=MEM):
    log = open(os.path.join(TMP, "emu.log"), "w")
    p = subprocess.Popen([BUILD + "/dfukit-emu", "--profile", "stm32f405", "--listen", "unix:" + SOCK,
                          "--memory", memory] + list(extra), stderr=log, stdout=log)
    procs.append(p)
    for _ in range(500):
        if "listening on" in open(os.path.join(TMP, "emu.log")).read():
            return p
        if p.poll() is not None:
            break
        time.sleep(0.02)
    fail("dfukit-emu did not start: " + open(os.path.join(TMP, "emu.log")).read())


def start_gui(fw):
    log = open(os.path.join(TMP, "gui.log"), "w")
    p = subprocess.Popen([BUILD + "/dfukit-gui", "--no-libusb", "--usbip", "unix:" + SOCK, fw],
                         stdout=log, stderr=log, env=dict(os.environ, HOME=TMP))
    procs.append(p)
    for _ in range(100):
        try:
            return tree.root.application("dfukit-gui")
        except Exception:
            time.sleep(0.2)
    fail("dfukit-gui did not appear on the accessibility bus")


def shot(name, app=None):
    d = os.environ.get("DFUKIT_GUI_SHOTS")
    if not d:
        return
    crop = []
    try:
        frame = app.findChild(lambda n: n.roleName == "frame", recursive=False, retry=False)
        (x, y), (w, h) = frame.position, frame.size
        if w > 0 and h > 0:
            crop = ["-crop", "%dx%d+%d+%d" % (w, h, max(x, 0), max(y, 0)), "+repage"]
    except Exception:
        pass
    time.sleep(0.3)  # let the last change be drawn
    subprocess.run(["import", "-window", "root"] + crop + [os.path.join(d, name + ".png")], check=False)


def button(app, label):
    # GTK 4.8 appends the label's own text to a button's name.
    # A dialog's response buttons may keep the mnemonic underscore.
    return app.findChild(lambda n: n.roleName == "push button" and n.name.replace("_", "").startswith(label),
                         retry=True)


def labels(app, prefix):
    return [n for n in app.findChildren(lambda n: n.roleName == "label" and n.name.startswith(prefix))]


def wait_label(app, prefixes, timeout):
    end = time.time() + timeout
    while time.time() < end:
        for p in prefixes:
            found = labels(app, p)
            if found:
                return found[0].name
        time.sleep(0.2)
    return None


def wait_sensitive(node, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if node.sensitive:
            return
        time.sleep(0.2)
    fail("%r never became sensitive" % node.name)


def mem(addr, n):
    with open(MEM, "rb") as f:
        f.seek(addr - FLASH_BASE)
        return f.read(n)


def write_fw(size):
    fw = os.path.join(TMP, "fw.bin")
    data = os.urandom(size)
    open(fw, "wb").write(data)
    return fw, data


def flash():
    start_emu("--timing", "real")
    fw, data = write_fw(300000)
    app = start_gui(fw)
    dl = button(app, "Download Firmware")
    wait_sensitive(dl)
    shot("gui-ready", app)
    plan = [n.name for n in app.findChildren(lambda n: n.roleName == "label" and "pages to erase" in n.name)]
    plan = plan[0] if plan else None
    if not plan or "Erase page 0x08000000" not in plan or "about" not in plan:
        fail("no plan preview before writing: %r" % plan)
    result_label = labels(app, "Ready.")[0]
    dl.doActionNamed("click")
    # The window answers the accessibility bus while the flash runs: one
    # property read of the result label, timed.
    slowest, polls = 0.0, 0
    while True:
        t0 = time.time()
        text = result_label.name
        slowest = max(slowest, time.time() - t0)
        polls += 1
        if text.startswith("Success") or text.startswith("Failed"):
            break
        if polls == 10:
            shot("gui-writing", app)
        if polls > 3000:
            fail("no result after %d polls" % polls)
        time.sleep(0.05)
    shot("gui-success", app)
    if not text.startswith("Success"):
        fail("result is %r, wanted Success" % text)
    if polls < 10:
        fail("the flash ended before the window could be polled during it (%d polls)" % polls)
    if slowest > 1.0:
        fail("the window took %.1f s to answer during the flash" % slowest)
    if mem(FLASH_BASE, len(data)) != data:
        fail("the device memory does not hold the image")
    print("ok: %s; %d polls during the flash, slowest %.2f s" % (text, polls, slowest))


def fault():
    start_emu("--fault", "status=errWRITE@addr=0x08004000")
    fw, data = write_fw(70000)
    app = start_gui(fw)
    dl = button(app, "Download Firmware")
    wait_sensitive(dl)
    dl.doActionNamed("click")
    text = wait_label(app, ["Success", "Failed"], 60)
    shot("gui-failed", app)
    if not text or not text.startswith("Failed"):
        fail("result is %r, wanted Failed" % text)
    if "0x08004" not in text or not any(op in text for op in ("erase", "download", "write", "verify")):
        fail("the failure does not name the operation and address: %r" % text)
    print("ok: " + text)


def read():
    start_emu()
    # A known flash content: the memory file is mmap()ed by the emulator.
    pattern = os.urandom(0x100000)
    with open(MEM, "r+b") as f:
        f.write(pattern)
    fw, _ = write_fw(1000)
    app = start_gui(fw)
    out = os.path.join(TMP, "backup.bin")
    # GTK 4.8 offers no editable text over AT-SPI: focus the entry through
    # the bus and type, as a keyboard user would.
    entry = app.findChild(lambda n: n.roleName == "text" and n.name == "Read-out file", retry=True)
    entry.click()
    time.sleep(0.3)
    rawinput.keyCombo("<ctrl>a")
    rawinput.typeText(out)
    time.sleep(0.3)
    rd = button(app, "Read from Device")
    wait_sensitive(rd)
    rd.doActionNamed("click")
    text = wait_label(app, ["Success", "Failed"], 60)
    if not text or not text.startswith("Success"):
        fail("result is %r, wanted Success" % text)
    got = open(out, "rb").read()
    if got != pattern:
        fail("the read-out (%d bytes) differs from the device's flash" % len(got))
    print("ok: " + text)


def cancel():
    start_emu("--timing", "real")
    # 900 KiB: the erase of the 128 KiB sectors takes seconds.
    fw, _ = write_fw(900 * 1024)
    app = start_gui(fw)
    dl = button(app, "Download Firmware")
    wait_sensitive(dl)
    dl.doActionNamed("click")
    end = time.time() + 30
    while time.time() < end and not labels(app, "Erasing page"):
        time.sleep(0.05)
    if not labels(app, "Erasing page"):
        fail("the erase is silent: no 'Erasing page' label")
    shot("gui-erasing", app)
    button(app, "Cancel").doActionNamed("click")
    text = wait_label(app, ["Success", "Failed"], 60)
    if not text or not text.startswith("Failed") or "cancel" not in text:
        fail("result is %r, wanted a cancelled failure" % text)
    print("ok: " + text)


def erase():
    start_emu()
    with open(MEM, "r+b") as f:
        f.write(os.urandom(0x100000))
    fw, _ = write_fw(1000)
    app = start_gui(fw)
    er = button(app, "Erase Whole Chip")
    wait_sensitive(er)
    er.doActionNamed("click")
    # The confirmation says what will be lost; keeping is the safe answer.
    body = wait_label(app, ["Everything in the flash of"], 10)
    if not body or "cannot be undone" not in body:
        fail("no confirmation naming what is lost: %r" % body)
    shot("gui-confirm-erase", app)
    button(app, "Keep Everything").doActionNamed("click")
    time.sleep(1)
    if mem(FLASH_BASE, 16) == b"\xff" * 16:
        fail("the flash was erased although the user kept everything")
    er.doActionNamed("click")
    wait_label(app, ["Everything in the flash of"], 10)
    button(app, "Erase Everything").doActionNamed("click")
    text = wait_label(app, ["Success", "Failed"], 60)
    if not text or not text.startswith("Success"):
        fail("result is %r, wanted Success" % text)
    if mem(FLASH_BASE, 0x100000) != b"\xff" * 0x100000:
        fail("the flash is not erased after a confirmed mass erase")
    print("ok: " + text)


def device_rows(app):
    # Each device row carries a radio button "Use NAME VID:PID at PATH".
    return [n for n in app.findChildren(lambda n: n.roleName in ("check box", "radio button")
                                        and n.name.startswith("Use ") and " at " in n.name)]


def wait_rows(app, want, timeout):
    end = time.time() + timeout
    while time.time() < end:
        found = device_rows(app)
        if (len(found) > 0) == want:
            return found
        time.sleep(0.2)
    fail("the device list did not %s within %d s: %r" % ("show the device" if want else "drop the device",
                                                          timeout, [n.name for n in device_rows(app)]))


def hotplug():
    # The GUI starts first: the USB/IP server is not there yet.
    fw, _ = write_fw(1000)
    app = start_gui(fw)
    time.sleep(2.5)
    if device_rows(app):
        fail("a device is listed before any is served")
    emu = start_emu()
    t0 = time.time()
    rows = wait_rows(app, True, 15)
    print("appeared after %.1f s: %s" % (time.time() - t0, rows[0].name))
    if "0483:df11" not in rows[0].name:
        fail("the new row does not name the device: %r" % rows[0].name)
    # The server goes away: so does the row.
    emu.terminate()
    emu.wait(10)
    t0 = time.time()
    wait_rows(app, False, 15)
    print("disappeared after %.1f s" % (time.time() - t0))
    print("ok: the list followed the device")


def dfuse_file(alt, name, addr, payload, vid=0x0483, pid=0xdf11):
    """A DfuSe .dfu (UM0391) with one target of one element."""
    elem = struct.pack("<II", addr, len(payload)) + payload
    target = (b"Target" + struct.pack("<BI", alt, 1) + name.encode().ljust(255, b"\0") +
              struct.pack("<II", len(elem), 1) + elem)
    body = b"DfuSe" + struct.pack("<BIB", 1, 11 + len(target), 1) + target
    body += struct.pack("<HHHH", 0x2200, pid, vid, 0x011A) + b"UFD" + bytes([16])
    return body + struct.pack("<I", zlib.crc32(body) ^ 0xFFFFFFFF)


def optionbytes():
    start_emu()
    # The memory file: 1 MiB of flash (alt 0), then the 16 option bytes (alt 1).
    flash_before = os.urandom(0x100000)
    with open(MEM, "r+b") as f:
        f.write(flash_before)
    with open(MEM, "rb") as f:
        f.seek(0x100000)
        opt_before = f.read(16)
    # RDP 0xBB: read protection level 1, exactly what the warning is about.
    new = bytes([0xED, 0xBB, 0x12, 0x44]) + b"\xff" * 4 + bytes([0xFF, 0x0F, 0x00, 0xF0]) + b"\xff" * 4
    fw = os.path.join(TMP, "options.dfu")
    open(fw, "wb").write(dfuse_file(1, "Option Bytes", 0x1FFFC000, new))
    app = start_gui(fw)
    dl = button(app, "Download Firmware")
    wait_sensitive(dl)
    plan = [n.name for n in app.findChildren(lambda n: n.roleName == "label" and "Writes option bytes" in n.name)]
    if not plan:
        fail("the plan does not say that option bytes are written")
    dl.doActionNamed("click")
    body = wait_label(app, ["This file writes the option bytes"], 10)
    if not body or "lock the chip or enable read protection" not in body:
        fail("no option-bytes confirmation saying what can happen: %r" % body)
    shot("gui-confirm-option-bytes", app)
    button(app, "Write Option Bytes")  # offered, not pressed
    cancels = [n for n in app.findChildren(lambda n: n.roleName == "push button"
                                           and n.name.replace("_", "").startswith("Cancel") and n.sensitive)]
    # The window's own Cancel cannot be pressed (nothing runs); the dialog
    # lays its buttons out twice (wide and narrow), one of them shown.
    def in_dialog(n):
        while n is not None and n.roleName != "application":
            if n.roleName == "dialog" and n.name == "Write option bytes?":
                return True
            n = n.parent
        return False
    if not cancels or not all(in_dialog(c) for c in cancels):
        fail("wanted the dialog's Cancel only, got %r" % [c.name for c in cancels])
    shown = [c for c in cancels if c.showing] or cancels
    shown[0].doActionNamed("click")
    time.sleep(2)
    if labels(app, "This file writes the option bytes"):
        fail("the confirmation is still open after Cancel")
    with open(MEM, "rb") as f:
        flash_after = f.read(0x100000)
        opt_after = f.read(16)
    if opt_after != opt_before:
        fail("the option bytes changed although the user cancelled: %s" % opt_after.hex())
    if flash_after != flash_before:
        fail("the flash changed although the user cancelled")
    if not labels(app, "Ready."):
        fail("something ran although the user cancelled")
    print("ok: confirmation shown, Cancel wrote nothing")


def optionbytes_confirmed():
    start_emu()
    with open(MEM, "rb") as f:
        flash_before = f.read(0x100000)
        opt_before = f.read(16)
    # One user option bit changed (nRST_STDBY), read protection left off.
    new = bytearray(opt_before)
    new[0] ^= 0x80
    new = bytes(new)
    fw = os.path.join(TMP, "options.dfu")
    open(fw, "wb").write(dfuse_file(1, "Option Bytes", 0x1FFFC000, new))
    app = start_gui(fw)
    dl = button(app, "Download Firmware")
    wait_sensitive(dl)
    dl.doActionNamed("click")
    if not wait_label(app, ["This file writes the option bytes"], 10):
        fail("no option-bytes confirmation")
    # The dialog lays its buttons out twice (wide and narrow), one shown.
    ok = [n for n in app.findChildren(lambda n: n.roleName == "push button"
                                      and n.name.replace("_", "").startswith("Write Option Bytes") and n.sensitive)]
    if not ok:
        fail("no Write Option Bytes button")
    ([n for n in ok if n.showing] or ok)[0].doActionNamed("click")
    result = wait_label(app, ["Success", "Failed", "Error"], 30)
    print("result: %r" % result)
    shot("gui-option-bytes-written", app)
    if not result or not result.startswith("Success"):
        fail("the confirmed write did not end in Success: %r" % result)
    with open(MEM, "rb") as f:
        flash_after = f.read(0x100000)
        opt_after = f.read(16)
    if opt_after != new:
        fail("the option bytes are %s, not the file's %s" % (opt_after.hex(), new.hex()))
    if flash_after != flash_before:
        fail("the flash changed although only the option bytes were written")
    print("ok: confirmed, the option bytes written and nothing else")


MEMDIR = os.path.join(TMP, "mem")


def station_emu(n, *extra):
    """dfukit-emu serving n STM32F405s, busids 1-1..1-n, memories MEMDIR/1-k.mem."""
    os.makedirs(MEMDIR, exist_ok=True)
    return start_emu("--count", str(n), *extra, memory=MEMDIR)


def holds(busid, data):
    with open(os.path.join(MEMDIR, busid + ".mem"), "rb") as f:
        return f.read(len(data)) == data


def station_on(app):
    toggle = app.findChild(lambda n: n.roleName in ("toggle button", "push button") and n.name == "Station mode",
                           retry=True)
    toggle.doActionNamed("click")
    return toggle


def counters(app):
    found = labels(app, "Passed: ")
    return found[0] if found else None


def wait_counters(app, want, timeout, during=None):
    """Polls the counters label until it reads want; times each read (the
    window answers the bus while devices are flashed)."""
    end = time.time() + timeout
    node = None
    slowest, polls, text = 0.0, 0, None
    while time.time() < end:
        node = node or counters(app)
        if node is None:
            time.sleep(0.2)
            continue
        t0 = time.time()
        text = node.name
        slowest = max(slowest, time.time() - t0)
        polls += 1
        if during and polls == 8:
            during()
        if text == want:
            return polls, slowest
        time.sleep(0.1)
    fail("the counters read %r, wanted %r" % (text, want))


def device_logs(app, busid):
    return [n.name for n in app.findChildren(lambda n: n.roleName == "label"
                                             and n.name.startswith("Opening 0483:df11 at %s," % busid))]


def main_log(app):
    tv = app.findChild(lambda n: n.roleName == "text" and n.name == "Log", retry=True)
    t = tv.queryText()
    return t.getText(0, t.characterCount)


def station():
    station_emu(3, "--timing", "real")
    fw, data = write_fw(150000)
    app = start_gui(fw)
    station_on(app)
    end = time.time() + 20
    while time.time() < end and len(labels(app, "Waiting")) < 3:
        time.sleep(0.2)
    if len(labels(app, "Waiting")) != 3:
        fail("station mode does not show 3 waiting devices: %r" % [n.name for n in labels(app, "Waiting")])
    if not counters(app) or counters(app).name != "Passed: 0  Failed: 0":
        fail("no counters at 0: %r" % (counters(app) and counters(app).name))
    flash_all = button(app, "Flash all")
    wait_sensitive(flash_all)
    flash_all.doActionNamed("click")
    polls, slowest = wait_counters(app, "Passed: 3  Failed: 0", 120, during=lambda: shot("gui-station", app))
    if slowest > 1.0:
        fail("the window took %.1f s to answer during the station run" % slowest)
    time.sleep(0.5)
    shot("gui-station-done", app)
    for k in (1, 2, 3):
        busid = "1-%d" % k
        if not holds(busid, data):
            fail("device %s does not hold the image" % busid)
        logs = device_logs(app, busid)
        if len(logs) != 1 or "Success" not in logs[0] or "1-%d" % (k % 3 + 1) + "," in logs[0]:
            fail("device %s's own log is not its own, or has no Success: %r" % (busid, logs))
    passed = [n.name for n in labels(app, "Passed")]
    if len([p for p in passed if p.startswith("Passed") and not p.startswith("Passed: ")]) != 3:
        fail("not every row says Passed: %r" % passed)
    print("ok: Passed: 3  Failed: 0; %d polls, slowest %.2f s; each memory holds the image" % (polls, slowest))


def station_fault():
    # One board of three fails: the others pass, the counters say so, and
    # the failed row names the device status.
    station_emu(3, "--fault", "1-2:status=errWRITE@dnblock=1")
    fw, data = write_fw(40000)
    app = start_gui(fw)
    station_on(app)
    end = time.time() + 20
    while time.time() < end and len(labels(app, "Waiting")) < 3:
        time.sleep(0.2)
    flash_all = button(app, "Flash all")
    wait_sensitive(flash_all)
    flash_all.doActionNamed("click")
    wait_counters(app, "Passed: 2  Failed: 1", 60)
    failed = [n.name for n in labels(app, "Failed: ")]
    if len(failed) != 1 or "errWRITE" not in failed[0]:
        fail("the failed row does not say why: %r" % failed)
    for busid, want in (("1-1", True), ("1-2", False), ("1-3", True)):
        if holds(busid, data) != want:
            fail("device %s %s the image" % (busid, "does not hold" if want else "holds"))
    if "[1-2] Failed" not in main_log(app):
        fail("the log does not name the failed device")
    print("ok: Passed: 2  Failed: 1; " + failed[0])


def station_auto():
    # The window first, in station mode with auto-flash on; then the boards
    # come, one after another, and each is flashed once as it appears.
    fw, data = write_fw(40000)
    app = start_gui(fw)
    station_on(app)
    # A GtkSwitch: role "check box" with the action "toggle" in GTK 4.8.
    sw = app.findChild(lambda n: n.roleName in ("check box", "toggle button", "switch")
                       and n.name.startswith("Auto-flash new devices"), retry=True)
    sw.doActionNamed("toggle")
    end = time.time() + 5
    while time.time() < end and "Auto-flash on" not in main_log(app):
        time.sleep(0.2)
    if "Auto-flash on" not in main_log(app):
        fail("the auto-flash switch did not turn on")
    station_emu(3, "--arrive", "1500")
    wait_counters(app, "Passed: 3  Failed: 0", 90)
    # Several more listings: a flashed device that re-enumerates (or stays)
    # is not flashed again.
    time.sleep(4)
    if counters(app).name != "Passed: 3  Failed: 0":
        fail("flashed again: %r" % counters(app).name)
    log = main_log(app)
    for k in (1, 2, 3):
        busid = "1-%d" % k
        if not holds(busid, data):
            fail("device %s does not hold the image" % busid)
        n = log.count("[%s] flashing" % busid)
        if n != 1:
            fail("device %s was flashed %d times:\n%s" % (busid, n, log))
    print("ok: 3 devices auto-flashed once each as they came")


try:
    {"station": station, "station_auto": station_auto, "station_fault": station_fault, "optionbytes_confirmed": optionbytes_confirmed, "hotplug": hotplug, "optionbytes": optionbytes, "erase": erase, "flash": flash, "fault": fault, "read": read, "cancel": cancel}[SCENARIO]()
finally:
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
    if os.environ.get("DFUKIT_GUI_KEEP"):
        print("kept " + TMP)
    else:
        shutil.rmtree(TMP, ignore_errors=True)
