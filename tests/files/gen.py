#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
"""Test data for the file-command tests, written independently of dfukit.

  gen.py ihex OUT [--crlf] ADDR:FILE...        Intel HEX (04 records, 16-byte lines)
  gen.py srec OUT NAME ADDR:FILE...            S-record: S0 NAME, S3 data, S5 count, S7
  gen.py elf OUT [--64] [--be] ADDR:FILE...    ELF with one PT_LOAD per file at p_paddr ADDR
  gen.py patch FILE OFFSET HEX [--fixcrc]      overwrite bytes (OFFSET < 0: from the end)
  gen.py crc FILE                              DFU CRC of all but the last 4 bytes (0x%08X)
  gen.py json FILE EXPR                        print eval(EXPR) with j = the JSON in FILE
"""
import json
import struct
import sys
import zlib


def parts(args):
    for a in args:
        addr, path = a.split(":", 1)
        with open(path, "rb") as f:
            yield int(addr, 0), f.read()


def ihex(out, args):
    eol = "\n"
    if args and args[0] == "--crlf":
        eol = "\r\n"
        args = args[1:]
    lines = []

    def rec(typ, addr, data):
        body = bytes([len(data), (addr >> 8) & 0xFF, addr & 0xFF, typ]) + data
        lines.append(":" + body.hex().upper() + "%02X" % ((-sum(body)) & 0xFF) + eol)

    upper = None
    for addr, data in parts(args):
        for off in range(0, len(data), 16):
            a = addr + off
            n = min(16, len(data) - off, 0x10000 - (a & 0xFFFF))
            if a >> 16 != upper:
                upper = a >> 16
                rec(4, 0, struct.pack(">H", upper))
            rec(0, a & 0xFFFF, data[off:off + n])
            if n < 16 and off + n < len(data):  # split at a 64 KiB boundary
                a2 = a + n
                upper = a2 >> 16
                rec(4, 0, struct.pack(">H", upper))
                rec(0, a2 & 0xFFFF, data[off + n:off + 16])
    rec(1, 0, b"")
    with open(out, "w", newline="") as f:
        f.writelines(lines)


def srec(out, name, args):
    lines = []

    def rec(typ, addr, alen, data):
        body = bytes([alen + len(data) + 1]) + addr.to_bytes(alen, "big") + data
        lines.append("S%d" % typ + body.hex().upper() + "%02X\n" % (~sum(body) & 0xFF))

    rec(0, 0, 2, name.encode())
    count = 0
    for addr, data in parts(args):
        for off in range(0, len(data), 32):
            rec(3, addr + off, 4, data[off:off + 32])
            count += 1
    rec(5, count, 2, b"")
    rec(7, 0, 4, b"")
    with open(out, "w") as f:
        f.writelines(lines)


def elf(out, args):
    is64 = "--64" in args
    e = ">" if "--be" in args else "<"
    segs = list(parts(a for a in args if not a.startswith("--")))
    ehsize, phsize = (64, 56) if is64 else (52, 32)
    off = ehsize + phsize * len(segs)
    phdrs = b""
    data = b""
    for addr, blob in segs:
        if is64:
            phdrs += struct.pack(e + "IIQQQQQQ", 1, 5, off, addr + 0x1000, addr, len(blob), len(blob), 4)
        else:
            phdrs += struct.pack(e + "IIIIIIII", 1, off, addr + 0x1000, addr, len(blob), len(blob), 5, 4)
        data += blob
        off += len(blob)
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 2 if e == ">" else 1, 1]) + bytes(9)
    if is64:
        hdr = ident + struct.pack(e + "HHIQQQIHHHHHH", 2, 40, 1, 0, ehsize, 0, 0, ehsize, phsize, len(segs), 0, 0, 0)
    else:
        hdr = ident + struct.pack(e + "HHIIIIIHHHHHH", 2, 40, 1, 0, ehsize, 0, 0, ehsize, phsize, len(segs), 0, 0, 0)
    with open(out, "wb") as f:
        f.write(hdr + phdrs + data)


def patch(path, off, hexbytes, fixcrc):
    with open(path, "rb") as f:
        d = bytearray(f.read())
    off = int(off, 0)
    if off < 0:
        off += len(d)
    b = bytes.fromhex(hexbytes)
    d[off:off + len(b)] = b
    if fixcrc:
        d[-4:] = struct.pack("<I", ~zlib.crc32(bytes(d[:-4])) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(d)


def main(argv):
    cmd = argv[1]
    if cmd == "ihex":
        ihex(argv[2], argv[3:])
    elif cmd == "srec":
        srec(argv[2], argv[3], argv[4:])
    elif cmd == "elf":
        elf(argv[2], argv[3:])
    elif cmd == "patch":
        patch(argv[2], argv[3], argv[4], "--fixcrc" in argv[5:])
    elif cmd == "crc":
        with open(argv[2], "rb") as f:
            print("0x%08X" % (~zlib.crc32(f.read()[:-4]) & 0xFFFFFFFF))
    elif cmd == "json":
        with open(argv[2]) as f:
            j = json.load(f)
        print(eval(argv[3], {"j": j}))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
