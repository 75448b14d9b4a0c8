#!/usr/bin/env python3
"""Headless tests of the zaitaku QGIS plugin in real QGIS (Debian python3-qgis, 3.22 LTR or
later): every algorithm through `processing.run` on the demo fixtures, results loaded into a
project with `processing.runAndLoadResults`, cancellation, a missing or too old program, and
a bad input. The Rust test tests/qgis_plugin.rs runs this with the freshly built zaitaku.

    ZAITAKU_BINARY=target/release/zaitaku QT_QPA_PLATFORM=offscreen python3 qgis/tests/test_plugin.py
    (ZAITAKU_PLUGIN_PATH: a plugins folder holding zaitaku_processing/, as unpacked from its zip)
"""
import csv
import json
import os
import stat
import sys
import tempfile
import traceback

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The plugin as installed from its zip (ZAITAKU_PLUGIN_PATH), else the repository's copy.
sys.path.insert(0, os.environ.get("ZAITAKU_PLUGIN_PATH") or os.path.join(ROOT, "qgis"))
for plugins in ("/usr/share/qgis/python/plugins", "/usr/lib/qgis/python/plugins"):
    if os.path.isdir(plugins):
        sys.path.insert(0, plugins)

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsFeatureRequest,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)

DEMO = os.path.join(ROOT, "fixtures", "demo")
SCENARIOS = os.path.join(ROOT, "fixtures", "scenarios")
BINARY = os.environ["ZAITAKU_BINARY"]
FAILURES = []


def check(condition, what):
    print(("ok     " if condition else "FAILED ") + what)
    if not condition:
        FAILURES.append(what)


