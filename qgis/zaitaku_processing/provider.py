"""The Processing provider `zaitaku`: one algorithm per zaitaku command, and the setting
that says where the zaitaku program is."""
import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .algorithms import ALGORITHMS
from .runner import BINARY_SETTING

try:  # the Processing plugin's settings, present wherever the toolbox is
    from processing.core.ProcessingConfig import ProcessingConfig, Setting
except ImportError:  # pragma: no cover
    ProcessingConfig = None


class ZaitakuProvider(QgsProcessingProvider):
    def id(self):
        return "zaitaku"

    def name(self):
        return "zaitaku"

    def longName(self):  # noqa: N802
        return "zaitaku: home medical care coverage (在宅医療)"

    def icon(self):
        return QIcon(os.path.join(os.path.dirname(__file__), "icon.svg"))

    def load(self):
        if ProcessingConfig is not None:
            ProcessingConfig.settingIcons[self.name()] = self.icon()
            ProcessingConfig.addSetting(
                Setting(
                    self.name(),
                    BINARY_SETTING,
                    "zaitaku program (empty: found on PATH)",
                    "",
                    valuetype=Setting.FILE,
                )
            )
            ProcessingConfig.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self):
        if ProcessingConfig is not None:
            ProcessingConfig.removeSetting(BINARY_SETTING)

    def loadAlgorithms(self):  # noqa: N802
        for cls in ALGORITHMS:
            self.addAlgorithm(cls())
