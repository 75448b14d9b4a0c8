#!/usr/bin/env bash
# Rebuilds the assets compiled into zaitaku's maps and report (src/outputs/assets/):
#  - NotoSansCJKjp-Regular-subset.otf: Noto Sans CJK JP Regular (SIL OFL 1.1, Debian package
#    fonts-noto-cjk 1:20220127) subset with fontTools to ASCII, Latin-1, every character of
#    Windows-31J (JIS X 0208 with the NEC and IBM extensions: level 1 and 2 kanji, kana,
#    symbols), half-width katakana, arrows, box and CJK punctuation; no hinting, no layout
#    features. Text outside that set is drawn with the font's missing-glyph box.
#  - leaflet.js / leaflet.css: Leaflet 1.9.4 from the npm registry (BSD 2-Clause), with the
#    source-map comment and the three CSS rules that load marker and layer-control images
#    removed, so that an inlined copy never asks for another file.
# Needs apt-get, npm and python3 with fontTools (pip install fonttools).
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/src/outputs/assets"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

apt-get download fonts-noto-cjk
dpkg-deb -x fonts-noto-cjk_*.deb deb
python3 - <<'PY'
chars = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x180)}
for lead in [*range(0x81, 0xA0), *range(0xE0, 0xFD)]:
    for trail in [*range(0x40, 0x7F), *range(0x80, 0xFD)]:
        try:
            chars.add(bytes([lead, trail]).decode("cp932"))
        except UnicodeDecodeError:
            pass
for lo, hi in [(0xFF61, 0xFFA0), (0x2000, 0x206F), (0x2190, 0x21FF), (0x2200, 0x22FF),
               (0x2460, 0x24FF), (0x25A0, 0x25FF), (0x3000, 0x30FF), (0xFF01, 0xFF60)]:
    chars.update(chr(c) for c in range(lo, hi))
open("chars.txt", "w", encoding="utf-8").write("".join(sorted(chars)))
PY
pyftsubset deb/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc --font-number=0 \
  --text-file=chars.txt --output-file="$out/NotoSansCJKjp-Regular-subset.otf" \
  --layout-features='' --no-hinting
sed -n '/SIL OPEN FONT LICENSE Version 1.1/,/OTHER DEALINGS IN THE FONT SOFTWARE/p' \
  deb/usr/share/doc/fonts-noto-cjk/copyright | sed 's/^ //; s/^\.$//' > "$out/OFL-1.1.txt"

npm pack leaflet@1.9.4
tar xzf leaflet-1.9.4.tgz
grep -v sourceMappingURL package/dist/leaflet.js > "$out/leaflet.js"
python3 - "$out/leaflet.css" <<'PY'
import re, sys
css = open("package/dist/leaflet.css", encoding="utf-8").read()
open(sys.argv[1], "w", encoding="utf-8").write(re.sub(r"\n[^\n]*url\(images/[^)]*\);", "", css))
PY
cp package/LICENSE "$out/LEAFLET-LICENSE.txt"
