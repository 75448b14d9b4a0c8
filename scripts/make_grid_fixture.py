#!/usr/bin/env python3
"""Writes fixtures/grid: a 3x3 grid of square municipalities, a row of 1 km mesh cells and
three institutions, with the expected coverage figures computed independently of zaitaku:
mesh codes from the JIS X 0410 formula written out here, distances with geographiclib
(Karney's geodesic, the reference implementation), shares and percentiles by plain Python.

    pip install geographiclib==2.0 && python3 scripts/make_grid_fixture.py
"""
import json
import math
import os

from geographiclib.geodesic import Geodesic

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "grid")
LON0, LAT0, DLON, DLAT = 138.0, 36.0, 0.25, 0.2


def mesh3(lon, lat):
    """3rd-order (1 km) mesh code of a point, and its centre."""
    p, a = divmod(lat * 60, 40)
    q, b = divmod(a, 5)
    r, _ = divmod(b * 60, 30)
    u, f = int(lon - 100), lon - int(lon)
    v, g = divmod(f * 60, 7.5)
    w, _ = divmod(g * 60, 45)
    code = f"{int(p):02d}{u:02d}{int(q)}{int(v)}{int(r)}{int(w)}"
    clat = p * 40 / 60 + q * 5 / 60 + r * 30 / 3600 + 15 / 3600
    clon = 100 + u + v * 7.5 / 60 + w * 45 / 3600 + 22.5 / 3600
    return code, clon, clat


def main():
    os.makedirs(OUT, exist_ok=True)
    features = []
    for row in range(3):
        for col in range(3):
            n = row * 3 + col + 1
            x0, y0 = LON0 + col * DLON, LAT0 + row * DLAT
            ring = [[x0, y0], [x0 + DLON, y0], [x0 + DLON, y0 + DLAT], [x0, y0 + DLAT], [x0, y0]]
            features.append({
                "type": "Feature",
                "properties": {"N03_001": "長野県", "N03_004": f"m{n}", "N03_005": None, "N03_007": f"2000{n}"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            })
    with open(os.path.join(OUT, "municipalities.geojson"), "w", encoding="utf-8") as fh:
        json.dump({"type": "FeatureCollection", "features": features}, fh, ensure_ascii=False, indent=1)

    # Institutions: a visiting clinic in the centre municipality (m5), a visiting nurse
    # station in m4 (west of it), and a clinic that does not visit in m6.
    clinic = (138.375, 36.3)
    nurse = (138.2, 36.3)
    institutions = [
        ("C1", "clinic A", "clinic", clinic, "1"),
        ("N1", "nurse station B", "visiting_nurse", nurse, "1"),
        ("C2", "clinic C", "clinic", (138.6, 36.3), "0"),
    ]
    with open(os.path.join(OUT, "institutions.csv"), "w", encoding="utf-8") as fh:
        fh.write("id,name,kind,lat,lon,home_visits\n")
        for i, name, kind, (lon, lat), hv in institutions:
            fh.write(f"{i},{name},{kind},{lat},{lon},{hv}\n")

    # A row of 1 km cells along lat 36.3, every 3rd cell from lon 138.02 to 138.72, with
    # 65+ population 10, 20, 30, ... so every cell weighs differently.
    cells = []
    lon = 138.02
    k = 1
    while lon < 138.74:
        code, clon, clat = mesh3(lon, 36.3)
        cells.append({"code": code, "lon": clon, "lat": clat, "pop": 100 * k, "p65": 10 * k})
        lon += 3 * 45 / 3600
        k += 1
    with open(os.path.join(OUT, "population.csv"), "w", encoding="utf-8") as fh:
        fh.write("mesh_code,population,population_65plus\n")
        for c in cells:
            fh.write(f"{c['code']},{c['pop']},{c['p65']}\n")

    with open(os.path.join(OUT, "rules.toml"), "w", encoding="utf-8") as fh:
        fh.write(
            'demand = "population_65plus"\n\n'
            '[[functions]]\nid = "visit"\nlabel = "doctor visits"\n\n'
            '[[functions.roles]]\nid = "doctor"\nkinds = ["clinic"]\nflags = ["home_visits"]\nreach_km = 16.0\n\n'
            '[[functions]]\nid = "team"\nlabel = "doctor and nurse"\n\n'
            '[[functions.roles]]\nid = "doctor"\nkinds = ["clinic"]\nflags = ["home_visits"]\nreach_km = 16.0\n\n'
            '[[functions.roles]]\nid = "nurse"\nkinds = ["visiting_nurse"]\nreach_km = 16.0\n'
        )

    g = Geodesic.WGS84
    expected_cells = []
    for c in cells:
        d_doc = g.Inverse(c["lat"], c["lon"], clinic[1], clinic[0])["s12"] / 1000
        d_nur = g.Inverse(c["lat"], c["lon"], nurse[1], nurse[0])["s12"] / 1000
        col = int((c["lon"] - LON0) // DLON)
        expected_cells.append({
            "mesh_code": c["code"], "municipality_code": f"2000{3 + col + 1}", "demand": c["p65"],
            "doctor_km": d_doc, "nurse_km": d_nur,
            "visit": d_doc <= 16, "team": d_doc <= 16 and d_nur <= 16,
        })

    def weighted_p90(pairs):
        pairs = sorted(pairs)
        total = sum(w for _, w in pairs)
        acc = 0
        for d, w in pairs:
            acc += w
            if acc >= 0.9 * total:
                return d

    expected = {"cells": expected_cells, "municipalities": {}}
    for m in sorted({c["municipality_code"] for c in expected_cells}):
        mine = [c for c in expected_cells if c["municipality_code"] == m]
        demand = sum(c["demand"] for c in mine)
        out = {}
        for f in ("visit", "team"):
            dist = [(c["doctor_km"] if f == "visit" else max(c["doctor_km"], c["nurse_km"]), c["demand"]) for c in mine]
            covered = sum(c["demand"] for c in mine if c[f])
            out[f] = {
                "demand": demand, "covered": covered, "share": covered / demand,
                "mean_km": sum(d * w for d, w in dist) / demand,
                "p90_km": weighted_p90(dist), "max_km": max(d for d, _ in dist),
            }
        expected["municipalities"][m] = out
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as fh:
        json.dump(expected, fh, indent=1)
    print(f"{len(cells)} cells written to {OUT}")


if __name__ == "__main__":
    main()
