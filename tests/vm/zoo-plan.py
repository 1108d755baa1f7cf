#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
"""Writes the plan of tests/vm/guest-zoo.sh (the guest has only busybox, no
JSON parser) and of tests/zoo/zoo_device.sh: one line per device description
given, saying which IDs it shows, where a test image goes (alt 0's first
writable region as the device advertises it, and that region's offset in
dfukit-emu's memory file), what dfukit must make of it, whether it uploads,
its quirks, its number of alt settings, the size of alt 0's real memory,
whether alt 0's name lies about that memory ("lies" or "-"), whether it stays
in DFU mode after a download, alt 0's real start address, the offset of the
read-protection byte in the memory file ("-": none) and ADDR:OFFSET of alt
0's first segment that cannot be written ("-": none).
Usage: zoo-plan.py DESCRIPTION.json... > plan.txt"""
import json
import os
import re
import sys

IMAGE_MAX = 32768
UNITS = {"": 1, " ": 1, "B": 1, "K": 1024, "M": 1024 * 1024}


def num(v):
    return int(v, 0) if isinstance(v, str) else int(v)


def dfuse_map(name):
    """Segments (address, size, writable) of a DfuSe map string, read as
    leniently as the library does (blanks, zero counts, any case)."""
    parts = name.split("/")
    segs = []
    i = 1
    while i + 1 < len(parts):
        addr = num(parts[i].strip())
        for m in re.finditer(r"(\d+)\s*\*\s*(\d+)\s*([KMB ]?)\s*([a-gA-G])", parts[i + 1], re.I):
            count, size = int(m.group(1)), int(m.group(2)) * UNITS[m.group(3).upper()]
            kind = ord(m.group(4).lower()) - ord("a") + 1
            segs.append((addr, count * size, bool(kind & 4)))
            addr += count * size
        i += 2
    return segs


def real_segments(alt, protocol):
    mem = alt.get("memory")
    if isinstance(mem, str):
        return [(a, s) for a, s, _ in dfuse_map(mem)]
    if isinstance(mem, list):
        return [(num(s.get("address", 0)), num(s["pages"]) * num(s["page_size"])) for s in mem]
    return [(a, s) for a, s, _ in dfuse_map(alt["name"])]


def first_writable(alt):
    """The first address the device advertises writable and really takes
    (a loader may refuse its own sectors: MicroPython's mboot), and the
    writable bytes from there."""
    adv = [(a, s) for a, s, w in dfuse_map(alt["name"]) if w and s > 0]
    mem = alt.get("memory")
    if not isinstance(mem, list):
        return adv[0]
    for a, s in adv:
        for seg in mem:
            if "w" not in seg.get("rights", "rwe"):
                continue
            lo = num(seg["address"])
            hi = lo + num(seg["pages"]) * num(seg["page_size"])
            start, end = max(a, lo), min(a + s, hi)
            if start < end:
                return start, end - start
    raise SystemExit("alt 0 has no address that is advertised and really writable")


def ident(dev, fallback):
    vid = num(dev.get("vid", fallback[0]))
    pid = num(dev.get("pid", fallback[1]))
    return vid, pid


def plan(path):
    d = json.load(open(path))
    # The file's name: the guest finds the description by it.
    name = os.path.basename(path)[: -len(".json")]
    proto = d.get("protocol", "dfu")
    dfu_dev = d["dfu_mode"]["device"]
    dfu_id = ident(dfu_dev, (0, 0))
    rt = d.get("runtime")
    rt_id = ident(rt.get("device", {}), dfu_id) if rt else None
    start_id = rt_id if d.get("power_on", {}).get("mode") == "runtime" else dfu_id
    alts = d["dfu_mode"]["alts"]
    real = real_segments(alts[0], proto)
    if proto == "dfuse":
        target = first_writable(alts[0])
        off = offset_of(real, target[0])
        if off is None:
            raise SystemExit(f"{path}: 0x{target[0]:08x} is not in alt 0's real memory")
        addr, size = f"0x{target[0]:08x}", min(IMAGE_MAX, target[1])
    else:
        addr, off, size = "-", 0, min(IMAGE_MAX, sum(s for _, s in real))
    expect = "fail" if "zero-poll-wedge" in d.get("quirks", []) else "ok"
    attrs = d["dfu_mode"].get("functional", {}).get("attributes", ["can_download", "can_upload"])
    tolerant = "manifestation_tolerant" in attrs if isinstance(attrs, list) else bool(num(attrs) & 4)
    if proto == "dfu" and tolerant:
        # Manifestation-tolerant: back to dfuIDLE; the reset keeps it there.
        after = "%04x:%04x" % dfu_id
    elif rt_id:
        after = "%04x:%04x" % rt_id
    elif proto == "dfuse":
        after = "gone"
    else:
        after = "%04x:%04x" % dfu_id
    upload = "yes" if (("can_upload" in attrs) if isinstance(attrs, list) else bool(num(attrs) & 2)) else "no"
    quirks = ",".join(q for q in d.get("quirks", [])) or "-"
    # alt 0's real memory: its size (a full image), and whether the name lies about it
    full = sum(s for _, s in real)
    lies = "lies" if proto == "dfuse" and "memory" in alts[0] else "-"
    # DfuSe devices stay in DFU mode after a download: a read-back is possible
    stays = "yes" if tolerant or proto == "dfuse" else "no"
    print(name, proto, "%04x:%04x" % start_id, "%04x:%04x" % dfu_id, 0, addr, off, size, expect, after,
          upload, quirks, len(alts), full, lies, stays, "0x%08x" % real[0][0], rdp_offset(d), refused(alts[0]))


def offset_of(real, addr):
    """The offset of addr in a memory laid out as the segments real."""
    base = 0
    for a, s in real:
        if a <= addr < a + s:
            return base + addr - a
        base += s
    return None


def rdp_offset(d):
    """The read-protection byte's offset in the memory file (every alt's
    memory back to back), or "-"."""
    r = d.get("read_protection")
    if not r:
        return "-"
    proto = d.get("protocol", "dfu")
    alts = d["dfu_mode"]["alts"]
    before = sum(s for alt in alts[: num(r["alt"])] for _, s in real_segments(alt, proto))
    return before + num(r["offset"])


def refused(alt):
    """ADDR:OFFSET of the first segment of alt's real memory that cannot be
    written, or "-"."""
    mem = alt.get("memory")
    if not isinstance(mem, list):
        return "-"
    off = 0
    for seg in mem:
        if "w" not in seg.get("rights", "rwe"):
            return "0x%08x:%d" % (num(seg["address"]), off)
        off += num(seg["pages"]) * num(seg["page_size"])
    return "-"


for p in sys.argv[1:]:
    plan(p)
