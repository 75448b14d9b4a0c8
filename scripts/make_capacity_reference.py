#!/usr/bin/env python3
"""Writes fixtures/reference/capacity_reference.csv: for several roles of the demo data,
the need, the most need that can be served within reach under the providers' capacities
(networkx's maximum flow) and AccessMod's facility-by-facility fill in capacity order,
written here from its description, for the Rust test to compare `zaitaku capacity` with.

    zaitaku demo   # writes zaitaku-demo/by_road/roads.graph (the demo's synthetic lattice)
    pip install networkx pyproj scipy numpy pandas geopandas
    python3 scripts/make_capacity_reference.py zaitaku-demo/by_road/roads.graph

Independent of zaitaku's solver and indexes. Places are the 1 km mesh centres, need =
aged 65+ x 0.019 (the built-in need rate), in units of 1/10,000 of a person as zaitaku
counts them; capacity = the row's capacity, else the built-in default of its kind (clinic
and hospital 30, visiting nurse 43, pharmacy 10), in the same units. Straight line: a
pair is within reach at pyproj's geodesic distance on WGS84 within the role's reach_km.
By road (visiting nurses): travel times from networkx's Dijkstra with the snapping of
scripts/make_road_access_reference.py, within 30 minutes and 16 km in a straight line.

Max flow: source -> place (need), place -> provider within reach (no limit), provider ->
sink (capacity). The fill: providers by capacity, largest first (ties in file order), each
taking the unmet need of its places nearest first up to its capacity.
"""
import csv
import os
import sys

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from pyproj import Geod
from scipy.spatial import cKDTree

from make_access_reference import centre
from make_road_access_reference import LIMIT, SNAP_LIMIT_M, snap, xyz
from zaitaku_graph import read_graph

ROOT = os.path.join(os.path.dirname(__file__), "..")
DEMO = os.path.join(ROOT, "fixtures", "demo")
OUT = os.path.join(ROOT, "fixtures", "reference", "capacity_reference.csv")
RATE = 0.019
UNIT = 10_000.0
DEFAULT = {"clinic": 30.0, "hospital": 30.0, "visiting_nurse": 43.0, "pharmacy": 10.0}

# role: (kinds, flags, min_beds, reach_km)
ROLES = {
    "visiting_nurse": (["visiting_nurse"], [], 0, 16.0),
    "terminal_care_nurse": (["visiting_nurse"], ["end_of_life"], 0, 16.0),
    "visiting_physician": (["clinic", "hospital"], ["home_visits"], 0, 16.0),
    "on_call_physician": (["clinic", "hospital"], ["home_visits", "on_call_24h"], 0, 16.0),
    "backup_bed": (["hospital", "clinic"], ["backup_beds"], 1, 30.0),
    "visiting_pharmacy": (["pharmacy"], ["home_visits"], 0, 16.0),
}


def units(x):
    return int(np.floor(x * UNIT + 0.5))


def providers_of(inst, role):
    kinds, flags, min_beds, _ = ROLES[role]
    keep = inst["kind"].isin(kinds) & (inst["beds"].fillna(0) >= min_beds)
    for f in flags:
        keep &= inst[f] == 1
    sel = inst[keep].copy()
    sel["cap_units"] = [units(c if not np.isnan(c) else DEFAULT[k]) for c, k in zip(sel["capacity"], sel["kind"])]
    return sel


def max_flow(need, caps, pairs):
    """pairs: per provider, list of (place, cost)."""
    g = nx.DiGraph()
    for i, n in enumerate(need):
        if n > 0:
            g.add_edge("s", ("p", i), capacity=n)
    for j, (c, lst) in enumerate(zip(caps, pairs)):
        if c > 0:
            g.add_edge(("j", j), "t", capacity=c)
        for i, _ in lst:
            g.add_edge(("p", i), ("j", j))
    if "s" not in g or "t" not in g:
        return 0
    return nx.maximum_flow_value(g, "s", "t")


