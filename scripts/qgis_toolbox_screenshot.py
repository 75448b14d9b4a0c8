#!/usr/bin/env python3
"""Renders the zaitaku coverage dialog of the QGIS Processing toolbox, headless, to a PNG
for the README: the demo's municipalities and institutions loaded as project layers and
chosen in the dialog, as a planner would see it (Debian python3-qgis).

    QT_QPA_PLATFORM=offscreen python3 scripts/qgis_toolbox_screenshot.py docs/qgis_toolbox.png
"""
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "qgis"))
sys.path.insert(0, "/usr/share/qgis/python/plugins")

from qgis.core import QgsApplication, QgsProject, QgsVectorLayer  # noqa: E402
from qgis.PyQt.QtGui import QFont, QFontDatabase  # noqa: E402


def main(png):
    app = QgsApplication([], True)
    app.initQgis()
    # The project's Japanese font subset (the maps' font), so the labels' kanji draw.
    font = QFontDatabase.addApplicationFont(os.path.join(ROOT, "src", "outputs", "assets", "NotoSansCJKjp-Regular-subset.otf"))
    families = QFontDatabase.applicationFontFamilies(font)
    if families:
        app.setFont(QFont(families[0], 10))
    from processing.core.Processing import Processing
    from processing.gui.AlgorithmDialog import AlgorithmDialog

    Processing.initialize()
    from zaitaku_processing.provider import ZaitakuProvider

    provider = ZaitakuProvider()  # kept: the registry holds only a pointer
    QgsApplication.processingRegistry().addProvider(provider)
    demo = os.path.join(ROOT, "fixtures", "demo")
    munis = QgsVectorLayer(os.path.join(demo, "nagano_municipalities.geojson"), "N03 長野県 (2021)", "ogr")
    uri = "file://{}?delimiter=,&xField=lon&yField=lat&crs=EPSG:4326".format(os.path.join(demo, "nagano_institutions.csv"))
    inst = QgsVectorLayer(uri, "institutions", "delimitedtext")
    QgsProject.instance().addMapLayers([munis, inst])
    alg = QgsApplication.processingRegistry().createAlgorithmById("zaitaku:coverage")
    dialog = AlgorithmDialog(alg, False, None)
    dialog.setParameters(
        {
            "MUNICIPALITIES": munis,
            "CODE_FIELD": "N03_007",
            "NAME_FIELD": "N03_004",
            "POPULATION": [os.path.join(demo, "nagano_population.csv")],
            "INSTITUTIONS": inst,
            "OUTPUT_FOLDER": "/home/planner/zaitaku/coverage",
        }
    )
    dialog.resize(1000, 1010)
    dialog.show()
    app.processEvents()
    dialog.grab().save(png, "png")
    dialog.close()
    QgsProject.instance().clear()
    app.exitQgis()
    print(f"wrote {png}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/qgis_toolbox.png")
