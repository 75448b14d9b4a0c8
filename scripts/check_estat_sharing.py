#!/usr/bin/env python3
"""Independent check of e-Stat secrecy sharing: reads the census files with Python's csv and
a coverage run's cells.parquet with pandas, and checks that every secrecy group's aged 65+
after sharing sums to the receiving cell's published figure and that no cell gets more aged
65+ than its own total. The rules' demand must be population_65plus (the built-in rules).

    python3 scripts/check_estat_sharing.py RESULTS/cells.parquet 'bench-real/estat/*.txt'
"""
import csv
import glob
import sys

import pandas as pd


def main():
    cells = pd.read_parquet(sys.argv[1])
    demand = dict(zip(cells.mesh_code.astype(str), cells.demand))
    groups = mismatches = over = people = 0
    for path in sorted(glob.glob(sys.argv[2])):
        rows = list(csv.reader(open(path, encoding="cp932")))
        codes, labels = rows[0], rows[1]
        col = next(i for i, l in enumerate(labels) if l.replace("\u3000", "").replace(" ", "") in ("65歳以上人口総数", "６５歳以上人口総数"))
        total = {r[0]: int(r[4]) if r[4] != "-" else 0 for r in rows[2:]}
        for r in rows[2:]:
            if r[codes.index("HTKSYORI")] != "1":
                continue
            members = [r[0]] + [m for m in r[codes.index("GASSAN")].split(";") if m]
            published = int(r[col]) if r[col] != "-" else 0
            groups += 1
            people += published
            mismatches += sum(demand.get(m, 0) for m in members) != published
            over += sum(1 for m in members if demand.get(m, 0) > total.get(m, 0))
    print(f"{groups} groups, {people} aged 65+ in them: {mismatches} sums differ from the published figure, {over} cells over their total")
    sys.exit(1 if mismatches or over else 0)


if __name__ == "__main__":
    main()
