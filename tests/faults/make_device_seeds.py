#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
"""Makes the seed corpus of tests/fuzz/fuzz_device.c (tests/fuzz/corpus/device/).

The fuzz input is descriptors followed by one answer record per control
transfer, in the order the engine makes them. That order is the engine's
business, so the seeds are grown rather than written: the replay build of
the target runs with FUZZ_DEVICE_TRACE=1 (it prints each request and how
much input is left), and each request made at the end of the input gets the
answer a well-behaved device would give, until the jobs end by themselves.
Usage: make_device_seeds.py BUILD/tests/replay_fuzz_device tests/fuzz/corpus/device"""

import os
import re
import struct
import subprocess
import sys
import tempfile

ANSWER, STALL, GONE = 4, 0, 1


def utf16(s):
    b = s.encode("utf-16-le")
    return bytes([len(b) + 2, 3]) + b


def device_desc(vid, pid, bcd):
    return struct.pack("<BBHBBBBHHHBBBB", 18, 1, 0x0200, 0, 0, 0, 64, vid, pid, bcd, 1, 2, 3, 1)


def config_desc(alts, attrs, xfer, bcd_dfu, protocol=2):
    body = b""
    for i in range(alts):
        body += struct.pack("<BBBBBBBBB", 9, 4, 0, i, 0, 0xFE, 1, protocol, 4 + i)
    body += struct.pack("<BBBHHH", 9, 0x21, attrs, 255, xfer, bcd_dfu)
    total = 9 + len(body)
    return struct.pack("<BBHBBBBB", 9, 2, total, 1, 1, 0, 0x80, 50) + body


class Device:
    """Answers like a DFU device: strings, status, state, upload data."""

    def __init__(self, names, faults=None):
        self.names = names  # string index -> text
        self.state = 2
        self.faults = faults or {}  # request number -> action
        self.n = 0

    def answer(self, bm, req, wvalue, wlength):
        self.n += 1
        if self.n in self.faults:
            return bytes([self.faults[self.n]])
        if not bm & 0x80:
            if (bm & 0x60) == 0x20:
                if req == 1:  # DNLOAD
                    self.state = 5 if wlength else 7
                elif req in (4, 6):  # CLRSTATUS, ABORT
                    self.state = 2
            return bytes([ANSWER])
        if (bm & 0x60) == 0 and req == 6 and wvalue >> 8 == 3:
            idx = wvalue & 0xFF
            data = bytes([4, 3, 0x09, 0x04]) if idx == 0 else utf16(self.names.get(idx, "dfukit"))
            return bytes([ANSWER, min(len(data), wlength, 254)]) + data[:min(len(data), wlength, 254)]
        if req == 3:  # GETSTATUS
            st = self.state
            if st == 7:
                self.state = 2
            return bytes([ANSWER, 6, 0, 0, 0, 0, st, 0])
        if req == 5:  # GETSTATE
            return bytes([ANSWER, 1, self.state])
        if req == 2:  # UPLOAD: a repeated pattern for the whole block
            self.state = 9
            return bytes([ANSWER, 255]) + b"\xa5" * 255
        return bytes([ANSWER, 0])


TRACE_RE = re.compile(r"^ctl ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{4}) ([0-9a-f]{4}) ([0-9a-f]{4}) left=(\d+)$")


def grow(replay, head, dev, limit=3000):
    data = bytearray(head)
    with tempfile.NamedTemporaryFile(suffix=".bin") as tf:
        for _ in range(limit):
            tf.seek(0)
            tf.truncate()
            tf.write(data)
            tf.flush()
            p = subprocess.run([replay, tf.name], env=dict(os.environ, FUZZ_DEVICE_TRACE="1"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
            reqs = [m.groups() for m in map(TRACE_RE.match, p.stderr.decode().splitlines()) if m]
            at_end = [i for i, r in enumerate(reqs) if int(r[5]) == 0]
            if not at_end:
                return bytes(data)  # ended with input left: the jobs are done
            # The first request that found the input used up gets its answer.
            dev.n = at_end[0]
            bm, req, wv, wi, wl, _ = reqs[at_end[0]]
            data += dev.answer(int(bm, 16), int(req, 16), int(wv, 16), int(wl, 16))
    return bytes(data)


def main():
    replay, out = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    f405 = {1: "STMicroelectronics", 2: "STM32  BOOTLOADER", 3: "3276346C3034",
            4: "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg", 5: "@Option Bytes  /0x1FFFC000/01*016 e"}
    seeds = {
        "dfuse-f405": (device_desc(0x0483, 0xDF11, 0x2200), config_desc(2, 0x0B, 2048, 0x011A), f405, {}),
        "dfuse-small-xfer": (device_desc(0x0483, 0xDF11, 0x2200), config_desc(1, 0x0B, 64, 0x011A),
                             {4: "@Flash /0x08000000/8*1Kg"}, {}),
        "dfuse-stall-mid": (device_desc(0x0483, 0xDF11, 0x2200), config_desc(1, 0x0B, 1024, 0x011A),
                            {4: "@Flash /0x08000000/16*1Kg"}, {20: STALL}),
        "dfuse-gone-mid": (device_desc(0x0483, 0xDF11, 0x2200), config_desc(1, 0x0B, 1024, 0x011A),
                           {4: "@Flash /0x08000000/16*1Kg"}, {25: GONE}),
        "dfu11-plain": (device_desc(0x1209, 0xDF11, 0x0100), config_desc(1, 0x07, 1024, 0x0110), {4: "Flash"}, {}),
        "dfu11-runtime": (device_desc(0x1209, 0xDF10, 0x0100), config_desc(1, 0x07, 1024, 0x0110, protocol=1),
                          {4: "DFU runtime"}, {}),
    }
    for name, (dd, cd, names, faults) in seeds.items():
        head = dd + struct.pack("<H", len(cd)) + cd
        data = grow(replay, head, Device(names, faults))
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print("%s: %d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
