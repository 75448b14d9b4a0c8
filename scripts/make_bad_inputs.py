#!/usr/bin/env python3
"""Writes the bad-input catalogue (tests/bad_inputs/<input>/<case>): malformed files of every
input, each of which must stop a run with exit 2 and a message naming the file and, where
there is one, the line, feature or record (tests/bad_inputs.rs).

    python3 scripts/make_bad_inputs.py tests/bad_inputs

Files named fuzz_* are reproducers found by fuzzing (fuzz/), kept as found.
"""
import json
import os
import struct
import sys

out = sys.argv[1]


def put(kind, name, data):
    os.makedirs(f"{out}/{kind}", exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(f"{out}/{kind}/{name}", mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
        f.write(data)


sq = [[[138.0, 36.0], [138.1, 36.0], [138.1, 36.1], [138.0, 36.1], [138.0, 36.0]]]


def feature(props, geom):
    return {"type": "Feature", "properties": props, "geometry": geom}


def fc(features):
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


# Municipalities (N03 GeoJSON).
put("municipalities", "empty.geojson", "")
put("municipalities", "not_json.geojson", "N03_007,name\n20201,長野市\n")
put("municipalities", "truncated.geojson", fc([feature({"N03_007": "20201"}, {"type": "Polygon", "coordinates": sq})])[:70])
put("municipalities", "json_array.geojson", "[1, 2, 3]")
put("municipalities", "single_feature.geojson", json.dumps(feature({"N03_007": "20201"}, {"type": "Polygon", "coordinates": sq})))
put("municipalities", "no_features.geojson", fc([]))
put("municipalities", "null_codes.geojson", fc([feature({"N03_007": None}, {"type": "Polygon", "coordinates": sq})]))
put("municipalities", "points_only.geojson", fc([feature({"N03_007": "20201"}, {"type": "Point", "coordinates": [138.0, 36.0]})]))
put("municipalities", "bad_check_digit.geojson", fc([feature({"N03_007": "202010"}, {"type": "Polygon", "coordinates": sq})]))
put("municipalities", "letters_in_code.geojson", fc([feature({"N03_007": "2020A"}, {"type": "Polygon", "coordinates": sq})]))
put("municipalities", "open_ring.geojson", fc([feature({"N03_007": "20201"}, {"type": "Polygon", "coordinates": [[[138.0, 36.0], [138.1, 36.0]]]})]))
put("municipalities", "nan_coordinate.geojson", fc([feature({"N03_007": "20201"}, {"type": "Polygon", "coordinates": [[[138.0, 36.0], [138.1, 36.0], [138.1, "x"], [138.0, 36.0]]]})]))
put("municipalities", "not_utf8_or_cp932.geojson", b'{"type": "FeatureCollection", "features": [\xff\xfe\xff]}')
put("municipalities", "geometry_collection.geojson", json.dumps({"type": "GeometryCollection", "geometries": []}))

# Population (mesh CSV, e-Stat, projection).
put("population", "empty.csv", "")
put("population", "header_only.csv", "mesh_code,population,population_65plus\n")
put("population", "missing_column.csv", "mesh_code,population\n54383061,100\n")
put("population", "all_rows_bad.csv", "mesh_code,population,population_65plus\n5438306X,100,10\n54383061,-5,1\n")
put("population", "semicolons.csv", "mesh_code;population;population_65plus\n54383061;100;10\n")
put("population", "estat_third_header.txt", ("KEY_CODE,HTKSYORI,HTKSAKI,GASSAN,T001141001,T001141019\r\n"
    ",,,,人口（総数）,６５歳以上人口\r\n,,,,人口,高齢者\r\n543830611,0,,,10,4\r\n").encode("cp932"))
put("population", "estat_no_total.txt", ("KEY_CODE,HTKSYORI,HTKSAKI,GASSAN,T001141004,T001141019\r\n,,,,０～１４歳人口,６５歳以上人口\r\n543830611,0,,,1,4\r\n").encode("cp932"))
put("population", "estat_no_label_row.txt", ("KEY_CODE,HTKSYORI,HTKSAKI,GASSAN,T001141001,T001141019\r\n543830611,0,,,10,4\r\n").encode("cp932"))
put("population", "projection_no_years.geojson", fc([feature({"MESH_ID": "54383061"}, None)]))
put("population", "projection_bad_json.geojson", '{"type": "FeatureCollection", "features": [{"properties": {"MESH_ID": ')
put("population", "bytes.csv", bytes(range(256)))

# Projection Shapefile attribute tables (DBF).
def dbf(fields, records, declared=None, record_size=None):
    header_len = 32 + 32 * len(fields) + 1
    size = record_size or (1 + sum(f[2] for f in fields))
    h = struct.pack("<BBBBIHH20x", 3, 124, 11, 25, declared if declared is not None else len(records), header_len, size)
    for name, typ, length, dec in fields:
        h += struct.pack("<11sc4xBB14x", name.encode(), typ.encode(), length, dec)
    h += b"\r"
    body = b"".join(b" " + b"".join(v.encode().ljust(f[2])[: f[2]] for v, f in zip(r, fields)) for r in records)
    return h + body + b"\x1a"


good_fields = [("MESH_ID", "C", 8, 0), ("PTN_2020", "N", 9, 2), ("PTC_2020", "N", 9, 2), ("PTD_2020", "N", 9, 2)]
rows = [("54383061", "100.00", "30.00", "10.00"), ("54383062", "50.00", "20.00", "5.00")]
put("projection", "truncated.dbf", dbf(good_fields, rows, declared=5))
put("projection", "no_mesh_id.dbf", dbf([("CODE", "C", 8, 0)] + good_fields[1:], rows))
put("projection", "bad_mesh_ids.dbf", dbf(good_fields, [("ABCDEFGH", "1.00", "1.00", "1.00")]))
put("projection", "not_a_dbf.dbf", "MESH_ID,PTN_2020\n54383061,100\n")
put("projection", "all_values_bad.dbf", dbf(good_fields, [("54383061", "abc", "x", "y")]))

# Institutions.
put("institutions", "empty.csv", "")
put("institutions", "no_kind.csv", "id,name,lat,lon\nC1,a,36.3,138.2\n")
put("institutions", "no_lat.csv", "id,name,kind,lon\nC1,a,clinic,138.2\n")
put("institutions", "all_swapped.csv", "id,name,kind,lat,lon\nC1,a,clinic,138.2,36.3\n")
put("institutions", "all_unknown_kind.csv", "id,name,kind,lat,lon\nC1,a,spaceport,36.3,138.2\n")
put("institutions", "not_geojson.geojson", '{"type": "Feature", "properties": {}}')
put("institutions", "polygons.geojson", fc([feature({"id": "C1", "kind": "clinic", "name": "a"}, {"type": "Polygon", "coordinates": sq})]))
put("institutions", "p04_bad_kinds.geojson", fc([feature({"P04_001": 7, "P04_002": "x"}, {"type": "Point", "coordinates": [138.2, 36.3]})]))

# Rules TOML.
put("rules", "not_toml.toml", "[[functions]\nid = \n")
put("rules", "no_functions.toml", 'demand = "population_65plus"\n')
put("rules", "unknown_kind.toml", '[[functions]]\nid = "a"\n[[functions.roles]]\nid = "r"\nkinds = ["spaceport"]\nreach_km = 16.0\n')
put("rules", "negative_reach.toml", '[[functions]]\nid = "a"\n[[functions.roles]]\nid = "r"\nkinds = ["clinic"]\nreach_km = -1.0\n')
put("rules", "unknown_key.toml", '[[functions]]\nid = "a"\ncolour = "red"\n[[functions.roles]]\nid = "r"\nkinds = ["clinic"]\nreach_km = 16.0\n')
put("rules", "conflicting_role.toml", '[[functions]]\nid = "a"\n[[functions.roles]]\nid = "r"\nkinds = ["clinic"]\nreach_km = 16.0\n'
    '[[functions]]\nid = "b"\n[[functions.roles]]\nid = "r"\nkinds = ["clinic"]\nreach_km = 8.0\n')
put("rules", "bad_steps.toml", '[access]\ndecay = "step"\nsteps = [[5.0, 1.0], [4.0, 0.5]]\n[[functions]]\nid = "a"\n'
    '[[functions.roles]]\nid = "r"\nkinds = ["clinic"]\nreach_km = 16.0\n')
put("rules", "bad_network_speed.toml", '[network]\nspeeds_kmh = { primary = -5.0 }\n[[functions]]\nid = "a"\n'
    '[[functions.roles]]\nid = "r"\nkinds = ["clinic"]\nreach_km = 16.0\n')
put("rules", "unknown_demand.toml", 'demand = "cats"\n[[functions]]\nid = "a"\n[[functions.roles]]\nid = "r"\nkinds = ["clinic"]\nreach_km = 16.0\n')

# Regions.
put("regions", "missing_column.csv", "municipality_code,region_code\n20001,A\n")
put("regions", "unknown_municipality.csv", "municipality_code,region_code,region_name\n99999,A,a\n")
put("regions", "empty.csv", "")

# Road graphs.
put("network", "text.graph", "not a graph\n")
put("network", "wrong_version.graph", b"ZAITAKU-GRAPH\0\0\0" + struct.pack("<II", 99, 2) + b"{}" + bytes(16))
put("network", "truncated.graph", b"ZAITAKU-GRAPH\0\0\0" + struct.pack("<II", 1, 2) + b"{}")

# OD matrices.
put("od", "missing_column.csv", "origin_id,destination_id\nC1,54383061\n")
put("od", "no_usable_pair.csv", "origin_id,destination_id,minutes\nZZ,54383061,5\n")

# Scenarios.
put("scenario", "not_toml.toml", "[inputs\n")
put("scenario", "unknown_key.toml", "[inputs]\nmunicipalitys = \"x.geojson\"\n")
put("scenario", "missing_file.toml", 'name = "x"\n[inputs]\nmunicipalities = "does_not_exist.geojson"\ninstitutions = ["none.csv"]\n')
put("scenario", "self_base.toml", 'name = "x"\nbase = "self_base.toml"\n')
put("scenario", "no_name.toml", '[inputs]\nmunicipalities = "x.geojson"\n')
