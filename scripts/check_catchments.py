#!/usr/bin/env python3
"""Independent checks of `zaitaku catchments` with PySAL.

1. Contiguity: libpysal's Rook and Queen weights (shared edges / shared vertices, exact
   coordinates) and its fuzzy contiguity (buffers of about a metre) on the dissolved
   municipalities against zaitaku's adjacency.csv. zaitaku links boundaries that come within
   --snap-m or cross, so it may find more pairs than exact Queen; it must not miss any, and
   it should match the fuzzy weights.
2. Adjusted Rand index: scikit-learn's adjusted_rand_score on catchment_assignment.csv
   against the value in catchments_summary.json.
3. Every catchment is connected in zaitaku's adjacency (links of every kind).
4. Classic max-p (with --maxp THRESHOLD): spopt's MaxPHeuristic on the same graph (zaitaku's
   adjacency.csv, island links included) and the same demand (coverage.csv), threshold on
   demand, against zaitaku's count from a run with
   `--min-share 0 --min-providers 0 --min-demand THRESHOLD`.

    pip install libpysal spopt geopandas scikit-learn
    python3 scripts/check_catchments.py MUNICIPALITIES.geojson OUT_DIR [--maxp THRESHOLD COVERAGE_CSV]
"""
import csv
import json
import sys
import time

import geopandas as gpd
import libpysal
import numpy as np
from sklearn.metrics import adjusted_rand_score


def load_links(out_dir):
    rows = list(csv.DictReader(open(f"{out_dir}/adjacency.csv", encoding="utf-8")))
    return rows


def main(argv):
    muni_path, out_dir = argv[0], argv[1]
    gdf = gpd.read_file(muni_path)
    gdf = gdf[gdf["N03_007"].notna()].dissolve(by="N03_007").reset_index()
    codes = list(gdf["N03_007"])
    links = load_links(out_dir)
    ours_rook = {(r["code_a"], r["code_b"]) for r in links if r["kind"] == "rook"}
    ours_touch = {(r["code_a"], r["code_b"]) for r in links if r["kind"] in ("rook", "queen")}

    def pairs(w):
        out = set()
        for i, ns in w.neighbors.items():
            for j in ns:
                a, b = codes[i], codes[j]
                if a < b:
                    out.add((a, b))
        return out

    t = time.time()
    rook = pairs(libpysal.weights.Rook.from_dataframe(gdf, use_index=False, silence_warnings=True))
    queen = pairs(libpysal.weights.Queen.from_dataframe(gdf, use_index=False, silence_warnings=True))
    print(f"libpysal contiguity in {time.time() - t:.1f} s")
    print(f"rook: libpysal {len(rook)}, zaitaku {len(ours_rook)}; "
          f"libpysal rook pairs zaitaku misses: {len(rook - ours_touch)}, "
          f"libpysal rook pairs zaitaku calls queen: {len(rook & (ours_touch - ours_rook))}")
    print(f"queen: libpysal {len(queen)}, zaitaku rook+queen {len(ours_touch)}; "
          f"missed {len(queen - ours_touch)}, extra {len(ours_touch - queen)}")
    for p in sorted(queen - ours_touch)[:10]:
        print("  missed", p)
    # Fuzzy contiguity: boundaries within a buffer of about a metre (1e-5 degree), which is
    # what --snap-m 1 asks for.
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.time()
        fuzzy = pairs(libpysal.weights.fuzzy_contiguity(gdf, tolerance=0.0, buffering=True, buffer=1e-5))
    print(f"fuzzy (1e-5 degree buffer, {time.time() - t:.1f} s): libpysal {len(fuzzy)}, zaitaku {len(ours_touch)}; "
          f"missed {len(fuzzy - ours_touch)}, extra {len(ours_touch - fuzzy)}")
    for p in sorted(fuzzy - ours_touch)[:10]:
        print("  missed", p)
    for p in sorted(ours_touch - fuzzy)[:10]:
        print("  extra", p)

    assign = list(csv.DictReader(open(f"{out_dir}/catchment_assignment.csv", encoding="utf-8")))
    summary = json.load(open(f"{out_dir}/catchments_summary.json", encoding="utf-8"))
    with_region = [r for r in assign if r["region_code"]]
    if with_region and summary.get("comparison"):
        ari = adjusted_rand_score([r["region_code"] for r in with_region], [r["catchment_id"] for r in with_region])
        print(f"adjusted Rand index: scikit-learn {ari:.6f}, zaitaku {summary['comparison']['adjusted_rand_index']}")

    # Connectedness of each catchment in zaitaku's graph.
    nbrs = {}
    for r in links:
        nbrs.setdefault(r["code_a"], set()).add(r["code_b"])
        nbrs.setdefault(r["code_b"], set()).add(r["code_a"])
    members = {}
    for r in assign:
        members.setdefault(r["catchment_id"], set()).add(r["municipality_code"])
    broken = 0
    for cid, ms in members.items():
        start = next(iter(ms))
        seen, stack = {start}, [start]
        while stack:
            m = stack.pop()
            for b in nbrs.get(m, ()):
                if b in ms and b not in seen:
                    seen.add(b)
                    stack.append(b)
        broken += len(seen) != len(ms)
    print(f"catchments: {len(members)}, not connected: {broken}")

    if "--maxp" in argv:
        k = argv.index("--maxp")
        threshold, coverage_csv = float(argv[k + 1]), argv[k + 2]
        demand = {}
        for r in csv.DictReader(open(coverage_csv, encoding="utf-8")):
            demand[r["municipality_code"]] = float(r["demand"])
        gdf["demand"] = [demand.get(c, 0.0) for c in codes]
        cent = gdf.to_crs(6933).centroid
        gdf["x"], gdf["y"] = cent.x / 1000, cent.y / 1000
        index = {c: i for i, c in enumerate(codes)}
        neighbors = {i: [] for i in range(len(codes))}
        for r in links:
            a, b = index[r["code_a"]], index[r["code_b"]]
            neighbors[a].append(b)
            neighbors[b].append(a)
        w = libpysal.weights.W(neighbors, silence_warnings=True)
        from spopt.region import MaxPHeuristic
        np.random.seed(0)
        t = time.time()
        model = MaxPHeuristic(gdf, w, ["x", "y"], "demand", threshold, top_n=2, verbose=False)
        model.solve()
        print(f"spopt MaxPHeuristic: {model.p} regions in {time.time() - t:.1f} s "
              f"(threshold {threshold:g} on demand); zaitaku: {len(members)} catchments")


if __name__ == "__main__":
    main(sys.argv[1:])
