#!/usr/bin/python3
"""Black-box tests of dfukit-gui over the accessibility bus (dogtail).

Starts dfukit-emu on a unix socket and dfukit-gui against it, drives the
window only through AT-SPI, and checks the emulator's memory file.
Usage (inside a11y_session.sh): a11y_test.py BUILD_DIR SCENARIO
SCENARIO: flash | fault | read | erase | cancel
DFUKIT_GUI_SHOTS=DIR saves screenshots of the states into DIR."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

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


def start_emu(*extra):
    log = open(os.path.join(TMP, "emu.log"), "w")
    p = subprocess.Popen([BUILD + "/dfukit-emu", "--profile", "stm32f405", "--listen", "unix:" + SOCK,
                          "--memory", MEM] + list(extra), stderr=log, stdout=log)
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


try:
    {"erase": erase, "flash": flash, "fault": fault, "read": read, "cancel": cancel}[SCENARIO]()
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
