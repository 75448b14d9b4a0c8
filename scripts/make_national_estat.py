#!/usr/bin/env python3
"""A national set of e-Stat census mesh files (2020, 1 km, T001100 layout) from a simple
population CSV, for the benchmark of reading census files as published:

    python3 scripts/make_national_estat.py bench-real/population.csv bench-real/estat

One file per 1st-order mesh, `tblT001100S<mesh>.txt`, in the layout of
scripts/make_estat_fixtures.py (CP932, CRLF, codes and labels, 50 value columns). Secrecy as
e-Stat applies it, on synthetic rules: a cell of fewer than 10 people keeps its total, and its
age detail goes to the next cell of the same file with at least 10 (HTKSYORI 2 / 1, HTKSAKI,
GASSAN). Aged 0-14 is 12 % of the total (synthetic). Prints the totals a reader must find.
"""
import csv
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_estat_fixtures import KEYS, LABELS_2020, suppressed, values  # noqa: E402


def main():
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    by_mesh = defaultdict(list)
    with open(src, newline="") as f:
        for r in csv.DictReader(f):
            t, a65, a75 = (int(round(float(r[k]))) for k in ("population", "population_65plus", "population_75plus"))
            by_mesh[r["mesh_code"][:4]].append((r["mesh_code"], t, min(a65, t), min(a75, a65, t)))
    codes = KEYS + [f"T001100{i:03d}" for i in range(1, 51)]
    totals = [0, 0, 0, 0]
    for first, cells in sorted(by_mesh.items()):
        cells.sort()
        rows = []
        receivers = {}
        pending = []
        for code, t, a65, a75 in cells:
            a014 = min(t - a65, t * 12 // 100)
            if t < 10:
                pending.append((code, t, a65, a75, a014))
                continue
            group = [(code, t, a65, a75, a014)] + pending
            receivers[code] = group
            pending = []
        # Cells after the last receiver of a file keep their own detail.
        plain = {p[0]: p for p in pending}
        for code, t, a65, a75 in cells:
            totals[0] += t
            if code in receivers:
                g = receivers[code]
                s65, s75, s014 = (sum(x[i] for x in g) for i in (2, 3, 4))
                hh = max(1, t // 2)
                rows.append([code, 1 if len(g) > 1 else 0, "", ";".join(x[0] for x in g[1:])]
                            + values(2020, t, s014, s65, s75, hh))
            elif code in plain:
                a014 = plain[code][4]
                rows.append([code, 0, "", ""] + values(2020, t, a014, a65, a75, max(1, t // 2)))
            else:
                receiver = next(r for r, g in receivers.items() if any(x[0] == code for x in g))
                rows.append([code, 2, receiver, ""] + suppressed(2020, t, max(1, t // 2)))
                totals[3] += 1
            totals[1] += a65
            totals[2] += a75
        lines = [",".join(codes), ",".join([""] * 4 + LABELS_2020)]
        for r in rows:
            lines.append(",".join([str(x) for x in r[:4]] + ["-" if x == 0 else str(x) for x in r[4:]]))
        (out / f"tblT001100S{first}.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    print(f"{len(by_mesh)} files; total {totals[0]}, aged 65+ {totals[1]}, aged 75+ {totals[2]}; {totals[3]} cells suppressed")


if __name__ == "__main__":
    main()
