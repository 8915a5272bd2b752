#!/usr/bin/env bash
# Build the ZoomSR Linux bundle (PyInstaller, one folder) and run its frozen self-test.
#
#   packaging/build_linux.sh [options]
#
# Options:
#   --current-env    build with the Python environment that is active now (`python` on PATH)
#                    instead of the dedicated build venv; pyinstaller and the project
#                    (`pip install -e ".[package]"`) are installed into it, torch is not touched
#   --skip-install   do not run pip at all (the environment is already set up)
#   --skip-build     do not run PyInstaller; test (and measure) the existing dist/ZoomSR
#   --no-smoke       only the plain self-test, not the run of every architecture on tiny
#                    random-weight checkpoints (that run is what validates the spec's excludes)
#   --no-xvfb        skip the extra self-test on the real X11 platform plugin (xcb), which runs
#                    when xvfb-run is installed (Debian/Ubuntu: apt-get install xvfb xauth)
#   --archive        also write dist/ZoomSR-<version>-linux-x86_64-<flavour>.tar.gz
#   -h, --help       this text
#
# Environment:
#   ZOOMSR_FLAVOUR   cpu (default) or cuda; the spec refuses a torch build of the other kind
#   PYTHON           interpreter the build venv is created from (default: python3). It must be
#                    a CPython with a shared libpython (python3 -c "import sysconfig;
#                    print(sysconfig.get_config_var('Py_ENABLE_SHARED'))" prints 1)
#   ZOOMSR_BUILD_VENV  the build venv (default: build/venv-linux-<flavour>)
#   TORCH_INDEX_URL  where torch comes from when the build venv is set up; default for cpu:
#                    https://download.pytorch.org/whl/cpu, for cuda: PyPI (whose Linux torch
#                    wheels are the CUDA builds); set it to e.g. .../whl/cu128 for another CUDA line
#   TORCH_VERSION    pin torch (e.g. 2.13.0); default: the newest the index offers
#
# The default is a dedicated venv under build/ (git-ignored) so that the bundle contains exactly
# the runtime dependencies plus PyInstaller, and the CPU wheel of torch is guaranteed: a plain
# `pip install torch` from PyPI on Linux is the CUDA build and would make the bundle ~4 GB.
# Everything is written under build/ and dist/ (both git-ignored) and a temporary folder.
#
# Exit status: 0 when the bundle was built and every frozen check passed, non-zero otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FLAVOUR="${ZOOMSR_FLAVOUR:-cpu}"
CURRENT_ENV=0 SKIP_INSTALL=0 SKIP_BUILD=0 SMOKE=1 XVFB=1 ARCHIVE=0
for arg in "$@"; do
    case "$arg" in
        --current-env) CURRENT_ENV=1 ;;
        --skip-install) SKIP_INSTALL=1 ;;
        --skip-build) SKIP_BUILD=1 ;;
        --no-smoke) SMOKE=0 ;;
        --no-xvfb) XVFB=0 ;;
        --archive) ARCHIVE=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "build_linux.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    esac
done
case "$FLAVOUR" in cpu|cuda) ;; *) echo "ZOOMSR_FLAVOUR must be cpu or cuda" >&2; exit 2 ;; esac
export ZOOMSR_FLAVOUR="$FLAVOUR"

step() { printf '\n=== %s\n' "$*"; }
fail() { printf '\nbuild_linux.sh: FAILED: %s\n' "$*" >&2; exit 1; }

