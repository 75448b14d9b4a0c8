#!/usr/bin/env python3
"""Writes fixtures/open_data/: the health ministry's 医療情報ネット facility files as published.

One file per kind, named as downloaded (`01-1_hospital_facility_info_YYYYMMDD.csv`, ...; the
clinics zipped, as they are served), UTF-8 with a byte-order mark, every header field quoted,
data fields quoted except the two coordinates. Columns are those documented for the files
(docs/DATA_SOURCES.md); the closing-day and opening-hour columns between the address block and
the beds are abridged to a few, which readers skip by name. The facilities are invented, on
real municipalities of Nagano (fixtures/n03/nagano_n03_2021.json), with the published faults:
coordinates 0.0/0.0 and empty, a point outside Japan, one point shared by facilities of two
municipalities (a placeholder) within a file and another across two files, and a point far
outside its declared municipality.
"""

import io
import json
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "open_data"
DATE = "20240601"

HEAD = ["ID", "正式名称", "正式名称（フリガナ）", "略称", "略称（フリガナ）", "英語表記（ローマ字表記）", "機関区分",
        "都道府県コード", "市区町村コード", "所在地", "所在地座標（緯度）", "所在地座標（経度）", "案内用ホームページアドレス",
        "毎週決まった曜日に休診（月）", "毎週決まった曜日に休診（日）", "祝日に休診"]
BEDS = ["一般病床", "療養病床", "療養病床のうち医療保険適用", "療養病床のうち介護保険適用", "精神病床", "感染症病床",
        "結核病床", "合計病床数"]
PHARMACY = ["ID", "名称", "フリガナ", "都道府県コード", "市区町村コード", "所在地", "所在地座標（緯度）",
            "所在地座標（経度）", "薬局のホームページアドレス", "毎週決まった曜日に休業（日）"]


def inside(code):
    """A point inside municipality `code` of the Nagano N03 fixture (grid search, ray casting)."""
    fc = json.load(open(ROOT / "fixtures" / "n03" / "nagano_n03_2021.json", encoding="utf-8"))
    polys = []
    for f in fc["features"]:
        if f["properties"]["N03_007"] != code:
            continue
        g = f["geometry"]
        polys += [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]

    def contains(x, y):
        for poly in polys:
            ring, hit = poly[0], False
            for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
                if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                    hit = not hit
            if hit:
                return True
        return False

    xs = [p[0] for poly in polys for p in poly[0]]
    ys = [p[1] for poly in polys for p in poly[0]]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    best = None
    for i in range(-40, 41):
        for j in range(-40, 41):
            x, y = cx + i * (max(xs) - min(xs)) / 80, cy + j * (max(ys) - min(ys)) / 80
            if contains(x, y) and (best is None or (i * i + j * j) < best[0]):
                best = (i * i + j * j, round(x, 6), round(y, 6))
    return best[2], best[1]


def write(name, header, rows, zipped=False):
    def q(v):
        return '"' + str(v).replace('"', '""') + '"'
    lat, lon = header.index("所在地座標（緯度）"), header.index("所在地座標（経度）")
    lines = [",".join(q(h) for h in header)]
    for r in rows:
        lines.append(",".join(str(v) if i in (lat, lon) else q(v) for i, v in enumerate(r)))
    data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")
    if zipped:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(name, data)
        (OUT / name.replace(".csv", ".zip")).write_bytes(buf.getvalue())
    else:
        (OUT / name).write_bytes(data)


