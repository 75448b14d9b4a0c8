"""The zaitaku algorithms of the Processing toolbox: one per command, with the inputs named
alike in every one (MUNICIPALITIES, POPULATION, INSTITUTIONS, REGIONS, RULES, NETWORK,
SCENARIO, OUTPUT_FOLDER), the command's own options, and its result layers loaded, styled
and grouped under the run's name."""
import os
import shutil
import uuid

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingOutputFolder,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
    QgsProcessingUtils,
    QgsProject,
    QgsVectorFileWriter,
)
from qgis.PyQt.QtGui import QIcon

from . import runner

WGS84 = "EPSG:4326"


def configured_binary():
    """The zaitaku program set in Processing's options ('' when unset)."""
    try:
        from processing.core.ProcessingConfig import ProcessingConfig

        return ProcessingConfig.getSetting(runner.BINARY_SETTING) or ""
    except Exception:  # noqa: BLE001 (no Processing settings: the environment and PATH decide)
        return ""


def export_geojson(layer, path):
    """Writes LAYER (any QGIS source: Shapefile, GeoPackage, memory...) as GeoJSON in
    EPSG:4326 with every field, for zaitaku to read."""
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GeoJSON"
    options.fileEncoding = "UTF-8"
    target = QgsCoordinateReferenceSystem(WGS84)
    if layer.crs() != target:
        options.ct = QgsCoordinateTransform(layer.crs(), target, QgsProject.instance().transformContext())
    context = QgsProject.instance().transformContext()
    if hasattr(QgsVectorFileWriter, "writeAsVectorFormatV3"):
        result = QgsVectorFileWriter.writeAsVectorFormatV3(layer, path, context, options)
    else:  # pragma: no cover (QGIS before 3.20)
        result = QgsVectorFileWriter.writeAsVectorFormatV2(layer, path, context, options)
    if result[0] != QgsVectorFileWriter.NoError:
        raise QgsProcessingException(f"cannot write {layer.name()} for zaitaku: {result[1]}")
    return path


def plain_geojson(layer):
    """The file of a layer read straight from an EPSG:4326 GeoJSON file (no filter), which
    zaitaku can read as it is; None otherwise."""
    if layer.providerType() != "ogr" or layer.subsetString():
        return None
    path = layer.source().split("|")[0]
    if path.lower().endswith((".geojson", ".json")) and layer.crs().authid() == WGS84 and os.path.isfile(path):
        return path
    return None


class LoadStyledInGroup(QgsProcessingLayerPostProcessorInterface):
    """After a result layer is added to the project: its .qml (written by zaitaku beside the
    file) as its style, and the layer moved into the run's group, in the command's order."""

    # Processing keeps only a pointer: the instances live here until QGIS ends.
    alive = []

    def __init__(self, group, qml, rank):
        super().__init__()
        self.group = group
        self.qml = qml
        self.rank = rank
        LoadStyledInGroup.alive.append(self)

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802
        if self.qml and os.path.exists(self.qml):
            message, ok = layer.loadNamedStyle(self.qml)
            if not ok:
                feedback.reportError(f"{layer.name()}: style not loaded: {message}")
            layer.triggerRepaint()
        project = context.project() or QgsProject.instance()
        root = project.layerTreeRoot()
        node = root.findLayer(layer.id())
        if node is None:
            return
        group = root.findGroup(self.group) or root.insertGroup(0, self.group)
        layer.setCustomProperty("zaitaku/rank", self.rank)
        at = sum(
            1
            for child in group.children()
            if hasattr(child, "layer") and child.layer() is not None
            and int(child.layer().customProperty("zaitaku/rank", 0)) < self.rank
        )
        group.insertChildNode(at, node.clone())
        node.parent().removeChildNode(node)


