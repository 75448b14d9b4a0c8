#!/usr/bin/env python3
"""Opens every layer of a zaitaku GeoPackage in real QGIS (Debian python3-qgis) and checks:
the layer is valid; its feature count equals the GeoJSON of the same name beside it (or the
table's row count); its CRS is EPSG:4326; every geometry is valid for GEOS; QGIS loaded
the default style from `layer_styles` with the renderer zaitaku wrote (graduated,
categorised or single symbol, and how many classes); the `.qml` beside each GeoJSON is
picked up as that file's default style too. Then renders the coverage layer with its own
style, the gaps and the catchments on top, to a PNG. First, GDAL's own GeoPackage validator
(`validate_gpkg`, from python3-gdal) checks the file against the standard, warnings as
errors.

    apt-get install python3-qgis
    QT_QPA_PLATFORM=offscreen python3 scripts/check_qgis_gpkg.py OUT_DIR [PNG]
"""
import json
import os
import sqlite3
import sys

import qgis_session
from qgis.core import QgsVectorLayer  # noqa: E402

# The renderer each layer's default style must give, and its number of classes.
EXPECTED = {
    "coverage": ("graduatedSymbol", 5),
    "diff": ("graduatedSymbol", 7),
    "institutions": ("categorizedSymbol", 8),
    "catchments": ("singleSymbol", 1),
    "regions": ("singleSymbol", 1),
    "suggestions": ("singleSymbol", 1),
    "capacity": ("graduatedSymbol", 5),
}


def classes(renderer):
    kind = renderer.type()
    if kind == "graduatedSymbol":
        return len(renderer.ranges())
    if kind == "categorizedSymbol":
        return len(renderer.categories())
    return 1


def check(out_dir, png="gpkg_qgis.png"):
    """Runs the checks; True when every one passed. Every QGIS object lives in here."""
    ok = True
    gpkg = os.path.join(out_dir, "zaitaku.gpkg")
    try:
        from osgeo_utils.samples import validate_gpkg
    except ImportError:
        print("GDAL's validate_gpkg not installed (python3-gdal): skipped")
    else:
        try:
            validate_gpkg.check(gpkg, extra_checks=True, warning_as_error=True)
            print("GDAL validate_gpkg (extra checks, warnings as errors): passed")
        except Exception as e:  # GPKGCheckException
            print(f"GDAL validate_gpkg: FAILED: {e}")
            ok = False
    db = sqlite3.connect(gpkg)
    tables = [r[0] for r in db.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name")]
    layers = {}
    for table in tables:
        rows = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        geojson = os.path.join(out_dir, table + ".geojson")
        expected = len(json.load(open(geojson, encoding="utf-8"))["features"]) if os.path.exists(geojson) else rows
        layer = QgsVectorLayer(f"{gpkg}|layername={table}", table, "ogr")
        invalid = sum(1 for f in layer.getFeatures() if not f.geometry().isGeosValid())
        renderer = layer.renderer()
        line = (
            f"gpkg {table}: valid={layer.isValid()} features={layer.featureCount()} (expected {expected}) "
            f"crs={layer.crs().authid()} invalid_geometries={invalid} fields={len(layer.fields())} "
            f"style={renderer.type()}/{classes(renderer)} spatial_index={layer.hasSpatialIndex() == 2}"
        )
        good = layer.isValid() and layer.featureCount() == expected and invalid == 0
        good &= layer.crs().authid() == "EPSG:4326"
        good &= layer.hasSpatialIndex() == 2  # QgsFeatureSource.SpatialIndexPresent
        if table in EXPECTED:
            good &= (renderer.type(), classes(renderer)) == EXPECTED[table]
        if table == "gaps":
            functions = {r[0] for r in db.execute('SELECT DISTINCT function FROM "gaps"')}
            good &= renderer.type() == "categorizedSymbol" and classes(renderer) == len(functions)
        print(line, "" if good else "  <-- FAILED")
        ok &= good
        layers[table] = layer
        # The .qml beside the GeoJSON, loaded by QGIS with the file.
        qml = os.path.join(out_dir, table + ".qml")
        if os.path.exists(geojson) and os.path.exists(qml):
            file_layer = QgsVectorLayer(geojson, table, "ogr")
            r = file_layer.renderer()
            same = (r.type(), classes(r)) == (renderer.type(), classes(renderer))
            print(f"  {table}.geojson with {table}.qml: style={r.type()}/{classes(r)}", "" if same else "  <-- FAILED")
            ok &= same
    styles = db.execute("SELECT count(*), sum(useAsDefault) FROM layer_styles").fetchone()
    print(f"layer_styles: {styles[0]} styles, {styles[1]} defaults")
    base = layers.get("coverage") or layers.get("diff")
    if base is not None:
        top = [layers[t] for t in ("catchments", "gaps") if t in layers]
        qgis_session.render(top + [base], base, png)
        above = f", {', '.join(t.name() for t in top)} on top" if top else ""
        print(f"rendered {png}: {base.name()} with its default style ({base.renderer().type()}){above}")
    return ok


if __name__ == "__main__":
    qgis_session.run(check, "QGIS GeoPackage check", sys.argv[1:])
