#!/usr/bin/env python3
"""Notification-list fixtures in the regional health bureaus' layout (施設基準の届出受理医療機関名簿,
xlsx; title rows, the header on row 4), written with openpyxl:

    python3 scripts/make_notification_fixture.py fixtures/notifications

- `list.xlsx`: designations for the grid's clinics (ids in fixtures/notifications/
  institutions.csv are 10-digit codes: prefecture 20, 1 for medical, the 7-digit number),
  one number no institution has, one other notification, one number that is not a number;
- `no_header.xlsx`: the same rows without the 受理記号 column;
- `open_data_list.xlsx`: designations for the health ministry's open-data fixtures
  (fixtures/open_data), which carry no institution number: names with a corporate prefix
  dropped, a near-miss name, a facility rejected as a placeholder, to be matched by name
  and address.
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


OPEN_DATA_ROWS = [
    ("長野", "医科", "0100001", "", "01,0100,1", "みどり内科クリニック", "380-0823", "長野県長野市南千歳一丁目1番", "", "",
     "", "在宅療養支援診療所", "（支援診１）", "第200号", "令和6年6月1日", "", ""),
    ("長野", "医科", "0100002", "", "01,0100,2", "上田ふれあい診療所", "386-0000", "長野県上田市材木町一丁目2番", "", "",
     "19", "在宅療養支援診療所", "（支援診３）", "第201号", "令和6年6月1日", "", ""),
    ("長野", "医科", "0100003", "", "01,0100,3", "上田ふれあい医院", "386-0000", "長野県上田市天神四丁目9番", "", "",
     "", "在宅療養支援診療所", "（支援診３）", "第202号", "令和6年6月1日", "", ""),
    ("長野", "医科", "0100004", "", "01,0100,4", "長野中央総合病院", "380-0000", "長野県長野市中央一丁目1番1号", "", "",
     "300", "在宅療養支援病院", "（支援病３）", "第203号", "令和6年6月1日", "", ""),
    ("長野", "医科", "0100005", "", "01,0100,5", "県庁座標内科医院", "380-0000", "長野県長野市若里2番", "", "",
     "", "在宅療養支援診療所", "（支援診２）", "第204号", "令和6年6月1日", "", ""),
]


def sheet(path, header, rows=ROWS):
    wb = Workbook()
    ws = wb.active
    ws.title = "届出受理医療機関名簿"
    ws.append(["施設基準の届出受理状況（医科）"])
    ws.append(["令和6年11月1日現在"])
    ws.append([])
    ws.append(header)
    for k, row in enumerate(rows, start=1):
        cells = [k, *row]
        if "受理記号" not in header:
            cells.pop(HEADER.index("受理記号"))
        ws.append(cells)
    wb.save(path)


if __name__ == "__main__":
    out = sys.argv[1]
    sheet(f"{out}/list.xlsx", HEADER)
    sheet(f"{out}/no_header.xlsx", [h for h in HEADER if h != "受理記号"])
    sheet(f"{out}/open_data_list.xlsx", HEADER, OPEN_DATA_ROWS)