def fill(need, caps, pairs, rank):
    """rank: each place's position in zaitaku's place order, for ties of cost."""
    left = list(need)
    order = sorted(range(len(caps)), key=lambda j: (-caps[j], j))
    served = 0
    for j in order:
        room = caps[j]
        for i, _ in sorted(pairs[j], key=lambda e: (e[1], rank[e[0]])):
            if room <= 0:
                break
            x = min(left[i], room)
            if x > 0:
                left[i] -= x
                room -= x
                served += x
    return served


def main(graph_path):
    cells = pd.read_csv(os.path.join(DEMO, "nagano_population.csv"), dtype={"mesh_code": str})
    lonlat = np.array([centre(c) for c in cells["mesh_code"]])
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    # zaitaku's place order (by municipality code, then mesh code) breaks ties of cost in
    # the fill: the municipality of each centre by point in polygon.
    munis = gpd.read_file(os.path.join(DEMO, "nagano_municipalities.geojson"))
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=munis.crs)
    joined = gpd.sjoin(points, munis[["N03_007", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    code = joined["N03_007"].fillna("").values
    order = sorted(range(len(cells)), key=lambda i: (code[i], cells["mesh_code"][i]))
    rank = [0] * len(cells)
    for k, i in enumerate(order):
        rank[i] = k
    need = [units(d * RATE) for d in cells["population_65plus"].astype(float)]
    inst = pd.read_csv(os.path.join(DEMO, "nagano_institutions.csv"))
    geod = Geod(ellps="WGS84")
    rows = []
    for role, (_, _, _, reach_km) in ROLES.items():
        sel = providers_of(inst, role)
        pairs = []
        for _, p in sel.iterrows():
            _, _, d = geod.inv(np.full(len(lon), p["lon"]), np.full(len(lat), p["lat"]), lon, lat)
            idx = np.nonzero(d <= reach_km * 1000.0)[0]
            pairs.append([(int(i), float(d[i])) for i in idx])
        caps = list(sel["cap_units"])
        served = max_flow(need, caps, pairs)
        filled = fill(need, caps, pairs, rank)
        rows.append(("straight", role, sum(need) / UNIT, served / UNIT, filled / UNIT, len(sel), sum(map(len, pairs))))
        print(rows[-1])

    # By road: visiting nurses on the demo's lattice.
    _, glat, glon, first, head, time = read_graph(graph_path)
    g = nx.DiGraph()
    for v in range(len(glat)):
        for e in range(first[v], first[v + 1]):
            g.add_edge(v, head[e], t=time[e])
    tree = cKDTree(xyz(np.array(glon) / 1e7, np.array(glat) / 1e7))
    c_node, c_m, c_leg = snap(tree, lon, lat)
    at_node = {}
    for i, (v, m) in enumerate(zip(c_node, c_m)):
        if m <= SNAP_LIMIT_M:
            at_node.setdefault(int(v), []).append(i)
    sel = providers_of(inst, "visiting_nurse")
    s_node, s_m, s_leg = snap(tree, sel["lon"].values, sel["lat"].values)
    pairs = []
    for (_, n), v, m, leg in zip(sel.iterrows(), s_node, s_m, s_leg):
        lst = []
        if m <= SNAP_LIMIT_M and leg <= LIMIT:
            dist = nx.single_source_dijkstra_path_length(g, int(v), cutoff=LIMIT - leg, weight="t")
            for w, t in dist.items():
                for i in at_node.get(w, []):
                    total = t + leg + c_leg[i]
                    if total > LIMIT:
                        continue
                    _, _, d = geod.inv(lon[i], lat[i], n["lon"], n["lat"])
                    if d <= 16_000.0:
                        lst.append((i, total / 600.0))
        pairs.append(lst)
    caps = list(sel["cap_units"])
    rows.append(("road", "visiting_nurse", sum(need) / UNIT, max_flow(need, caps, pairs) / UNIT,
                 fill(need, caps, pairs, rank) / UNIT, len(sel), sum(map(len, pairs))))
    print(rows[-1])
    with open(OUT, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["mode", "role", "need", "served", "fill_served", "providers", "pairs"])
        for r in rows:
            w.writerow([r[0], r[1], repr(r[2]), repr(r[3]), repr(r[4]), r[5], r[6]])
    print(f"-> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "zaitaku-demo/by_road/roads.graph")
