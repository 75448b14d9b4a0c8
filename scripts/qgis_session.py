"""What the QGIS check scripts share: a headless QGIS session around a check, and rendering
layers to a PNG. Imported by check_qgis.py and check_qgis_gpkg.py (Debian python3-qgis)."""
import gc
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import QgsApplication, QgsMapRendererParallelJob, QgsMapSettings  # noqa: E402
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def run(check, label, args):
    """Runs check(*args) in a QGIS session, prints LABEL: passed or FAILED and exits 0 or 1."""
    app = QgsApplication([], False)
    app.initQgis()
    ok = check(*args)
    # The layers and render jobs are gone with check()'s frame; QGIS exits after them (the
    # other order crashes Python at exit).
    gc.collect()
    app.exitQgis()
    print(f"{label}:", "passed" if ok else "FAILED")
    sys.exit(0 if ok else 1)


def render(layers, extent_layer, png, size=900):
    """Draws LAYERS (first on top) over a white background, framed on EXTENT_LAYER, to PNG."""
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(extent_layer.crs())
    settings.setExtent(extent_layer.extent())
    settings.setOutputSize(QSize(size, size))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(png, "png")
