#!/usr/bin/env bash
# Build ZoomSR's sdist and wheel, install the wheel (not editable) into a fresh venv, and run
# the installed `zoomsr` from an empty temporary folder, as a user of `pip install` or `pipx`
# would: --version, methods (every learned method available), the licence notices, the
# training command line, --selftest (offscreen) and upscale.
#
#   packaging/check_wheel.sh [options]
#
# Options:
#   --all-methods   upscale with every method (default: LIIF, the default method, only)
#   --skip-build    test the newest dist/zoomsr-*.whl instead of building one
#   -h, --help      this text
#
# Environment:
#   PYTHON             interpreter of the build and of the fresh venv (default: python3); the
#                      build frontend `build` must be installed in it (the `package` extra)
#   TORCH_REQUIREMENT  how torch is installed beside the wheel (default: torch==2.13.0); extra
#                      pip options in PIP_EXTRA_INDEX_URL etc. reach pip as usual
#
# The wheel is built from the sdist (python -m build), so a file missing from the sdist fails
# here too. Everything is written under dist/ (git-ignored) and a temporary folder.
# Exit status: 0 when every check passed, non-zero otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
ALL=0 BUILD=1
for arg in "$@"; do
    case "$arg" in
        --all-methods) ALL=1 ;;
        --skip-build) BUILD=0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "check_wheel.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    esac
done

step() { printf '\n=== %s\n' "$*"; }
fail() { printf '\ncheck_wheel.sh: FAILED: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

VERSION="$("$PY" -c 'import sr_core; print(sr_core.__version__)')"
if [[ $BUILD == 1 ]]; then
    step "python -m build: sdist, then the wheel from the sdist"
    rm -f dist/zoomsr-*.whl dist/zoomsr-*.tar.gz
    t0=$(now)
    "$PY" -m build --outdir dist . > "${TMPDIR:-/tmp}/zoomsr-build.log" 2>&1 \
        || { tail -n 30 "${TMPDIR:-/tmp}/zoomsr-build.log"; fail "python -m build failed"; }
    echo "built in $(elapsed "$t0" "$(now)") s"
fi
WHEEL="$(ls -t dist/zoomsr-*.whl 2>/dev/null | head -n 1)"
[[ -n "$WHEEL" ]] || fail "no dist/zoomsr-*.whl"
[[ "$(basename "$WHEEL")" == "zoomsr-$VERSION-py3-none-any.whl" ]] || fail "$WHEEL is not version $VERSION"
ls -l dist/zoomsr-"$VERSION"* | awk '{ printf "  %s  %.1f MB\n", $NF, $5 / 1e6 }'

TMP="$(mktemp -d "${TMPDIR:-/tmp}/zoomsr-wheel.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/home" "$TMP/run" "$TMP/no-user-weights"

step "fresh venv: pip install ${TORCH_REQUIREMENT:-torch==2.13.0} $(basename "$WHEEL")"
t0=$(now)
"$PY" -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install --quiet "${TORCH_REQUIREMENT:-torch==2.13.0}" "$ROOT/$WHEEL" \
    > "$TMP/pip.log" 2>&1 || { grep -v "^WARNING: Location" "$TMP/pip.log" | tail -n 30; fail "pip install failed"; }
echo "installed in $(elapsed "$t0" "$(now)") s; venv $(du -sm "$TMP/venv" | cut -f1) MiB"

installed() {  # installed ARGS... : run in the empty folder, with nothing of the checkout or the user
    (cd "$TMP/run" && env -u PYTHONPATH -u PYTHONHOME HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" \
        XDG_DATA_HOME="$TMP/home/.local/share" XDG_CACHE_HOME="$TMP/home/.cache" \
        ZOOMSR_CONFIG_DIR="$TMP/home/config" ZOOMSR_CHECKPOINTS="$TMP/no-user-weights" \
        QT_QPA_PLATFORM=offscreen PATH="$TMP/venv/bin:$PATH" "$@")
}

step "the installed package"
where="$(installed python -c 'import sr_core, resources; print(sr_core.__file__)')"
[[ "$where" == "$TMP/venv/"* ]] || fail "sr_core was imported from $where, not from the venv"
got="$(installed zoomsr --version)"
[[ "$got" == "ZoomSR $VERSION" ]] || fail "zoomsr --version printed '$got', not 'ZoomSR $VERSION'"
echo "$got, from ${where%/sr_core/__init__.py}"
installed python - <<'EOF' || fail "the installed notices are incomplete"
from sr_core.paths import NOTICE_FILES, checkpoints_dir, notice_text

for name in NOTICE_FILES:
    assert notice_text(name), f"{name} is not in the installed distribution"
assert (checkpoints_dir() / "liif.LICENSE.txt").is_file(), "the LIIF weights' licence is missing"
print(f"notices: {', '.join(NOTICE_FILES)}, liif.LICENSE.txt")
EOF
installed python -m training --help > /dev/null || fail "python -m training --help failed"
echo "python -m training --help: ok"

step "zoomsr methods --json"
installed zoomsr methods --json > "$TMP/methods.json" || fail "zoomsr methods failed"
installed python - "$TMP/methods.json" <<'EOF' || fail "a method is unavailable in the installed wheel"
import json, sys

rows = json.load(open(sys.argv[1]))
missing = [f"{r['method']}: {r['reason']}" for r in rows if not r["available"]]
print(f"{len(rows)} methods listed, {len(rows) - len(missing)} available: {', '.join(r['method'] for r in rows)}")
sys.exit("\n".join(missing) or None)
EOF

step "zoomsr --selftest (offscreen)"
t0=$(now)
installed zoomsr --selftest 2>&1 | tee "$TMP/selftest.log" || fail "zoomsr --selftest exited non-zero (log above)"
echo "selftest in $(elapsed "$t0" "$(now)") s"

step "zoomsr upscale"
installed python -c "
from PIL import Image
from sr_core.paths import resources_dir
Image.open(resources_dir() / 'demo' / 'kodim08.webp').crop((300, 150, 396, 214)).save('small.png')"
METHODS=(liif)
[[ $ALL == 1 ]] && mapfile -t METHODS < <(installed python -c "import json; [print(r['method']) for r in json.load(open('$TMP/methods.json'))]")
for method in "${METHODS[@]}"; do
    t0=$(now)
    installed zoomsr upscale small.png -o "up-$method.png" --scale 3 --method "$method" > "$TMP/upscale.log" 2>&1 \
        || { cat "$TMP/upscale.log"; fail "zoomsr upscale --method $method failed"; }
    size="$(installed python -c "from PIL import Image; print('%dx%d' % Image.open('up-$method.png').size)")"
    [[ "$size" == 288x192 ]] || fail "zoomsr upscale --method $method wrote $size, not 288x192"
    echo "upscale 96x64 -> $size --method $method: $(elapsed "$t0" "$(now)") s"
done

echo
echo "check_wheel.sh: ok"
