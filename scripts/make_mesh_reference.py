#!/usr/bin/env python3
"""Writes fixtures/reference/jismesh_points.csv: mesh codes of 10,000 random points in
Japan at the six JIS X 0410 levels (1st, 2nd, 3rd, half, quarter, eighth) and the
south-west corner of each eighth mesh, all computed by the independent Python package
jismesh, so that the Rust tests compare against it without Python.

    pip install jismesh==2.1.0 && python3 scripts/make_mesh_reference.py
"""
import csv
import os
import random

import jismesh.utils as ju

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "reference", "jismesh_points.csv")


def main():
    rng = random.Random(20261124)
    with open(OUT, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["lat", "lon", "lv1", "lv2", "lv3", "lv4", "lv5", "lv6", "sw_lat6", "sw_lon6"])
        for _ in range(10_000):
            lat = round(rng.uniform(20.0, 45.99), 7)
            lon = round(rng.uniform(122.0, 153.99), 7)
            codes = [int(ju.to_meshcode(lat, lon, level)) for level in range(1, 7)]
            sw_lat, sw_lon = ju.to_meshpoint(codes[-1], 0, 0)
            w.writerow([lat, lon, *codes, repr(float(sw_lat)), repr(float(sw_lon))])


if __name__ == "__main__":
    main()
