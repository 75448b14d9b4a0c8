#!/usr/bin/env bash
# The demo's projected population (fixtures/demo/nagano_projection.dbf): the synthetic rule of
# scripts/make_national_projection.py applied to the demo's 1 km population, three of the
# years (2020, 2035, 2050), written as a Shapefile's attribute table in the national land
# data's layout (MESH_ID, SHICODE, PTN/PTC/PTD_<year>) by GDAL's ogr2ogr.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 scripts/make_national_projection.py fixtures/demo/nagano_population.csv "$tmp/p.geojson" \
  --years 2020,2035,2050 --lean
cols="CAST(MESH_ID AS character(8)) AS MESH_ID, CAST(SHICODE AS character(5)) AS SHICODE"
for y in 2020 2035 2050; do
  for c in PTN PTC PTD; do
    cols="$cols, CAST(${c}_$y AS numeric(9,2)) AS ${c}_$y"
  done
done
ogr2ogr -f "ESRI Shapefile" -lco ENCODING=CP932 -nlt NONE "$tmp/nagano_projection.dbf" "$tmp/p.geojson" \
  -sql "SELECT $cols FROM mesh1km_2024"
cp "$tmp/nagano_projection.dbf" fixtures/demo/nagano_projection.dbf
