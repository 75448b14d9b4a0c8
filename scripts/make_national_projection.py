#!/usr/bin/env python3
"""A synthetic national projection in the national land data's layout (将来推計人口メッシュ,
2024 edition: 2020-2070 every five years) from the benchmark's 1 km population: per cell
`MESH_ID`, `SHICODE` (empty here), and per year `PTN_Y`, `PTA_Y`, `PTB_Y`, `PTC_Y`, `PTD_Y`,
`PTE_Y`, with a cell polygon. Totals shrink and age at rates that vary by cell (fixed seed);
the values are fractional, as projections are.

    python3 scripts/make_national_projection.py bench-data/population.csv bench-data/projection.geojson

The demo's projection (three of the years, no cell polygons since zaitaku reads the cell
from `MESH_ID`, only the columns zaitaku reads, hundredths) is made from the demo
population with

    python3 scripts/make_national_projection.py fixtures/demo/nagano_population.csv \
        fixtures/demo/nagano_projection.geojson --years 2020,2035,2050 --lean
"""
import argparse
import csv
import json
import random


def square(code):
    p, u, q, v, r, w = int(code[0:2]), int(code[2:4]), int(code[4]), int(code[5]), int(code[6]), int(code[7])
    lat = p / 1.5 + q / 12 + r / 120
    lon = 100 + u + v / 8 + w / 80
    return [[[round(lon, 7), round(lat, 7)], [round(lon + 1 / 80, 7), round(lat, 7)],
             [round(lon + 1 / 80, 7), round(lat + 1 / 120, 7)], [round(lon, 7), round(lat + 1 / 120, 7)],
             [round(lon, 7), round(lat, 7)]]]


def main(src, dst, years, lean):
    rng = random.Random(2024)
    every = list(range(2020, 2071, 5))
    with open(dst, "w", encoding="utf-8") as out:
        out.write('{"type":"FeatureCollection","name":"mesh1km_2024","features":[\n')
        first = True
        for row in csv.DictReader(open(src, encoding="utf-8")):
            code = row["mesh_code"]
            if len(code) != 8:
                continue
            total, old = float(row["population"]), float(row["population_65plus"])
            shrink = rng.uniform(0.005, 0.025)
            ageing = rng.uniform(0.0, 0.008)
            props = {"MESH_ID": code, "SHICODE": ""}
            for k, y in enumerate(every):
                if y not in years:
                    continue
                t = total * (1 - shrink) ** (k * 5)
                share65 = min(0.7, old / total + ageing * k * 5) if total > 0 else 0.0
                c = t * share65
                d = c * 0.55
                props.update({f"PTN_{y}": round(t, 4), f"PTA_{y}": round(t * 0.1, 4),
                              f"PTB_{y}": round(t - c - t * 0.1, 4), f"PTC_{y}": round(c, 4),
                              f"PTD_{y}": round(d, 4), f"PTE_{y}": round(d * 0.6, 4)})
            if lean:
                props = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in props.items()
                         if k[:4] not in ("PTA_", "PTB_", "PTE_")}
            shape = None if lean else {"type": "Polygon", "coordinates": square(code)}
            feature = {"type": "Feature", "properties": props, "geometry": shape}
            out.write(("" if first else ",\n") + json.dumps(feature, separators=(",", ":")))
            first = False
        out.write("\n]}\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("population")
    parser.add_argument("out")
    parser.add_argument("--years", default=",".join(str(y) for y in range(2020, 2071, 5)))
    parser.add_argument("--lean", action="store_true",
                        help="no polygons, only MESH_ID, SHICODE, PTN/PTC/PTD, rounded to hundredths")
    a = parser.parse_args()
    main(a.population, a.out, [int(y) for y in a.years.split(",")], a.lean)
