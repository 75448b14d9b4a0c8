#!/usr/bin/env python3
"""Checks a zaitaku road graph against an independent build of the same rules.

    python3 scripts/check_network.py F.osm.pbf F.graph [RULES.toml]

Reads the PBF with pyosmium (libosmium), keeps the highway classes and speeds of the rules'
[network] table (the built-in rules when none is given), applies the same access, one-way and
maxspeed tags, measures every segment on the WGS84 ellipsoid with geographiclib, takes the
largest strongly connected component with networkx, and compares nodes and directed edges
(by coordinates, travel time in tenths of a second) with the zaitaku graph file. Then prints
networkx's Dijkstra from three random nodes of the zaitaku graph (nodes reached, farthest
time, sum of times): tests/network.rs holds these figures for zaitaku's own search.
Needs: pip install osmium
networkx geographiclib.
"""
import json
import random
import struct
import subprocess
import sys
import tomllib

import networkx as nx
import osmium
from geographiclib.geodesic import Geodesic

from zaitaku_graph import read_graph


def maxspeed(v):
    if v is None:
        return None
    v = v.split(";")[0].strip()
    mph = v.endswith("mph")
    v = v[:-3].strip() if mph else v.replace("km/h", "").replace("kmh", "").replace("kph", "").strip()
    try:
        x = float(v)
    except ValueError:
        return None
    if not (0 < x <= 300):
        return None
    return x * 1.609344 if mph else x


def reference(pbf, speeds):
    ways = []
    for w in osmium.FileProcessor(pbf, osmium.osm.WAY):
        t = dict(w.tags)
        hw = t.get("highway")
        if hw is None or hw not in speeds or t.get("area") == "yes":
            continue
        acc = t.get("motorcar") or t.get("motor_vehicle") or t.get("vehicle") or t.get("access")
        if acc in ("no", "private"):
            continue
        ow = t.get("oneway")
        if ow in ("yes", "true", "1"):
            d = 1
        elif ow in ("-1", "reverse"):
            d = -1
        elif ow in ("no", "false", "0"):
            d = 0
        elif ow in ("reversible", "alternating"):
            continue
        else:
            d = 1 if t.get("junction") in ("roundabout", "circular") or hw == "motorway" else 0
        refs = [n.ref for n in w.nodes]
        if len(refs) < 2:
            continue
        ways.append((w.id, d, maxspeed(t.get("maxspeed")) or speeds[hw], refs))
    needed = {r for w in ways for r in w[3]}
    loc = {}
    for n in osmium.FileProcessor(pbf, osmium.osm.NODE):
        if n.id in needed:
            loc[n.id] = (n.location.y, n.location.x)  # 1e-7 degree integers
    g = nx.DiGraph()
    for _, d, kmh, refs in ways:
        for a, b in zip(refs, refs[1:]):
            if a not in loc or b not in loc or a == b:
                continue
            (la, lo), (lb, lob) = loc[a], loc[b]
            s = Geodesic.WGS84.Inverse(la * 1e-7, lo * 1e-7, lb * 1e-7, lob * 1e-7)["s12"]
            t = max(1, round(s / (kmh / 3.6) * 10))
            for u, v in ([(a, b)] if d == 1 else [(b, a)] if d == -1 else [(a, b), (b, a)]):
                if not g.has_edge(u, v) or g[u][v]["t"] > t:
                    g.add_edge(u, v, t=t)
    before = (g.number_of_nodes(), g.number_of_edges())
    big = max(nx.strongly_connected_components(g), key=len)
    return g.subgraph(big).copy(), loc, before


def main():
    pbf, graph_path = sys.argv[1], sys.argv[2]
    rules = tomllib.loads(open(sys.argv[3]).read() if len(sys.argv) > 3 else
                          subprocess.run(["cargo", "run", "--release", "-q", "--", "rules", "--default"],
                                         capture_output=True, text=True, check=True).stdout)
    speeds = rules["network"]["speeds_kmh"]
    ref, loc, before = reference(pbf, speeds)
    info, lat, lon, first, head, time = read_graph(graph_path)
    n, m = len(lat), len(head)
    print(f"reference (pyosmium + geographiclib + networkx): before SCC {before[0]} nodes, {before[1]} edges; "
          f"largest SCC {ref.number_of_nodes()} nodes, {ref.number_of_edges()} edges")
    print(f"zaitaku: before {info['nodes_before']} nodes, {info['edges_before']} edges; "
          f"graph {n} nodes, {m} edges")
    ours = {}
    for v in range(n):
        for e in range(first[v], first[v + 1]):
            ours[((lat[v], lon[v]), (lat[head[e]], lon[head[e]]))] = time[e]
    theirs = {(loc[u], loc[v]): d["t"] for u, v, d in ref.edges(data=True)}
    missing = set(theirs) - set(ours)
    extra = set(ours) - set(theirs)
    off = [k for k in set(ours) & set(theirs) if abs(ours[k] - theirs[k]) > 1]
    print(f"edges only in the reference {len(missing)}, only in zaitaku {len(extra)}, "
          f"times differing by more than 0.1 s {len(off)}")
    ok = (n, m) == (ref.number_of_nodes(), ref.number_of_edges()) and not missing and not extra and not off

    # Shortest times on the zaitaku graph by networkx, from random sources: printed so the
    # test's figures (tests/network.rs) can be compared by hand.
    z = nx.DiGraph()
    for v in range(n):
        for e in range(first[v], first[v + 1]):
            z.add_edge(v, head[e], t=time[e])
    rng = random.Random(7)
    for s in rng.sample(range(n), 3):
        d = nx.single_source_dijkstra_path_length(z, s, weight="t")
        print(f"source {s}: reaches {len(d)} nodes, farthest {max(d.values())} tenths, sum {sum(d.values())}")
    print("OK" if ok else "DIFFERENT")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