def facility(id_, name, kana, kind, pref, city, address, lat, lon, beds=None):
    row = [id_, name, kana, "", "", "", kind, pref, city, address, lat, lon, "", "", "", ""]
    if beds is not None:
        row += beds[:-1] + [beds[-1]]
    return row


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    nagano, matsumoto, ueda = inside("20201"), inside("20202"), inside("20203")
    office = (36.651299, 138.180956)  # 長野県庁: the kind of point given to unlocated facilities
    hospitals = [
        facility("2010000001", "長野中央総合病院", "ナガノチュウオウソウゴウビョウイン", "1", "20", "201", "長野県長野市中央一丁目1番1号", *nagano, [280, 20, 20, 0, 0, 0, 0, 300]),
        facility("2010000002", "松本みどり病院", "マツモトミドリビョウイン", "1", "20", "203", "長野県上田市天神一丁目2番3号", *matsumoto, [100, 50, 50, 0, 0, 0, 0, 150]),
        facility("2010000003", "座標なし病院", "ザヒョウナシビョウイン", "1", "20", "202", "長野県松本市大手三丁目4番5号", "0.0", "0.0", [40, 0, 0, 0, 0, 0, 0, 40]),
    ]
    write(f"01-1_hospital_facility_info_{DATE}.csv", HEAD + BEDS, hospitals)
    clinics = [
        facility("2020000001", "医療法人社団 みどり会 みどり内科クリニック", "ミドリナイカクリニック", "2", "20", "201", "長野県長野市南千歳一丁目1番", round(nagano[0] + 0.002, 6), round(nagano[1] + 0.002, 6), [0, 0, 0, 0, 0, 0, 0, 0]),
        facility("2020000002", "住所だけ診療所", "ジュウショダケシンリョウジョ", "2", "20", "201", "長野県長野市篠ノ井1番", "", "", [0, 0, 0, 0, 0, 0, 0, 0]),
        facility("2020000003", "県庁座標内科医院", "ケンチョウザヒョウナイカイイン", "2", "20", "201", "長野県長野市若里2番", *office, [0, 0, 0, 0, 0, 0, 0, 0]),
        facility("2020000004", "県庁座標外科医院", "ケンチョウザヒョウゲカイイン", "2", "20", "202", "長野県松本市島内3番", *office, [0, 0, 0, 0, 0, 0, 0, 0]),
        facility("2020000005", "上田ふれあい診療所", "ウエダフレアイシンリョウジョ", "2", "20", "203", "長野県上田市材木町一丁目2番", *ueda, [19, 0, 0, 0, 0, 0, 0, 19]),
    ]
    write(f"02-1_clinic_facility_info_{DATE}.csv", HEAD + BEDS, clinics, zipped=True)
    dental = [
        facility("2030000001", "ながの歯科医院", "ナガノシカイイン", "3", "20", "201", "長野県長野市鶴賀1番", round(nagano[0] - 0.002, 6), nagano[1]),
        facility("2030000002", "北の果て歯科", "キタノハテシカ", "3", "20", "202", "長野県松本市中央2番", "60.0", "138.0"),
        # The pharmacy's point, declared in another municipality: a placeholder across files.
        facility("2030000003", "共有座標歯科", "キョウユウザヒョウシカ", "3", "20", "203", "長野県上田市中央3番", round(matsumoto[0] + 0.001, 6), matsumoto[1]),
    ]
    write(f"03-1_dental_facility_info_{DATE}.csv", HEAD, dental)
    write(f"04_maternity_home_{DATE}.csv", HEAD, [
        facility("2040000001", "まつもと助産院", "マツモトジョサンイン", "4", "20", "202", "長野県松本市渚1番", round(matsumoto[0] - 0.003, 6), matsumoto[1]),
    ])
    pharmacies = [
        ["2050000001", "松本あおぞら薬局", "マツモトアオゾラヤッキョク", "20", "202", "長野県松本市深志1番", round(matsumoto[0] + 0.001, 6), matsumoto[1], "", ""],
        ["2050000002", "座標ゼロ薬局", "ザヒョウゼロヤッキョク", "20", "203", "長野県上田市中央1番", "0", "0", "", ""],
    ]
    write(f"05_pharmacy_{DATE}.csv", PHARMACY, pharmacies)


if __name__ == "__main__":
    main()
