#!/usr/bin/env python3
"""A synthetic layout of the national benchmark's municipalities into regions, as many per
prefecture as Japan has secondary medical regions (335 over about 1,900 municipalities):
k-means (numpy, fixed seed) on the municipalities' box centres within each prefecture.
The regions are not guaranteed contiguous, as real layouts are not always.

    python3 scripts/make_national_regions.py bench-data/municipalities.geojson bench-data/regions.csv
"""
import csv
import json
import sys

import numpy as np


def main(src, dst):
    centre = {}
    for f in json.load(open(src, encoding="utf-8"))["features"]:
        code = f["properties"]["N03_007"]
        if code is None:
            continue
        geometry = f["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        coords = np.array([c for poly in polygons for c in poly[0]])
        lo, hi = coords.min(axis=0), coords.max(axis=0)
        box = centre.setdefault(code, [lo, hi])
        box[0], box[1] = np.minimum(box[0], lo), np.maximum(box[1], hi)
    by_pref = {}
    for code, (lo, hi) in sorted(centre.items()):
        by_pref.setdefault(code[:2], []).append((code, (lo + hi) / 2))
    total = len(centre)
    rng = np.random.default_rng(335)
    rows = []
    for pref, items in sorted(by_pref.items()):
        pts = np.array([p for _, p in items])
        k = max(1, round(335 * len(items) / total))
        centres = pts[rng.choice(len(pts), k, replace=False)]
        for _ in range(30):
            label = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
            for j in range(k):
                if (label == j).any():
                    centres[j] = pts[label == j].mean(axis=0)
        for (code, _), j in zip(items, label):
            rows.append((code, f"{pref}{j + 1:02d}", f"region {pref}-{j + 1}"))
    with open(dst, "w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(["municipality_code", "region_code", "region_name"])
        w.writerows(rows)
    print(f"{len(rows)} municipalities in {len({r[1] for r in rows})} regions")


if __name__ == "__main__":
    main(*sys.argv[1:])