def read_csv(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def features(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["features"]


class Recorder(QgsProcessingFeedback):
    """Keeps what the algorithm reports: progress, stage texts, messages."""

    def __init__(self, cancel_at_stage=None):
        super().__init__()
        self.progress, self.texts, self.infos = [], [], []
        self.cancel_at_stage = cancel_at_stage

    def setProgress(self, p):  # noqa: N802
        self.progress.append(p)
        super().setProgress(p)

    def setProgressText(self, text):  # noqa: N802
        self.texts.append(text)
        if self.cancel_at_stage and text.startswith(self.cancel_at_stage):
            self.cancel()
        super().setProgressText(text)

    def pushInfo(self, info):  # noqa: N802
        self.infos.append(info)
        super().pushInfo(info)


def run(alg, params, feedback=None):
    import processing

    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    return processing.run(f"zaitaku:{alg}", params, context=context, feedback=feedback or Recorder())


def demo_layers():
    """The demo's municipalities as a memory layer and its institutions as a delimited-text
    point layer: layers from QGIS sources other than a GeoJSON file."""
    munis = QgsVectorLayer(os.path.join(DEMO, "nagano_municipalities.geojson"), "n03", "ogr")
    memory = munis.materialize(QgsFeatureRequest())
    memory.setName("municipalities (memory)")
    uri = "file://{}?delimiter=,&xField=lon&yField=lat&crs=EPSG:4326&detectTypes=yes".format(
        os.path.join(DEMO, "nagano_institutions.csv")
    )
    inst = QgsVectorLayer(uri, "institutions (CSV)", "delimitedtext")
    return memory, inst


def test_coverage_on_layers(tmp):
    munis, inst = demo_layers()
    check(munis.providerType() == "memory" and munis.featureCount() > 0, "municipalities as a memory layer")
    check(inst.isValid() and inst.featureCount() == 5020, f"institutions as a delimited-text layer ({inst.featureCount()})")
    out = os.path.join(tmp, "coverage")
    feedback = Recorder()
    result = run(
        "coverage",
        {
            "MUNICIPALITIES": munis,
            "POPULATION": [os.path.join(DEMO, "nagano_population.csv")],
            "INSTITUTIONS": inst,
            "OUTPUT_FOLDER": out,
        },
        feedback,
    )
    check(result["OUTPUT_FOLDER"] == out, "coverage: the output folder is returned")
    names = [os.path.basename(p) for p in result["OUTPUT_LAYERS"]]
    check(names == ["gaps.geojson", "coverage.geojson"], f"coverage: result layers {names}")
    check(any(p > 0 for p in feedback.progress) and max(feedback.progress) <= 100, "coverage: progress reported")
    check(any(t.startswith("reach") for t in feedback.texts), f"coverage: stages reported {feedback.texts[:4]}")
    layer = QgsVectorLayer(os.path.join(out, "coverage.geojson"), "coverage", "ogr")
    check(layer.featureCount() == 77, f"coverage: 77 municipalities ({layer.featureCount()})")
    renderer = layer.renderer()
    check(
        renderer.type() == "graduatedSymbol" and renderer.classAttribute() == "discharge_share",
        f"coverage: its .qml style loads ({renderer.type()} on {getattr(renderer, 'classAttribute', lambda: '')()})",
    )
    # A value from coverage.csv equals the layer's attribute.
    rows = {(r["municipality_code"], r["function"]): r["share"] for r in read_csv(os.path.join(out, "coverage.csv"))}
    worst = None
    for f in layer.getFeatures():
        want = rows[(f["code"], "daily")]
        if want and abs(f["daily_share"] - float(want)) > 1e-9:
            worst = (f["code"], f["daily_share"], want)
    check(worst is None, f"coverage: daily_share equals coverage.csv for every municipality {worst or ''}")
    # The same figures as zaitaku on the files themselves.
    import subprocess

    direct = os.path.join(tmp, "direct")
    subprocess.run(
        [BINARY, "coverage", "--quiet", "--municipalities", os.path.join(DEMO, "nagano_municipalities.geojson"),
         "--population", os.path.join(DEMO, "nagano_population.csv"),
         "--institutions", os.path.join(DEMO, "nagano_institutions.csv"), "--out", direct],
        check=True, capture_output=True,
    )
    with open(os.path.join(direct, "coverage.csv"), "rb") as a, open(os.path.join(out, "coverage.csv"), "rb") as b:
        same = a.read() == b.read()
    check(same, "coverage: layers exported from QGIS give the same coverage.csv as the files")


def test_every_algorithm(tmp):
    base = os.path.join(SCENARIOS, "nagano_base.toml")
    expected = {
        "access": (["access.geojson"], {}),
        "catchments": (["regions.geojson", "catchments.geojson"], {}),
        "capacity": (["capacity.geojson"], {"NEED_RATE": "0.02", "ORDER": 1}),
        "criticality": (["criticality.geojson"], {}),
        "suggest": (["suggestions.geojson"], {"FUNCTION": "acute", "SITES": 3}),
        "report": (
            ["gaps.geojson", "catchments.geojson", "regions.geojson", "institutions.geojson", "capacity.geojson", "coverage.geojson"],
            {},
        ),
    }
    for alg, (layers, options) in expected.items():
        out = os.path.join(tmp, alg)
        result = run(alg, dict({"SCENARIO": base, "OUTPUT_FOLDER": out}, **options))
        names = [os.path.basename(p) for p in result["OUTPUT_LAYERS"]]
        check(names == layers, f"{alg}: result layers {names}")
        for path in result["OUTPUT_LAYERS"]:
            layer = QgsVectorLayer(path, os.path.basename(path), "ogr")
            n = len(features(path))
            check(layer.isValid() and layer.featureCount() == n, f"{alg}: {os.path.basename(path)} opens with its {n} features")
            qml = path[:-len(".geojson")] + ".qml"
            if os.path.exists(qml):
                import re

                with open(qml, encoding="utf-8") as f:
                    want = re.search(r'renderer-v2 type="(\w+)"', f.read()).group(1)
                check(layer.renderer().type() == want, f"{alg}: {os.path.basename(path)} styled by its .qml ({want})")
    # capacity: the layer's served share is capacity.csv's, at the rate given.
    out = os.path.join(tmp, "capacity")
    rows = read_csv(os.path.join(out, "capacity.csv"))
    share = {r["area_code"]: r["served_share"] for r in rows if r["level"] == "municipality" and r["function"] == "daily" and r["role"] == "all"}
    layer = QgsVectorLayer(os.path.join(out, "capacity.geojson"), "capacity", "ogr")
    bad = [f["code"] for f in layer.getFeatures() if share[f["code"]] and abs(f["daily_served_share"] - float(share[f["code"]])) > 1e-9]
    check(not bad, f"capacity: daily_served_share equals capacity.csv {bad[:3]}")
    with open(os.path.join(out, "capacity_summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    check(summary["functions"][0]["need_rate"] == 0.02 and summary["functions"][0]["need_rate_source"] == "--need-rate",
          "capacity: NEED_RATE reaches zaitaku")
    check(layer.renderer().classAttribute() == "discharge_served_share", "capacity: styled by discharge_served_share")
    # compare: two scenarios.
    out = os.path.join(tmp, "compare")
    result = run("compare", {"BASE": base, "ALT": os.path.join(SCENARIOS, "nagano_changes.toml"), "OUTPUT_FOLDER": out})
    names = [os.path.basename(p) for p in result["OUTPUT_LAYERS"]]
    check(names == ["diff.geojson"] and len(features(os.path.join(out, "diff.geojson"))) == 77, f"compare: {names}")


def test_loaded_into_the_project(tmp):
    import processing

    project = QgsProject.instance()
    project.clear()
    out = os.path.join(tmp, "loaded")
    context = QgsProcessingContext()
    context.setProject(project)
    processing.runAndLoadResults(
        "zaitaku:coverage", {"SCENARIO": os.path.join(SCENARIOS, "nagano_base.toml"), "OUTPUT_FOLDER": out},
        feedback=Recorder(), context=context,
    )
    group = project.layerTreeRoot().findGroup("zaitaku coverage — loaded")
    check(group is not None, "loaded: the run's group is in the project")
    if group is None:
        return
    names = [child.layer().name() for child in group.findLayers()]
    check(names == ["gaps", "coverage"], f"loaded: layers in the group, gaps on top: {names}")
    coverage = [child.layer() for child in group.findLayers() if child.layer().name() == "coverage"][0]
    check(coverage.renderer().type() == "graduatedSymbol", f"loaded: coverage styled ({coverage.renderer().type()})")
    gaps = [child.layer() for child in group.findLayers() if child.layer().name() == "gaps"][0]
    check(gaps.renderer().type() == "categorizedSymbol", f"loaded: gaps styled ({gaps.renderer().type()})")
    check(not [n for n in project.layerTreeRoot().children() if n is not group], "loaded: nothing outside the group")


def test_cancel(tmp):
    parent = os.path.join(tmp, "cancel")
    os.makedirs(parent)
    out = os.path.join(parent, "report")
    feedback = Recorder(cancel_at_stage="reach")
    try:
        run("report", {"SCENARIO": os.path.join(SCENARIOS, "nagano_base.toml"), "OUTPUT_FOLDER": out}, feedback)
        check(False, "cancel: the run stops")
    except QgsProcessingException as e:
        check("cancelled" in str(e), f"cancel: reported as cancelled ({e})")
    left = os.listdir(parent)
    inside = os.listdir(out) if os.path.isdir(out) else []
    check(left in ([], ["report"]) and inside == [], f"cancel: no staging folder or file left ({left}, {inside})")


def test_missing_and_old_binary(tmp):
    saved = os.environ["ZAITAKU_BINARY"]
    try:
        os.environ["ZAITAKU_BINARY"] = os.path.join(tmp, "nowhere", "zaitaku")
        try:
            run("coverage", {"SCENARIO": os.path.join(SCENARIOS, "nagano_base.toml"), "OUTPUT_FOLDER": os.path.join(tmp, "m")})
            check(False, "missing: an error")
        except QgsProcessingException as e:
            check("zaitaku was not found at" in str(e) and "Providers > zaitaku" in str(e), f"missing: says where to set it ({e})")
        old = os.path.join(tmp, "old-zaitaku")
        with open(old, "w") as f:
            f.write("#!/bin/sh\necho zaitaku 0.1.0\n")
        os.chmod(old, os.stat(old).st_mode | stat.S_IEXEC)
        os.environ["ZAITAKU_BINARY"] = old
        try:
            run("coverage", {"SCENARIO": os.path.join(SCENARIOS, "nagano_base.toml"), "OUTPUT_FOLDER": os.path.join(tmp, "o")})
            check(False, "too old: an error")
        except QgsProcessingException as e:
            check("zaitaku 0.1.0" in str(e) and "too old" in str(e) and "0.2.0 or later" in str(e), f"too old: says so ({e})")
    finally:
        os.environ["ZAITAKU_BINARY"] = saved


def test_bad_input(tmp):
    import subprocess

    rules = os.path.join(tmp, "bad_rules.toml")
    with open(rules, "w") as f:
        f.write('[[functions]]\nid = "a"\n[[functions.roles]]\nid = "r"\nkinds = ["spaceport"]\nreach_km = 1.0\n')
    base = os.path.join(SCENARIOS, "nagano_base.toml")
    direct = subprocess.run([BINARY, "coverage", "--scenario", base, "--rules", rules, "--out", os.path.join(tmp, "d")],
                            capture_output=True, text=True)
    message = direct.stderr.strip()
    check(direct.returncode == 2 and "line 5: unknown kind 'spaceport'" in message, f"bad input: zaitaku says {message}")
    try:
        run("coverage", {"SCENARIO": base, "RULES": rules, "OUTPUT_FOLDER": os.path.join(tmp, "b")})
        check(False, "bad input: an error")
    except QgsProcessingException as e:
        check(str(e) == message, f"bad input: the Processing error is zaitaku's text ({e})")


def main():
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    from zaitaku_processing.provider import ZaitakuProvider

    provider = ZaitakuProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    ids = sorted(a.id() for a in provider.algorithms())
    check(
        ids == sorted(f"zaitaku:{c}" for c in ("coverage", "access", "catchments", "capacity", "criticality", "suggest", "compare", "report")),
        f"provider: algorithms {ids}",
    )
    with tempfile.TemporaryDirectory() as tmp:
        for test in (test_coverage_on_layers, test_every_algorithm, test_loaded_into_the_project, test_cancel,
                     test_missing_and_old_binary, test_bad_input):
            try:
                test(tmp)
            except Exception:  # noqa: BLE001
                FAILURES.append(test.__name__)
                traceback.print_exc()
    QgsProject.instance().clear()
    QgsApplication.processingRegistry().removeProvider(provider)
    print("QGIS plugin tests:", "FAILED " + "; ".join(FAILURES) if FAILURES else "passed")
    os._exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
