#!/usr/bin/env python3
"""Writes fixtures/reference/pysal_access_visiting_nurse.csv: 2SFCA and E2SFCA of the
visiting-nurse role on the demo data, computed by PySAL's `access` package from distances
measured with pyproj (PROJ's geodesic), for the Rust test to compare against.

Role: kind visiting_nurse, reach 16 km, supply = capacity (1 when absent), demand = aged
65+, E2SFCA steps over thirds of the reach (16/3, 32/3, 16 km) weighted 1, 0.68, 0.22, and
the Gaussian E2SFCA with sigma 8 km, cut at the reach.

    pip install access==1.1.10.post3 pyproj numpy pandas && python3 scripts/make_access_reference.py
"""
import csv
import os

import numpy as np
import pandas as pd
from access import Access, weights
from pyproj import Geod

ROOT = os.path.join(os.path.dirname(__file__), "..")
DEMO = os.path.join(ROOT, "fixtures", "demo")
OUT = os.path.join(ROOT, "fixtures", "reference", "pysal_access_visiting_nurse.csv")
REACH_M = 16_000.0
SIGMA_M = 8_000.0  # Gaussian E2SFCA: f(d) = exp(-d^2 / (2 sigma^2)), cut at the reach


def centre(code):
    p, u, q, v, r, w = int(code[0:2]), int(code[2:4]), int(code[4]), int(code[5]), int(code[6]), int(code[7])
    return 100 + u + v / 8 + w / 80 + 1 / 160, p / 1.5 + q / 12 + r / 120 + 1 / 240


def main():
    cells = pd.read_csv(os.path.join(DEMO, "nagano_population.csv"), dtype={"mesh_code": str})
    lonlat = np.array([centre(c) for c in cells["mesh_code"]])
    cells["lon"], cells["lat"] = lonlat[:, 0], lonlat[:, 1]
    inst = pd.read_csv(os.path.join(DEMO, "nagano_institutions.csv"))
    nurses = inst[inst["kind"] == "visiting_nurse"].copy()
    nurses["supply"] = nurses["capacity"].fillna(1.0)
    geod = Geod(ellps="WGS84")
    rows = []
    for j, n in nurses.iterrows():
        _, _, d = geod.inv(cells["lon"].values, cells["lat"].values, np.full(len(cells), n["lon"]), np.full(len(cells), n["lat"]))
        near = np.nonzero(d <= REACH_M)[0]
        rows.extend(zip(cells["mesh_code"].values[near], [n["id"]] * len(near), d[near]))
    cost = pd.DataFrame(rows, columns=["origin", "dest", "cost"])
    demand = cells.set_index("mesh_code")[["population_65plus"]]
    supply = nurses.set_index("id")[["supply"]]
    acc = Access(
        demand_df=demand, demand_index=True, demand_value="population_65plus",
        supply_df=supply, supply_index=True, supply_value="supply",
        cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="cost",
    )
    a2 = acc.two_stage_fca(name="2sfca", max_cost=REACH_M)
    step = weights.step_fn({REACH_M / 3: 1.0, 2 * REACH_M / 3: 0.68, REACH_M: 0.22})
    ae = acc.enhanced_two_stage_fca(name="e2sfca", max_cost=REACH_M, weight_fn=step)
    ag = acc.enhanced_two_stage_fca(name="gauss", max_cost=REACH_M, weight_fn=weights.gaussian(SIGMA_M))
    out = pd.DataFrame({"a_2sfca": a2.iloc[:, 0], "a_e2sfca": ae.iloc[:, 0], "a_gaussian": ag.iloc[:, 0]})
    out = out.reindex(demand.index).fillna(0.0)
    with open(OUT, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["mesh_code", "a_2sfca", "a_e2sfca", "a_gaussian"])
        for code, r in out.iterrows():
            w.writerow([code, repr(float(r["a_2sfca"])), repr(float(r["a_e2sfca"])), repr(float(r["a_gaussian"]))])
    print(f"{len(out)} cells, {len(cost)} pairs within reach, {len(nurses)} stations -> {OUT}")


if __name__ == "__main__":
    main()
