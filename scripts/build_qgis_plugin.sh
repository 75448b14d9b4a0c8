#!/usr/bin/env bash
# Builds the QGIS plugin's zip (Plugins > Manage and Install Plugins > Install from ZIP):
#
#   scripts/build_qgis_plugin.sh [OUT_DIR]     # writes OUT_DIR/zaitaku_processing-<version>.zip
#
# The zip holds the folder zaitaku_processing/ (metadata.txt, icon, licence, the provider);
# the version is the plugin's metadata.txt version, which follows zaitaku's.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
mkdir -p "$out"
version=$(sed -n 's/^version=//p' qgis/zaitaku_processing/metadata.txt)
crate=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
if [ "$version" != "$crate" ]; then
  echo "metadata.txt says $version, Cargo.toml $crate: make them agree" >&2
  exit 1
fi
zip="$out/zaitaku_processing-$version.zip"
python3 - "$zip" <<'PY'
import os, sys, zipfile
target = sys.argv[1]
tmp = target + ".part"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for folder, dirs, files in os.walk("qgis/zaitaku_processing"):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".pyc"):
                continue
            path = os.path.join(folder, name)
            z.write(path, os.path.relpath(path, "qgis"))
os.replace(tmp, target)
print(target)
PY
