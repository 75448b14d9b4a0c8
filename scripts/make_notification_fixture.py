#!/usr/bin/env python3
"""Notification-list fixtures in the regional health bureaus' layout (施設基準の届出受理医療機関名簿,
xlsx; title rows, the header on row 4), written with openpyxl:

    python3 scripts/make_notification_fixture.py fixtures/notifications

- `list.xlsx`: designations for the grid's clinics (ids in fixtures/notifications/
  institutions.csv are 10-digit codes: prefecture 20, 1 for medical, the 7-digit number),
  one number no institution has, one other notification, one number that is not a number;
- `no_header.xlsx`: the same rows without the 受理記号 column.
"""
import sys

from openpyxl import Workbook

HEADER = ["項番", "都道府県名", "区分", "医療機関番号", "併設医療機関番号", "医療機関記号番号", "医療機関名称",
          "医療機関所在地（郵便番号）", "医療機関所在地（住所）", "電話番号", "FAX番号", "病床数", "受理届出名称",
          "受理記号", "受理番号", "算定開始年月日", "個別有効開始年月日", "備考"]
ROWS = [
    ("長野", "医科", "0000011", "", "01,0001,1", "髙﨑内科クリニック", "380-0000", "長野県長野市", "026-000-0000", "",
     "", "在宅療養支援診療所", "（支援診３）", "第100号", "令和6年6月1日", "", ""),
    ("長野", "医科", "0000037", "", "01,0003,7", "廃止済みクリニック", "380-0000", "長野県長野市", "", "", "",
     "在宅療養支援診療所", "（支援診１）", "第101号", "令和6年6月1日", "", ""),
    ("長野", "医科", "0000029", "", "01,0002,9", "みどり診療所", "380-0000", "長野県上田市", "", "", "",
     "在宅時医学総合管理料及び施設入居時等医学総合管理料", "（在総）", "第102号", "令和6年6月1日", "", ""),
    ("長野", "医科", "不明", "", "", "番号なし医院", "", "", "", "", "", "在宅療養支援診療所", "（支援診２）",
     "第103号", "令和6年6月1日", "", ""),
]


def sheet(path, header):
    wb = Workbook()
    ws = wb.active
    ws.title = "届出受理医療機関名簿"
    ws.append(["施設基準の届出受理状況（医科）"])
    ws.append(["令和6年11月1日現在"])
    ws.append([])
    ws.append(header)
    for k, row in enumerate(ROWS, start=1):
        cells = [k, *row]
        if "受理記号" not in header:
            cells.pop(HEADER.index("受理記号"))
        ws.append(cells)
    wb.save(path)


if __name__ == "__main__":
    out = sys.argv[1]
    sheet(f"{out}/list.xlsx", HEADER)
    sheet(f"{out}/no_header.xlsx", [h for h in HEADER if h != "受理記号"])
