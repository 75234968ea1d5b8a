#!/usr/bin/env python3
"""Marks one symbol-version requirement of an ELF shared library as weak (VER_FLG_WEAK), in place.

The dynamic loader then no longer refuses the library when that version is missing; the symbols that
needed it are resolved from any loaded object that defines them (here the stand-in libglibcxx332shim.so).
Usage: peers-weaken-version.py LIB VERSION   (e.g. libLibTorchSharp.so GLIBCXX_3.4.32)
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2

path, version = sys.argv[1], sys.argv[2].encode()
with open(path, "r+b") as f:
    data = bytearray(f.read())
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "expects a 64-bit little-endian ELF"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    done = 0
    for (_, stype, _, _, off, _, link, info, _, _) in sections:
        if stype != SHT_GNU_VERNEED:
            continue
        stroff = sections[link][4]
        vn = off
        for _ in range(info):
            _, cnt, _, aux, nxt = struct.unpack_from("<HHIII", data, vn)
            va = vn + aux
            for _ in range(cnt):
                h, flags, other, name, vnext = struct.unpack_from("<IHHII", data, va)
                end = data.index(b"\0", stroff + name)
                if bytes(data[stroff + name:end]) == version and not flags & VER_FLG_WEAK:
                    struct.pack_into("<H", data, va + 4, flags | VER_FLG_WEAK)
                    done += 1
                va += vnext
            vn += nxt
    f.seek(0)
    f.write(data)
print(f"{path}: {version.decode()} weakened ({done} entries)")
