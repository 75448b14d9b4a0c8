#!/usr/bin/env python3
"""Opens zaitaku's GeoJSON outputs in real QGIS (Debian python3-qgis), checks that every
layer is valid, has the expected feature count and CRS, that every geometry is valid for
GEOS, and renders the coverage layer, graduated by a share field, to a PNG.

    apt-get install python3-qgis
    QT_QPA_PLATFORM=offscreen python3 scripts/check_qgis.py OUT_DIR [FIELD] [PNG]
"""
import json
import os
import sys

import qgis_session
from qgis.core import (  # noqa: E402
    QgsClassificationEqualInterval,
    QgsGeometry,
    QgsGraduatedSymbolRenderer,
    QgsVectorLayer,
    QgsSingleSymbolRenderer,
    QgsStyle,
)
from qgis.PyQt.QtGui import QColor  # noqa: E402


def check(out_dir, field="daily_share", png="coverage_qgis.png"):
    """Runs the checks; True when every one passed. Every QGIS object lives in here."""
    ok = True
    layers = {}
    names = [n for n in ("coverage.geojson", "gaps.geojson") if os.path.exists(os.path.join(out_dir, n))]
    # The catchment layers, when the folder has them (zaitaku demo writes every layer).
    names += [
        n
        for n in ("catchments.geojson", "regions.geojson", "suggestions.geojson", "diff.geojson")
        if os.path.exists(os.path.join(out_dir, n))
    ]
    for name in names:
        path = os.path.join(out_dir, name)
        expected = len(json.load(open(path, encoding="utf-8"))["features"])
        layer = QgsVectorLayer(path, name, "ogr")
        invalid = 0
        for f in layer.getFeatures():
            g = f.geometry()
            if not g.isGeosValid():
                invalid += 1
        print(
            f"{name}: valid={layer.isValid()} features={layer.featureCount()} (file has {expected}) "
            f"crs={layer.crs().authid()} geometry={layer.geometryType()} invalid_geometries={invalid} "
            f"fields={len(layer.fields())}"
        )
        ok &= layer.isValid() and layer.featureCount() == expected and invalid == 0
        ok &= layer.crs().authid() == "EPSG:4326"
        layers[name] = layer
    if "coverage.geojson" not in layers:
        return ok
    cov = layers["coverage.geojson"]
    idx = cov.fields().indexOf(field)
    values = [f[field] for f in cov.getFeatures() if f[field] is not None]
    print(f"{field}: {len(values)} values, min {min(values):.4f}, max {max(values):.4f}")
    renderer = QgsGraduatedSymbolRenderer(field)
    renderer.setClassificationMethod(QgsClassificationEqualInterval())
    renderer.updateClasses(cov, 5)
    renderer.updateColorRamp(QgsStyle().defaultStyle().colorRamp("RdYlGn"))
    cov.setRenderer(renderer)
    qgis_session.render([layers["gaps.geojson"], cov], cov, png)
    print(f"rendered {png} ({idx >= 0 and 'graduated by ' + field})")
    if "catchments.geojson" in layers:
        # Catchments by id over the regions' outlines, to a second PNG.
        from qgis.core import QgsCategorizedSymbolRenderer, QgsRendererCategory, QgsSymbol, QgsFillSymbol
        cat = layers["catchments.geojson"]
        categories = []
        for k, f in enumerate(cat.getFeatures()):
            sym = QgsSymbol.defaultSymbol(cat.geometryType())
            sym.setColor(QColor.fromHsv((k * 67) % 360, 120, 230))
            categories.append(QgsRendererCategory(f["area_code"], sym, f["area_code"]))
        cat.setRenderer(QgsCategorizedSymbolRenderer("area_code", categories))
        top = [cat]
        if "regions.geojson" in layers:
            reg = layers["regions.geojson"]
            reg.setRenderer(QgsSingleSymbolRenderer(QgsFillSymbol.createSimple(
                {"color": "0,0,0,0", "outline_color": "black", "outline_width": "0.8"})))
            top = [reg, cat]
        second = png.replace(".png", "_catchments.png")
        qgis_session.render(top, cov, second)
        print(f"rendered {second} (catchments by id, regions outlined)")
    return ok


if __name__ == "__main__":
    qgis_session.run(check, "QGIS check", sys.argv[1:])