# --- the build environment ----------------------------------------------------------------
if [[ $CURRENT_ENV == 1 ]]; then
    PY="$(command -v python || command -v python3)" || fail "no python on PATH"
    [[ -n "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ]] \
        || echo "warning: no virtual environment is active; installing into $PY's site-packages"
else
    VENV="${ZOOMSR_BUILD_VENV:-$ROOT/build/venv-linux-$FLAVOUR}"
    PY="$VENV/bin/python"
    if [[ ! -x "$PY" ]]; then
        [[ $SKIP_INSTALL == 1 ]] && fail "$VENV does not exist (drop --skip-install)"
        step "creating the build venv $VENV"
        "${PYTHON:-python3}" -m venv "$VENV"
    fi
fi
step "build environment: $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
[[ "$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("Py_ENABLE_SHARED"))')" == 1 ]] \
    || fail "$PY has no shared libpython, which PyInstaller needs (pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared)"

torch_kind() {  # prints cpu, cuda or none
    "$PY" - <<'EOF' 2>/dev/null || echo none
import torch
print("cuda" if torch.version.cuda else "cpu")
EOF
}

if [[ $SKIP_INSTALL == 0 && $SKIP_BUILD == 0 ]]; then
    have="$(torch_kind)"
    if [[ "$have" == none && $CURRENT_ENV == 0 ]]; then
        index="${TORCH_INDEX_URL-}"
        [[ -z "$index" && $FLAVOUR == cpu ]] && index=https://download.pytorch.org/whl/cpu
        step "installing torch${TORCH_VERSION:+==$TORCH_VERSION} ($FLAVOUR) from ${index:-PyPI}"
        "$PY" -m pip install "torch${TORCH_VERSION:+==$TORCH_VERSION}" ${index:+--index-url "$index"}
    fi
    step "installing the project with its package extra (pyinstaller)"
    "$PY" -m pip install -e ".[package]"
fi
have="$(torch_kind)"
[[ "$have" == "$FLAVOUR" ]] || fail "the build environment has torch flavour '$have', not '$FLAVOUR'
  (CPU: pip install torch --index-url https://download.pytorch.org/whl/cpu)"
TORCH_VERSION_FROZEN="$("$PY" -c 'import torch; print(torch.__version__)')"
VERSION="$("$PY" -c 'import sr_core; print(sr_core.__version__)')"  # the one version source

# --- build ----------------------------------------------------------------------------------
# dist/ZoomSR for the CPU flavour, dist/cuda/ZoomSR for CUDA (so that both can coexist)
DIST="$ROOT/dist"
[[ $FLAVOUR == cuda ]] && DIST="$ROOT/dist/cuda"
BUNDLE="$DIST/ZoomSR"
if [[ $SKIP_BUILD == 0 ]]; then
    step "PyInstaller: packaging/zoomsr.spec -> ${BUNDLE#$ROOT/} (torch $TORCH_VERSION_FROZEN)"
    start=$(date +%s)
    "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath "$DIST" --workpath "$ROOT/build/pyinstaller-$FLAVOUR" packaging/zoomsr.spec
    echo "built in $(( $(date +%s) - start )) s"
    # Linux tarball extras, beside the executable (as Blender and Firefox ship theirs)
    cp packaging/linux/zoomsr.desktop packaging/linux/install-desktop-entry.sh "$BUNDLE/"
    cp resources/icons/zoomsr.png resources/icons/zoomsr.svg LICENSE THIRD_PARTY_NOTICES.md "$BUNDLE/"
    chmod +x "$BUNDLE/install-desktop-entry.sh"
fi
[[ -x "$BUNDLE/ZoomSR" ]] || fail "$BUNDLE/ZoomSR does not exist"

# --- frozen checks --------------------------------------------------------------------------
# Run from an empty folder with a fresh HOME and without the build environment's variables,
# so that nothing outside the bundle (the checkout, the venv, the builder's settings or
# imported weights) can make the checks pass.
TMP="$(mktemp -d "${TMPDIR:-/tmp}/zoomsr-selftest.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/home" "$TMP/run" "$TMP/no-user-weights"
WRAP=()  # a command to run the bundle under (xvfb-run …)
frozen() {  # frozen ARGS... : run the bundle in the clean environment
    (cd "$TMP/run" && env -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV -u CONDA_PREFIX \
        -u LD_LIBRARY_PATH -u LD_PRELOAD -u QT_PLUGIN_PATH -u QT_QPA_PLATFORM_PLUGIN_PATH \
        HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" XDG_DATA_HOME="$TMP/home/.local/share" \
        XDG_CACHE_HOME="$TMP/home/.cache" ZOOMSR_CONFIG_DIR="$TMP/home/config" \
        ZOOMSR_CHECKPOINTS="${FROZEN_CHECKPOINTS:-$TMP/no-user-weights}" \
        QT_QPA_PLATFORM="${FROZEN_PLATFORM:-offscreen}" ${WRAP[@]+"${WRAP[@]}"} "$BUNDLE/ZoomSR" "$@")
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# A cold start means an empty page cache: dropped when we may (root on a VM or bare metal;
# a container usually may not, and then the first start is only the first after the build).
COLD="first start after the build (page cache warm)"
if sync && { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then COLD="cold (page cache dropped)"; fi

step "frozen version and notices"
[[ "$(frozen --version)" == "ZoomSR $VERSION" ]] || fail "frozen --version printed '$(frozen --version)', not 'ZoomSR $VERSION'"
for notice in LICENSE THIRD_PARTY_NOTICES.md licenses/Qt/LGPL-3.0.txt licenses/torch/LICENSE \
        resources/checkpoints/liif.LICENSE.txt; do
    [[ -s "$BUNDLE/_internal/$notice" ]] || fail "the bundle has no _internal/$notice"
done
echo "ZoomSR $VERSION; LICENSE, THIRD_PARTY_NOTICES.md and $(find "$BUNDLE/_internal/licenses" -type f | wc -l) licence files"

step "frozen self-test (every shipped method): QT_QPA_PLATFORM=offscreen ${BUNDLE#$ROOT/}/ZoomSR --selftest"
t0=$(now)
frozen --selftest 2>&1 | tee "$TMP/selftest.log" || fail "frozen --selftest exited non-zero (log above)"
SELFTEST_S=$(elapsed "$t0" "$(now)")
grep -q "^selftest: ok" "$TMP/selftest.log" || fail "frozen --selftest did not say 'selftest: ok'"

step "frozen command line: methods, upscale"
t0=$(now)
frozen methods --json > "$TMP/methods.json" 2> "$TMP/methods.err" \
    || { cat "$TMP/methods.err"; fail "frozen 'methods' failed"; }
METHODS_S=$(elapsed "$t0" "$(now)")
"$PY" - "$TMP/methods.json" <<'EOF' || fail "frozen 'methods' lists a method as unavailable"
import json, sys
rows = json.load(open(sys.argv[1]))
missing = [f"{r['method']}: {r['reason']}" for r in rows if not r["available"]]
print(f"methods: {len(rows)} listed, {len(rows) - len(missing)} available")
sys.exit("\n".join(missing) or None)
EOF
frozen upscale "$BUNDLE/_internal/resources/demo/kodim08.webp" -o "$TMP/run/up.png" \
    --scale 1.5 --method liif > "$TMP/upscale.log" 2>&1 \
    || { cat "$TMP/upscale.log"; fail "frozen 'upscale' failed"; }
[[ -s "$TMP/run/up.png" ]] || fail "frozen 'upscale' wrote no PNG"
echo "upscale --method liif: wrote a $(stat -c %s "$TMP/run/up.png")-byte PNG"

if [[ $SMOKE == 1 ]]; then
    # Every architecture's forward pass, on tiny random-weight checkpoints that exist only in
    # $TMP (see packaging/smoke_checkpoints.py): this is what proves that the spec's excludes
    # removed nothing inference needs, before any trained weights ship.
    step "frozen self-test of every architecture (tiny random-weight smoke checkpoints)"
    "$PY" packaging/smoke_checkpoints.py "$TMP/smoke"
    t0=$(now)
    FROZEN_CHECKPOINTS="$TMP/smoke" frozen --selftest 2>&1 | tee "$TMP/smoke.log" \
        || fail "frozen --selftest with every architecture exited non-zero (log above)"
    SMOKE_S=$(elapsed "$t0" "$(now)")
    if grep -q "skipped" "$TMP/smoke.log"; then fail "some architecture was skipped in the smoke run"; fi
fi

XCB_RESULT="not run (no xvfb-run)"
[[ $XVFB == 0 ]] && XCB_RESULT="not run (--no-xvfb)"
if [[ $XVFB == 1 ]] && command -v xvfb-run >/dev/null; then
    # The X11 plugin loads libraries the offscreen one does not (xcb-*, xkbcommon-x11, GLX/EGL
    # integrations): the usual "could not load the Qt platform plugin xcb" failure shows here.
    step "frozen self-test on X11: xvfb-run, QT_QPA_PLATFORM=xcb"
    WRAP=(xvfb-run -a -s "-screen 0 1280x1024x24")
    FROZEN_PLATFORM=xcb frozen --selftest 2>&1 | tee "$TMP/xcb.log" \
        || fail "frozen --selftest on xcb failed (diagnose: QT_DEBUG_PLUGINS=1, see docs/PACKAGING.md)"
    WRAP=()
    XCB_RESULT="$(tail -n 1 "$TMP/xcb.log")"
fi

# --- report ---------------------------------------------------------------------------------
step "bundle report"
SIZE_H="$(du -sh "$BUNDLE" | cut -f1)"
SIZE_MB="$(du -sm "$BUNDLE" | cut -f1)"
FILES="$(find "$BUNDLE" -type f | wc -l)"
GLIBC="$(find "$BUNDLE" -type f \( -name '*.so*' -o -perm -u+x \) -print0 \
    | xargs -0 grep -aoh 'GLIBC_2\.[0-9]*' 2>/dev/null | sort -uV | tail -n 1)"
echo "flavour:          $FLAVOUR (torch $TORCH_VERSION_FROZEN), ZoomSR $VERSION"
echo "bundle:           ${BUNDLE#$ROOT/}  $SIZE_H ($SIZE_MB MiB), $FILES files"
du -sh "$BUNDLE/_internal/torch" "$BUNDLE/_internal/PySide6" 2>/dev/null | sed 's|'"$BUNDLE"'/||; s/^/  /'
echo "needs glibc:      >= ${GLIBC#GLIBC_} (newest GLIBC_ symbol version in the bundle)"
echo "--selftest:       ${SELFTEST_S} s (every shipped method), $COLD"
echo "methods --json:   ${METHODS_S} s (start, import torch, read every checkpoint's metadata)"
[[ $SMOKE == 1 ]] && echo "all-methods run:  ${SMOKE_S} s ($(tail -n 1 "$TMP/smoke.log"))"
echo "self-test:        $(tail -n 1 "$TMP/selftest.log")"
echo "on X11 (xcb):     $XCB_RESULT"
if [[ $ARCHIVE == 1 ]]; then
    TAR="$ROOT/dist/ZoomSR-$VERSION-linux-x86_64-$FLAVOUR.tar.gz"
    tar -C "$DIST" -czf "$TAR" ZoomSR
    echo "archive:          ${TAR#$ROOT/}  $(du -sh "$TAR" | cut -f1)"
fi
echo
echo "build_linux.sh: ok"
