#!/usr/bin/env python3
"""Writes fixtures/estat/: census mesh files in the layouts e-Stat publishes them.

Each file is what one download holds, `tbl<table><level><1st mesh>.txt`: CP932, CRLF,
unquoted, a row of column codes, a row of Japanese labels (empty over the key columns, each
label opening with a full-width space), then one row per cell. The counts are invented (small
numbers that can be checked by hand) on cells of the 1st-order mesh 5438, inside the grid
fixture's municipalities; the layouts are the published ones, as written down with their
sources in docs/DATA_SOURCES.md:

- 2010, 500 m, T000609 (男女別人口総数及び世帯総数): KEY_CODE and four values, no secrecy
  columns; label spellings after the 2015 pattern (unconfirmed).
- 2015, 500 m, T000847 (人口等基本集計): 45 columns; 人口総数, aged 65+ in column 016 and 75+
  in 019; the first four labels verbatim from the published file.
- 2020, 500 m, T001101 (人口及び世帯): 54 columns; 人口（総数）, 18+ and 85+/95+ bands added,
  so aged 65+ is column 019 and 75+ 022.
- 2020, 1 km (T001100) and 250 m (T001102): the same 50 value columns.

Suppressed rows (HTKSYORI 2) keep their total (秘匿対象外) and households, `*` elsewhere, as the
published 2015 sample shows; their receiving cell (HTKSYORI 1, GASSAN) holds the group's detail.
"""

from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "estat"
KEYS = ["KEY_CODE", "HTKSYORI", "HTKSAKI", "GASSAN"]
S = "\u3000"  # full-width space


def bands(names, total_word, sep):
    """Labels for bands with 総数/男/女 each: `sep` is what stands between the band and 総数."""
    out = []
    for n in names:
        out += [f"{S}{n}{sep}総数" if total_word else f"{S}{n}", f"{S}{n}{S}男", f"{S}{n}{S}女"]
    return out


# Household columns shared by 2015 (025-041) and 2020 (034-050).
HOUSEHOLDS = [f"{S}世帯総数", f"{S}一般世帯数", f"{S}１人世帯数", f"{S}２人世帯数", f"{S}３人世帯数",
              f"{S}４人世帯数", f"{S}５人世帯数", f"{S}６人世帯数", f"{S}７人以上世帯数", f"{S}親族のみ世帯数",
              f"{S}核家族世帯数", f"{S}核家族以外世帯数", f"{S}６歳未満世帯員のいる世帯数",
              f"{S}６５歳以上世帯員のいる世帯数", f"{S}世帯主の年齢が２０～２９歳の１人世帯数",
              f"{S}高齢単身世帯数", f"{S}高齢夫婦世帯数"]

LABELS_2015 = ([f"{S}人口総数", f"{S}人口総数{S}男", f"{S}人口総数{S}女"]
               + bands(["０～１４歳人口", "１５歳以上人口", "１５～６４歳人口", "２０歳以上人口",
                        "６５歳以上人口", "７５歳以上人口", "外国人人口"], True, "")
               + HOUSEHOLDS)
LABELS_2020 = ([f"{S}人口（総数）", f"{S}人口（総数）{S}男", f"{S}人口（総数）{S}女"]
               + bands(["０～１４歳人口", "１５歳以上人口", "１５～６４歳人口", "１８歳以上人口",
                        "２０歳以上人口", "６５歳以上人口", "７５歳以上人口", "８５歳以上人口",
                        "９５歳以上人口", "外国人人口"], True, S)
               + HOUSEHOLDS)
assert len(LABELS_2015) == 41 and len(LABELS_2020) == 50


