"""Reads a zaitaku road graph file (the layout of src/network/mod.rs) for the scripts."""
import json
import struct


def read_graph(path):
    b = open(path, "rb").read()
    assert b[:16] == b"ZAITAKU-GRAPH\0\0\0", "not a zaitaku graph"
    version, info_len = struct.unpack_from("<II", b, 16)
    at = 24 + info_len
    info = json.loads(b[24:at])
    n, m = struct.unpack_from("<QQ", b, at)
    at += 16
    lat = struct.unpack_from(f"<{n}i", b, at); at += 4 * n
    lon = struct.unpack_from(f"<{n}i", b, at); at += 4 * n
    first = struct.unpack_from(f"<{n + 1}I", b, at); at += 4 * (n + 1)
    head = struct.unpack_from(f"<{m}I", b, at); at += 4 * m
    time = struct.unpack_from(f"<{m}I", b, at)
    return info, lat, lon, first, head, time