class ZaitakuAlgorithm(QgsProcessingAlgorithm):
    """What every zaitaku algorithm shares."""

    COMMAND = ""
    LABEL = ""
    HELP = ""
    # Result layers (GeoJSON files in the output folder), top of the group first.
    LAYERS = ()
    # Whether the algorithm takes the study's inputs (compare takes two scenarios instead).
    STUDY_INPUTS = True

    def name(self):
        return self.COMMAND

    def displayName(self):  # noqa: N802
        return self.LABEL

    def group(self):
        return "Home medical care"

    def groupId(self):  # noqa: N802
        return "home_medical_care"

    def shortHelpString(self):  # noqa: N802
        return self.HELP + (
            "\n\nInputs: a scenario file, or municipal polygons (a layer from any source: N03 "
            "Shapefile, GeoPackage, memory layer; the code and name fields chosen below), "
            "population files (mesh CSV, e-Stat census files as downloaded, projections) and "
            "institutions (a point layer and/or files). Results are written to the output "
            "folder and loaded with their styles, grouped under the run's name."
            if self.STUDY_INPUTS
            else ""
        )

    def icon(self):
        return QIcon(os.path.join(os.path.dirname(__file__), "icon.svg"))

    def createInstance(self):  # noqa: N802
        return type(self)()

    def initAlgorithm(self, config=None):  # noqa: N802
        if self.STUDY_INPUTS:
            self.add_study_inputs()
        self.add_options()
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", "Output folder"))
        self.addOutput(QgsProcessingOutputFolder("OUTPUT_FOLDER", "Output folder"))
        self.addOutput(QgsProcessingOutputMultipleLayers("OUTPUT_LAYERS", "Result layers"))

    def add_study_inputs(self):
        self.addParameter(
            QgsProcessingParameterFile(
                "SCENARIO", "Scenario (TOML; the inputs below add to or override it)", extension="toml", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                "MUNICIPALITIES", "Municipal polygons (N03)", [QgsProcessing.TypeVectorPolygon], optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                "CODE_FIELD",
                "Municipality code field",
                defaultValue="N03_007",
                parentLayerParameterName="MUNICIPALITIES",
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                "NAME_FIELD",
                "Municipality name field",
                defaultValue="N03_004",
                parentLayerParameterName="MUNICIPALITIES",
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                "POPULATION", "Population files (mesh CSV, e-Stat census files, projections)", QgsProcessing.TypeFile, optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                "INSTITUTIONS", "Institutions (point layer)", [QgsProcessing.TypeVectorPoint], optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                "INSTITUTION_FILES",
                "Institution files (CSV, GeoJSON, P04, the health ministry's open data)",
                QgsProcessing.TypeFile,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile("REGIONS", "Regions (CSV or A38)", optional=True)
        )
        self.addParameter(QgsProcessingParameterFile("RULES", "Rules (TOML)", extension="toml", optional=True))
        self.addParameter(
            QgsProcessingParameterFile("NETWORK", "Road network (zaitaku network build)", extension="graph", optional=True)
        )

    def add_options(self):
        """The command's own parameters."""

    def option_args(self, parameters, context):
        """The command's own arguments."""
        return []

    def files(self, parameters, name, context):
        """The files of a multiple-file parameter (none when it is unset)."""
        if not parameters.get(name):
            return []
        return [p for p in self.parameterAsFileList(parameters, name, context) if p]

    def study_args(self, parameters, context, feedback, staging):
        args = []
        scenario = self.parameterAsFile(parameters, "SCENARIO", context)
        if scenario:
            args += ["--scenario", scenario]
        munis = self.parameterAsVectorLayer(parameters, "MUNICIPALITIES", context)
        if munis is not None:
            path = plain_geojson(munis)
            if path is None:
                feedback.pushInfo(f"Writing {munis.name()} as GeoJSON for zaitaku")
                path = export_geojson(munis, os.path.join(staging, "municipalities.geojson"))
            args += ["--municipalities", path]
            code = self.parameterAsString(parameters, "CODE_FIELD", context)
            name = self.parameterAsString(parameters, "NAME_FIELD", context)
            if code:
                args += ["--code-key", code]
            if name:
                args += ["--name-key", name]
        for path in self.files(parameters, "POPULATION", context):
            args += ["--population", path]
        inst = self.parameterAsVectorLayer(parameters, "INSTITUTIONS", context)
        if inst is not None:
            path = plain_geojson(inst)
            if path is None:
                feedback.pushInfo(f"Writing {inst.name()} as GeoJSON for zaitaku")
                path = export_geojson(inst, os.path.join(staging, "institutions.geojson"))
            args += ["--institutions", path]
        for path in self.files(parameters, "INSTITUTION_FILES", context):
            args += ["--institutions", path]
        for key, flag in (("REGIONS", "--regions"), ("RULES", "--rules"), ("NETWORK", "--network")):
            value = self.parameterAsFile(parameters, key, context)
            if value:
                args += [flag, value]
        return args

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        try:
            binary = runner.find_binary(configured_binary())
            version = runner.check_version(binary)
        except runner.ZaitakuError as e:
            raise QgsProcessingException(str(e)) from e
        out = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        staging = os.path.join(QgsProcessingUtils.tempFolder(), "zaitaku-" + uuid.uuid4().hex)
        os.makedirs(staging)
        try:
            args = [self.COMMAND]
            if self.STUDY_INPUTS:
                args += self.study_args(parameters, context, feedback, staging)
            args += self.option_args(parameters, context) + ["--out", out]
            feedback.pushCommandInfo(f"zaitaku {version}: {binary} " + " ".join(args))
            stage = {"name": None}

            def on_progress(state):
                label = state.get("stage", "")
                if state.get("message"):
                    label += f": {state['message']}"
                if label != stage["name"]:
                    stage["name"] = label
                    feedback.setProgressText(label)
                pct = runner.percent(state)
                if pct is not None:
                    feedback.setProgress(pct)

            try:
                printed = runner.run(binary, args, on_progress, feedback.pushInfo, feedback.isCanceled)
            except runner.ZaitakuError as e:
                raise QgsProcessingException(str(e)) from e
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if printed:
            feedback.pushInfo(printed)
        group = f"zaitaku {self.COMMAND} — {os.path.basename(os.path.normpath(out))}"
        layers = []
        for rank, stem in enumerate(self.LAYERS):
            path = os.path.join(out, stem + ".geojson")
            if not os.path.exists(path):
                continue
            layers.append(path)
            details = QgsProcessingContext.LayerDetails(stem, context.project() or QgsProject.instance(), stem)
            details.setPostProcessor(LoadStyledInGroup(group, os.path.join(out, stem + ".qml"), rank))
            context.addLayerToLoadOnCompletion(path, details)
        return {"OUTPUT_FOLDER": out, "OUTPUT_LAYERS": layers}


def number(name, label, default, minimum=0.0, maximum=None, integer=False, optional=False):
    kind = QgsProcessingParameterNumber.Integer if integer else QgsProcessingParameterNumber.Double
    p = QgsProcessingParameterNumber(name, label, kind, defaultValue=default, optional=optional, minValue=minimum)
    if maximum is not None:
        p.setMaximum(maximum)
    return p


class Coverage(ZaitakuAlgorithm):
    COMMAND = "coverage"
    LABEL = "Coverage per function"
    HELP = (
        "Which share of the people who need home care live within reach of every kind of institution "
        "each function of the guideline needs (退院支援, 日常の療養支援, 急変時の対応, 看取り, 連携拠点), "
        "per municipality; the uncovered mesh squares."
    )
    LAYERS = ("gaps", "coverage")


class Access(ZaitakuAlgorithm):
    COMMAND = "access"
    LABEL = "Accessibility (2SFCA, E2SFCA)"
    HELP = "Supply per demand within reach of each role: 2SFCA and E2SFCA (Luo and Qi's steps, or Gaussian)."
    LAYERS = ("access",)
    DECAYS = ["rules or step", "step", "gaussian"]

    def add_options(self):
        self.addParameter(QgsProcessingParameterEnum("DECAY", "E2SFCA decay", self.DECAYS, defaultValue=0))
        self.addParameter(
            QgsProcessingParameterString("STEPS", "Steps, km:weight,... (minutes by road)", optional=True)
        )
        self.addParameter(number("SIGMA", "Gaussian sigma, km (minutes by road)", None, optional=True))

    def option_args(self, parameters, context):
        args = []
        decay = self.parameterAsEnum(parameters, "DECAY", context)
        if decay:
            args += ["--decay", self.DECAYS[decay]]
        steps = self.parameterAsString(parameters, "STEPS", context)
        if steps:
            args += ["--steps", steps]
        if parameters.get("SIGMA") not in (None, ""):
            args += ["--sigma", repr(self.parameterAsDouble(parameters, "SIGMA", context))]
        return args


class Floors:
    """The floors of a catchment area (catchments and report)."""

    def add_floors(self):
        self.addParameter(number("MIN_PROVIDERS", "Providers of each required role inside an area", 1, 1, integer=True))
        self.addParameter(number("MIN_SHARE", "Share of demand covered from inside (0-1)", 0.9, 0.0, 1.0))
        self.addParameter(number("MIN_DEMAND", "Demand an area must hold", 0.0))
        self.addParameter(QgsProcessingParameterBoolean("CROSS_PREFECTURE", "Catchments may cross prefectures", False))

    def floor_args(self, parameters, context):
        args = [
            "--min-providers",
            str(self.parameterAsInt(parameters, "MIN_PROVIDERS", context)),
            "--min-share",
            repr(self.parameterAsDouble(parameters, "MIN_SHARE", context)),
            "--min-demand",
            repr(self.parameterAsDouble(parameters, "MIN_DEMAND", context)),
        ]
        if self.parameterAsBool(parameters, "CROSS_PREFECTURE", context):
            args.append("--cross-prefecture")
        return args


class Catchments(Floors, ZaitakuAlgorithm):
    COMMAND = "catchments"
    LABEL = "Catchment areas"
    HELP = (
        "Checks the regions given (for example the secondary medical regions) and proposes contiguous "
        "catchment areas in which every function is self-sufficient."
    )
    LAYERS = ("regions", "catchments")

    def add_options(self):
        self.add_floors()

    def option_args(self, parameters, context):
        return self.floor_args(parameters, context)


class Capacity(ZaitakuAlgorithm):
    COMMAND = "capacity"
    LABEL = "Capacity: need served"
    HELP = (
        "How much of the need for home care providers can serve within reach under their capacities "
        "(an exact maximum flow per role), per function and municipality, and which providers are full; "
        "AccessMod's facility-by-facility fill beside it."
    )
    LAYERS = ("capacity",)
    ORDERS = ["none", "capacity", "id"]

    def add_options(self):
        self.addParameter(
            QgsProcessingParameterString(
                "NEED_RATE", "Need rate: 0.02, or daily=0.02,end_of_life=0.005 (empty: the rules')", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum("ORDER", "AccessMod's fill beside it, in order of", self.ORDERS, defaultValue=1)
        )

    def option_args(self, parameters, context):
        args = []
        rate = self.parameterAsString(parameters, "NEED_RATE", context)
        if rate:
            args += ["--need-rate", rate]
        order = self.parameterAsEnum(parameters, "ORDER", context)
        if order:
            args += ["--order", self.ORDERS[order]]
        return args


class Criticality(ZaitakuAlgorithm):
    COMMAND = "criticality"
    LABEL = "Criticality of institutions"
    HELP = "For every institution and function, the covered demand its closure alone would uncover."
    LAYERS = ("criticality",)


class Suggest(ZaitakuAlgorithm):
    COMMAND = "suggest"
    LABEL = "Suggest sites"
    HELP = "Where to add providers of a function's role to cover the most uncovered demand (maximal covering)."
    LAYERS = ("suggestions",)
    CANDIDATES = ["both", "institutions", "cells"]

    def add_options(self):
        self.addParameter(QgsProcessingParameterString("FUNCTION", "Function (discharge, daily, acute, end_of_life, hub)", "acute"))
        self.addParameter(QgsProcessingParameterString("ROLE", "Role (empty: the one leaving most uncovered)", optional=True))
        self.addParameter(number("SITES", "Sites", 10, 1, integer=True))
        self.addParameter(QgsProcessingParameterEnum("CANDIDATES", "Candidates", self.CANDIDATES, defaultValue=0))

    def option_args(self, parameters, context):
        args = [
            "--function",
            self.parameterAsString(parameters, "FUNCTION", context),
            "--sites",
            str(self.parameterAsInt(parameters, "SITES", context)),
            "--candidates",
            self.CANDIDATES[self.parameterAsEnum(parameters, "CANDIDATES", context)],
        ]
        role = self.parameterAsString(parameters, "ROLE", context)
        if role:
            args += ["--role", role]
        return args


class Compare(ZaitakuAlgorithm):
    COMMAND = "compare"
    LABEL = "Compare scenarios"
    HELP = (
        "Coverage of two scenarios (scenario files or result folders) side by side: per municipality and "
        "function the change of the covered share, and the people gaining and losing coverage."
    )
    LAYERS = ("diff",)
    STUDY_INPUTS = False

    def add_options(self):
        self.addParameter(QgsProcessingParameterFile("BASE", "Base scenario (TOML)", extension="toml"))
        self.addParameter(QgsProcessingParameterFile("ALT", "Alternative scenario (TOML)", extension="toml"))
        self.addParameter(number("MIN_SHARE", "Share line to report municipalities crossing (0-1)", 0.9, 0.0, 1.0))

    def option_args(self, parameters, context):
        return [
            self.parameterAsFile(parameters, "BASE", context),
            self.parameterAsFile(parameters, "ALT", context),
            "--min-share",
            repr(self.parameterAsDouble(parameters, "MIN_SHARE", context)),
        ]


class Report(Floors, ZaitakuAlgorithm):
    COMMAND = "report"
    LABEL = "Report (page, GeoPackage, maps)"
    HELP = (
        "Coverage, catchments and capacity with the presentation: report.html, zaitaku.gpkg with every layer "
        "styled, and a map per function."
    )
    LAYERS = ("gaps", "catchments", "regions", "institutions", "capacity", "coverage")

    def add_options(self):
        self.add_floors()

    def option_args(self, parameters, context):
        return self.floor_args(parameters, context)


ALGORITHMS = (Coverage, Access, Catchments, Capacity, Criticality, Suggest, Compare, Report)