def split(n):
    return [n - n // 2, n // 2]


def values(layout, total, a014, a65, a75, households):
    """One row's 41 (2015) or 50 (2020) values from the four measures."""
    a15 = total - a014
    a1564 = total - a014 - a65
    a85 = a75 // 3
    a95 = a85 // 4
    a18 = a15 - min(a15, 1)
    a20 = a18 - min(a18, 1)
    b = lambda n: [n] + split(n)  # noqa: E731
    if layout == 2015:
        v = b(total) + b(a014) + b(a15) + b(a1564) + b(a20) + b(a65) + b(a75) + b(0)
    else:
        v = (b(total) + b(a014) + b(a15) + b(a1564) + b(a18) + b(a20) + b(a65) + b(a75) + b(a85)
             + b(a95) + b(0))
    hh = [households, households] + [households // 2, households - households // 2] + [0] * 13
    return v + hh


def suppressed(layout, total, households):
    """A HTKSYORI 2 row: totals and households as published, `*` for the rest."""
    n = 41 if layout == 2015 else 50
    v = ["*"] * n
    v[0:3] = [total] + split(total)
    first_hh = 24 if layout == 2015 else 33
    v[first_hh:first_hh + 2] = [households, households]
    return v


def write(name, codes, labels, rows):
    lines = [",".join(codes), ",".join([""] * (len(codes) - len(labels)) + labels)]
    for r in rows:
        # Zero counts are written `-`, as e-Stat does; the key columns as they are.
        keys = len(codes) - len(labels)
        lines.append(",".join([str(x) for x in r[:keys]] + ["-" if x == 0 else str(x) for x in r[keys:]]))
    (OUT / name).write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))


def census(layout, table, level, rows):
    n = 41 if layout == 2015 else 50
    codes = KEYS + [f"{table}{i:03d}" for i in range(1, n + 1)]
    labels = LABELS_2015 if layout == 2015 else LABELS_2020
    out = []
    for key, secrecy, into, gassan, measures in rows:
        if secrecy == 2:
            v = suppressed(layout, measures[0], measures[1])
        else:
            v = values(layout, *measures)
        out.append([key, secrecy, into, gassan] + v)
    write(f"tbl{table}{level}5438.txt", codes, labels, out)


# (key, HTKSYORI, HTKSAKI, GASSAN, (total, 0-14, 65+, 75+, households) or (total, households))
GROUPS = [
    ("543830611", 0, "", "", (64, 6, 23, 9, 25)),
    ("543830612", 2, "543830613", "", (3, 2)),
    ("543830613", 1, "", "543830612", (57, 6, 30, 12, 22)),
    ("543830621", 1, "", "543830622;543830623", (24, 3, 15, 6, 11)),
    ("543830622", 2, "543830621", "", (2, 1)),
    ("543830623", 2, "543830621", "", (4, 2)),
    ("543830631", 2, "543837071", "", (5, 2)),
    ("543830632", 0, "", "", (0, 0, 0, 0, 0)),
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    census(2015, "T000847", "H", GROUPS)
    census(2020, "T001101", "H", GROUPS)
    census(2020, "T001100", "S", [
        ("54383061", 0, "", "", (150, 15, 60, 25, 60)),
        ("54383062", 1, "", "54383063", (40, 4, 20, 9, 16)),
        ("54383063", 2, "54383062", "", (6, 3)),
    ])
    census(2020, "T001102", "Q", [
        ("5438306111", 0, "", "", (20, 2, 8, 3, 9)),
        ("5438306112", 1, "", "5438306113", (9, 1, 6, 2, 4)),
        ("5438306113", 2, "5438306112", "", (1, 1)),
    ])
    # 2010: totals and households only, no secrecy columns.
    codes = ["KEY_CODE"] + [f"T000609{i:03d}" for i in range(1, 5)]
    labels = [f"{S}人口総数", f"{S}人口総数{S}男", f"{S}人口総数{S}女", f"{S}世帯総数"]
    rows = [[k, t] + split(t) + [h] for k, t, h in
            [("543830611", 70, 27), ("543830612", 4, 2), ("543830613", 60, 23), ("543830621", 31, 12)]]
    write("tblT000609H5438.txt", codes, labels, rows)


if __name__ == "__main__":
    main()
