#!/usr/bin/env python3
"""Writes fixtures/reference/road_access_visiting_nurse.csv: 2SFCA and E2SFCA of the
visiting-nurse role on the demo data by road, computed by PySAL's `access` package from
travel times that networkx's Dijkstra measures on the demo's road graph.

    zaitaku demo   # writes zaitaku-demo/by_road/roads.graph (the demo's synthetic lattice)
    pip install access==1.1.10.post3 networkx pyproj scipy numpy pandas
    python3 scripts/make_road_access_reference.py zaitaku-demo/by_road/roads.graph

Independent of zaitaku's search and snapping: places (1 km mesh centres) and stations join
the graph at their nearest node (scipy's KD-tree on unit vectors, arc on the sphere of
radius 6,371,008.8 m), the leg off the road at offroad_kmh (the built-in 15 km/h), in whole
tenths of a second as the graph's edges are; a station farther than snap_limit_m (the
built-in 2,000 m) reaches nobody. A pair counts within 30 minutes (legs included) and 16 km
in a straight line (pyproj's geodesic on WGS84). Supply = capacity (1 when absent), demand =
aged 65+, E2SFCA steps 10/20/30 minutes weighted 1, 0.68, 0.22.
"""
import csv
import os
import sys

import networkx as nx
import numpy as np
import pandas as pd
from access import Access, weights
from pyproj import Geod
from scipy.spatial import cKDTree

from make_access_reference import centre
from zaitaku_graph import read_graph

ROOT = os.path.join(os.path.dirname(__file__), "..")
DEMO = os.path.join(ROOT, "fixtures", "demo")
OUT = os.path.join(ROOT, "fixtures", "reference", "road_access_visiting_nurse.csv")
REACH_M = 16_000.0
LIMIT = 30 * 600  # tenths of a second
OFFROAD_KMH = 15.0
SNAP_LIMIT_M = 2_000.0
R = 6_371_008.8


def xyz(lon, lat):
    lon, lat = np.radians(lon), np.radians(lat)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def snap(tree, lon, lat):
    chord, node = tree.query(xyz(np.asarray(lon), np.asarray(lat)))
    metres = 2 * R * np.arcsin(np.minimum(chord / 2, 1.0))
    leg = np.round(metres / (OFFROAD_KMH / 3.6) * 10).astype(np.int64)
    return node, metres, leg


def main(graph_path):
    info, lat, lon, first, head, time = read_graph(graph_path)
    g = nx.DiGraph()
    for v in range(len(lat)):
        for e in range(first[v], first[v + 1]):
            g.add_edge(v, head[e], t=time[e])
    nodes = xyz(np.array(lon) / 1e7, np.array(lat) / 1e7)
    tree = cKDTree(nodes)

    cells = pd.read_csv(os.path.join(DEMO, "nagano_population.csv"), dtype={"mesh_code": str})
    lonlat = np.array([centre(c) for c in cells["mesh_code"]])
    cells["lon"], cells["lat"] = lonlat[:, 0], lonlat[:, 1]
    c_node, c_m, c_leg = snap(tree, cells["lon"].values, cells["lat"].values)
    at_node = {}
    for i, (v, m) in enumerate(zip(c_node, c_m)):
        if m <= SNAP_LIMIT_M:
            at_node.setdefault(int(v), []).append(i)

    inst = pd.read_csv(os.path.join(DEMO, "nagano_institutions.csv"))
    nurses = inst[inst["kind"] == "visiting_nurse"].copy()
    nurses["supply"] = nurses["capacity"].fillna(1.0)
    s_node, s_m, s_leg = snap(tree, nurses["lon"].values, nurses["lat"].values)
    geod = Geod(ellps="WGS84")
    rows = []
    for (j, n), v, m, leg in zip(nurses.iterrows(), s_node, s_m, s_leg):
        if m > SNAP_LIMIT_M or leg > LIMIT:
            continue
        dist = nx.single_source_dijkstra_path_length(g, int(v), cutoff=LIMIT - leg, weight="t")
        for w, t in dist.items():
            for i in at_node.get(w, []):
                total = t + leg + c_leg[i]
                if total > LIMIT:
                    continue
                _, _, d = geod.inv(cells["lon"].values[i], cells["lat"].values[i], n["lon"], n["lat"])
                if d <= REACH_M:
                    rows.append((cells["mesh_code"].values[i], n["id"], total / 600.0))
    cost = pd.DataFrame(rows, columns=["origin", "dest", "cost"])
    demand = cells.set_index("mesh_code")[["population_65plus"]]
    supply = nurses.set_index("id")[["supply"]]
    acc = Access(
        demand_df=demand, demand_index=True, demand_value="population_65plus",
        supply_df=supply, supply_index=True, supply_value="supply",
        cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="cost",
    )
    a2 = acc.two_stage_fca(name="2sfca", max_cost=30.0)
    step = weights.step_fn({10.0: 1.0, 20.0: 0.68, 30.0: 0.22})
    ae = acc.enhanced_two_stage_fca(name="e2sfca", max_cost=30.0, weight_fn=step)
    out = pd.DataFrame({"a_2sfca": a2.iloc[:, 0], "a_e2sfca": ae.iloc[:, 0]})
    out = out.reindex(demand.index).fillna(0.0)
    with open(OUT, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["mesh_code", "a_2sfca", "a_e2sfca", "pairs"])
        per_cell = cost.groupby("origin").size()
        for code, r in out.iterrows():
            w.writerow([code, repr(float(r["a_2sfca"])), repr(float(r["a_e2sfca"])), int(per_cell.get(code, 0))])
    print(f"{info['source']}: {len(lat)} nodes; {len(out)} cells, {len(cost)} pairs within reach, "
          f"{len(nurses)} stations -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "zaitaku-demo/by_road/roads.graph")
