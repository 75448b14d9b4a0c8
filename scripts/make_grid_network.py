#!/usr/bin/env python3
"""The hand-made road network of the grid fixture and its expected travel times.

    python3 scripts/make_grid_network.py fixtures/grid

Writes `roads.osm.pbf` (with pyosmium) and `roads_expected.json` (with networkx and
geographiclib, from the same list of ways, not from the PBF):

- a primary road along lat 36.3 from lon 138.0 to 138.75 (maxspeed 60), with a node under
  every population cell's centre and at every institution; east of clinic C1 (lon 138.375)
  it is one-way westbound (`oneway=-1` on a way drawn eastward);
- a slow road (residential, maxspeed 10) from C1 south to lat 36.29, east to lon 138.75 and
  back north to the primary road: the only way east from C1;
- a spur (residential, maxspeed 30) from the primary road north or south to every cell
  centre; a footway that must not be driven; a private service road that must not be driven.

Expected: per cell, minutes from the nearest home-visiting clinic (C1) and from the visiting
nurse station (N1) by road, the off-road legs being zero (every point sits on a node), each
edge rounded to a tenth of a second as zaitaku stores it.
"""
import csv
import json
import sys

import networkx as nx
import osmium
from geographiclib.geodesic import Geodesic


def centre(code):
    p, u, q, v, r, w = int(code[0:2]), int(code[2:4]), int(code[4]), int(code[5]), int(code[6]), int(code[7])
    return (100 + u + v / 8 + w / 80 + 1 / 160, p / 1.5 + q / 12 + r / 120 + 1 / 240)


def main(folder):
    cells = [row["mesh_code"] for row in csv.DictReader(open(f"{folder}/population.csv"))]
    centres = {c: centre(c) for c in cells}
    institutions = {row["id"]: (float(row["lon"]), float(row["lat"]), row) for row in
                    csv.DictReader(open(f"{folder}/institutions.csv"))}
    # 1e-7 degree grid, as OSM stores coordinates.
    q = lambda x: round(x * 1e7) / 1e7
    nodes = {}

    def node(lon, lat):
        key = (q(lon), q(lat))
        if key not in nodes:
            nodes[key] = len(nodes) + 1
        return nodes[key]

    trunk_lons = sorted({138.0, 138.75} | {x for x, _ in centres.values()} |
                        {x for x, _, _ in institutions.values()})
    west = [node(x, 36.3) for x in trunk_lons if x <= 138.375]
    east = [node(x, 36.3) for x in trunk_lons if x >= 138.375]
    slow = [node(138.375, 36.3), node(138.375, 36.29), node(138.75, 36.29), node(138.75, 36.3)]
    ways = [
        ("primary", {"maxspeed": "60"}, west),
        ("primary", {"maxspeed": "60", "oneway": "-1"}, east),
        ("residential", {"maxspeed": "10"}, slow),
        ("footway", {}, [node(138.2, 36.3), node(138.2, 36.35)]),
        ("service", {"access": "private"}, [node(138.375, 36.3), node(138.4, 36.35)]),
    ]
    for c, (x, y) in sorted(centres.items()):
        ways.append(("residential", {"maxspeed": "30"}, [node(x, 36.3), node(x, y)]))

    with osmium.SimpleWriter(f"{folder}/roads.osm.pbf", overwrite=True) as w:
        for (lon, lat), i in sorted(nodes.items(), key=lambda kv: kv[1]):
            w.add_node(osmium.osm.mutable.Node(id=i, location=(lon, lat), version=1))
        for k, (hw, tags, refs) in enumerate(ways, start=1):
            w.add_way(osmium.osm.mutable.Way(id=k, nodes=refs, tags={"highway": hw, **tags}, version=1))

    # The same network in networkx, from the way list.
    at = {i: key for key, i in nodes.items()}
    g = nx.DiGraph()
    for hw, tags, refs in ways:
        if hw == "footway" or tags.get("access") == "private":
            continue
        kmh = float(tags["maxspeed"])
        for a, b in zip(refs, refs[1:]):
            (xa, ya), (xb, yb) = at[a], at[b]
            s = Geodesic.WGS84.Inverse(ya, xa, yb, xb)["s12"]
            t = max(1, round(s / (kmh / 3.6) * 10))
            d = tags.get("oneway")
            if d != "-1":
                g.add_edge(a, b, t=t)
            if d != "yes":
                g.add_edge(b, a, t=t)
    out = {"cells": []}
    reach = {}
    for role, ids in [("doctor", ["C1"]), ("nurse", ["N1"])]:
        sources = [nodes[(q(institutions[i][0]), q(institutions[i][1]))] for i in ids]
        reach[role] = (nx.multi_source_dijkstra_path_length(g, sources, weight="t"), institutions[ids[0]])
    for c, (x, y) in sorted(centres.items()):
        v = nodes[(q(x), q(y))]
        row = {"mesh_code": c}
        for role, (dist, inst) in reach.items():
            row[f"{role}_min"] = dist[v] / 600 if v in dist else None
            row[f"{role}_km"] = Geodesic.WGS84.Inverse(y, x, inst[1], inst[0])["s12"] / 1000
        out["cells"].append(row)
    out["graph"] = {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()}
    json.dump(out, open(f"{folder}/roads_expected.json", "w"), indent=1)
    print(f"{len(nodes)} nodes, {len(ways)} ways; driven graph {g.number_of_nodes()} nodes, {g.number_of_edges()} edges")


if __name__ == "__main__":
    main(sys.argv[1])
