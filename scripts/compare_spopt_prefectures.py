#!/usr/bin/env python3
"""Catchments per prefecture against PySAL spopt's MaxPHeuristic, on the same problem: classic
max-p with a floor of N home-visit institutions (clinics and hospitals with home_visits = 1)
per catchment, on zaitaku's own contiguity graph (adjacency.csv, island links included).

    pip install spopt libpysal geopandas
    python3 scripts/compare_spopt_prefectures.py MUNICIPALITIES.geojson POPULATION.csv INSTITUTIONS.csv [N]

Runs `zaitaku catchments` with a one-role rules file (visiting physicians) and
`--min-share 0 --min-providers N`, counts the institutions per municipality from zaitaku's
institutions placement (the same rule: the polygon holding the point, else the nearest within
1 km), then spopt per prefecture with the count as the threshold variable; prints both counts
per prefecture and the prefectures where spopt finds more. spopt gets at most 180 s per
prefecture (it ran for over ten minutes on one).
"""
import csv
import multiprocessing
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import libpysal
import numpy as np
from spopt.region import MaxPHeuristic

RULES = """demand = "population_65plus"
[[functions]]
id = "home_visits"
label = "home visits"
[[functions.roles]]
id = "visiting_physician"
kinds = ["clinic", "hospital"]
flags = ["home_visits"]
reach_km = 16.0
"""


LIMIT = 180


def solve(part, w, floor):
    np.random.seed(0)
    model = MaxPHeuristic(part, w, ["x", "y"], "hv", floor, top_n=2, verbose=False)
    model.solve()
    return model.p


def main(muni, pop, inst, floor=3):
    root = Path(__file__).resolve().parent.parent
    tmp = Path(tempfile.mkdtemp())
    (tmp / "rules.toml").write_text(RULES)
    out = tmp / "out"
    t = time.time()
    subprocess.run([str(root / "target/release/zaitaku"), "report", "--quiet", "--municipalities", muni,
                    "--population", pop, "--institutions", inst, "--rules", str(tmp / "rules.toml"),
                    "--min-share", "0", "--min-providers", str(floor), "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    print(f"zaitaku report (coverage, catchments, layers): {time.time() - t:.1f} s")
    summary = json.load(open(out / "catchments_summary.json", encoding="utf-8"))
    ours = {u["unit"]: u for u in summary["units"]}
    # Providers per municipality, from zaitaku's institutions layer (placed as zaitaku places them).
    count = {}
    layer = json.load(open(out / "institutions.geojson", encoding="utf-8"))
    for f in layer["features"]:
        p = f["properties"]
        if p.get("kind") in ("clinic", "hospital") and str(p.get("home_visits")) in ("1", "true", "True") and p.get("municipality_code"):
            count[p["municipality_code"]] = count.get(p["municipality_code"], 0) + 1
    gdf = gpd.read_file(muni)
    gdf = gdf[gdf["N03_007"].notna()].dissolve(by="N03_007").reset_index()
    cent = gdf.to_crs(6933).centroid
    gdf["x"], gdf["y"] = cent.x / 1000, cent.y / 1000
    gdf["hv"] = [count.get(c, 0) for c in gdf["N03_007"]]
    links = list(csv.DictReader(open(out / "adjacency.csv", encoding="utf-8")))
    rows = []
    total_spopt = 0.0
    for pref, part in gdf.groupby("N03_001"):
        part = part.reset_index(drop=True)
        index = {c: i for i, c in enumerate(part["N03_007"])}
        neighbors = {i: [] for i in range(len(part))}
        for r in links:
            if r["code_a"] in index and r["code_b"] in index:
                a, b = index[r["code_a"]], index[r["code_b"]]
                neighbors[a].append(b)
                neighbors[b].append(a)
        w = libpysal.weights.W(neighbors, silence_warnings=True)
        t = time.time()
        if part["hv"].sum() < floor:
            p = 0
        else:
            # spopt can run for very long on some prefectures: each gets at most LIMIT seconds.
            with multiprocessing.Pool(1) as pool:
                job = pool.apply_async(solve, (part, w, floor))
                try:
                    p = job.get(timeout=LIMIT)
                except multiprocessing.TimeoutError:
                    p = None
        total_spopt += time.time() - t
        u = ours.get(pref, {})
        r = (pref, len(part), p, u.get("catchments"), u.get("upper_bound"), u.get("exact"))
        rows.append(r)
        print(f"{r[0]}\t{r[1]} municipalities\tspopt {r[2]} ({time.time() - t:.1f} s)\tzaitaku {r[3]} (at most {r[4]}; {r[5]})", flush=True)
    fewer = [r for r in rows if r[2] is not None and r[3] is not None and r[3] < r[2]]
    print(f"spopt {sum(r[2] or 0 for r in rows)} regions (no answer within {LIMIT} s: {[r[0] for r in rows if r[2] is None]}) in {total_spopt:.1f} s; zaitaku {sum(r[3] or 0 for r in rows)}; "
          f"prefectures where spopt finds more: {len(fewer)} {[r[0] for r in fewer]}")


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], a[2], int(a[3]) if len(a) > 3 else 3)
