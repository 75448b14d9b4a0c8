"""zaitaku for QGIS: a Processing provider that runs the zaitaku program."""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    from .plugin import ZaitakuPlugin

    return ZaitakuPlugin(iface)
