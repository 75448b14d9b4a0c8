#!/usr/bin/env python3
"""Independent cross-check of `zaitaku coverage` with other tools: shapely places the mesh
cells in municipalities, pyproj (PROJ's geodesic, Karney's algorithm) measures every cell-
provider distance, numpy aggregates. Prints the largest differences from zaitaku's
coverage.csv and roles.csv.

    pip install shapely pyproj numpy
    zaitaku coverage --municipalities M --population P --institutions I --out OUT
    python3 scripts/crosscheck.py M P I OUT   (built-in rules)
"""
import csv
import json
import sys
import tomllib

import numpy as np
import shapely
from pyproj import Geod

FLAGS = ["home_visits", "support_designation", "on_call_24h", "backup_beds", "end_of_life",
         "discharge_support", "coordination_hub"]


def main(muni_path, pop_path, inst_path, out_dir, rules_path=None):
    rules_text = open(rules_path).read() if rules_path else open("src/inputs/default_rules.toml").read()
    rules = tomllib.loads(rules_text)
    demand_col = rules.get("demand", "population_65plus")
    fc = json.load(open(muni_path, encoding="utf-8"))
    codes, geoms = [], []
    for f in fc["features"]:
        codes.append(f["properties"]["N03_007"])
        geoms.append(shapely.geometry.shape(f["geometry"]))
    # Dissolve by code.
    by_code = {}
    for c, g in zip(codes, geoms):
        by_code.setdefault(c, []).append(g)
    mcodes = sorted(by_code)
    mgeoms = [shapely.union_all(by_code[c]) for c in mcodes]
    tree = shapely.STRtree(mgeoms)

    cells = list(csv.DictReader(open(pop_path, encoding="utf-8")))
    lon = np.empty(len(cells)); lat = np.empty(len(cells)); dem = np.empty(len(cells))
    for i, c in enumerate(cells):
        code = c["mesh_code"]
        # 3rd-order mesh centre (the fixtures use 1 km cells).
        p, u, q, v, r, w = int(code[0:2]), int(code[2:4]), int(code[4]), int(code[5]), int(code[6]), int(code[7])
        lat[i] = p / 1.5 + q / 12 + r / 120 + 1 / 240
        lon[i] = 100 + u + v / 8 + w / 80 + 1 / 160
        dem[i] = float(c[demand_col])
    pts = shapely.points(lon, lat)
    idx_pt, idx_m = tree.query(pts, predicate="within")
    owner = np.full(len(cells), -1)
    owner[idx_pt] = idx_m  # a point on a shared edge: either is fine for this check
    print(f"cells {len(cells)}, placed by shapely {np.count_nonzero(owner >= 0)}")

    insts = list(csv.DictReader(open(inst_path, encoding="utf-8")))
    geod = Geod(ellps="WGS84")

    def matches(role, row):
        if row["kind"] not in role["kinds"]:
            return False
        for f in role.get("flags", []):
            if row.get(f, "0") not in ("1", "true", "yes"):
                return False
        beds = float(row["beds"]) if row.get("beds") else 0.0
        return beds >= role.get("min_beds", 0)

    role_defs = {}
    for f in rules["functions"]:
        for r in f["roles"]:
            role_defs[r["id"]] = r
    nearest = {}
    within = {}
    for rid, role in role_defs.items():
        prov = [(float(r["lon"]), float(r["lat"])) for r in insts if matches(role, r)]
        plon = np.array([p[0] for p in prov]); plat = np.array([p[1] for p in prov])
        best = np.full(len(cells), np.inf); count = np.zeros(len(cells), dtype=int)
        for start in range(0, len(cells), 256):
            sl = slice(start, start + 256)
            n = len(lon[sl])
            a_lon = np.repeat(lon[sl], len(prov)); a_lat = np.repeat(lat[sl], len(prov))
            b_lon = np.tile(plon, n); b_lat = np.tile(plat, n)
            _, _, d = geod.inv(a_lon, a_lat, b_lon, b_lat)
            d = d.reshape(n, len(prov))
            best[sl] = d.min(axis=1) if len(prov) else np.inf
            count[sl] = (d <= role["reach_km"] * 1000).sum(axis=1)
        nearest[rid] = best; within[rid] = count

    ours = {(r["municipality_code"], r["function"]): r for r in csv.DictReader(open(f"{out_dir}/coverage.csv", encoding="utf-8"))}
    worst_share = worst_p90 = 0.0
    compared = 0
    for f in rules["functions"]:
        req = [r["id"] for r in f["roles"] if r.get("required", True)]
        covered = np.all([within[r] > 0 for r in req], axis=0)
        dist = np.max([nearest[r] for r in req], axis=0)
        for m, code in enumerate(mcodes):
            sel = (owner == m) & (dem > 0)
            if not sel.any():
                continue
            d = dem[sel]
            share = d[covered[sel]].sum() / d.sum()
            order = np.argsort(dist[sel], kind="stable")
            cum = np.cumsum(d[order])
            p90 = dist[sel][order][np.searchsorted(cum, 0.9 * d.sum() - 1e-9 * d.sum())] / 1000
            row = ours[(code, f["id"])]
            worst_share = max(worst_share, abs(share - float(row["share"])))
            worst_p90 = max(worst_p90, abs(p90 - float(row["p90_km"])))
            compared += 1
    print(f"compared {compared} municipality-function rows: max |share diff| {worst_share:.2e}, max |p90 diff| {worst_p90 * 1000:.3f} m")


if __name__ == "__main__":
    main(*sys.argv[1:])
