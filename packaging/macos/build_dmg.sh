#!/usr/bin/env bash
# Build ZoomSR.app with PyInstaller on macOS, run its frozen self-test, and wrap it in a DMG.
# (Not runnable on Linux: PyInstaller does not cross-compile. See docs/PACKAGING.md.)
#
#   packaging/macos/build_dmg.sh [--skip-install] [--no-smoke]
#
# Environment:
#   PYTHON                   interpreter for the build venv (default python3); the python.org
#                            installer or Homebrew python@3.11/3.12 work (both have a shared libpython)
#   ZOOMSR_BUILD_VENV        default build/venv-macos-<arch>
#   TORCH_VERSION            pin torch (e.g. 2.13.0). PyPI's macOS wheels are the CPU+MPS build.
#                            Intel Macs: the last torch with macOS x86_64 wheels is 2.2.x, so use
#                            TORCH_VERSION=2.2.2 and add "numpy<2" (torch 2.2 predates NumPy 2)
#   ZOOMSR_CODESIGN_IDENTITY "Developer ID Application: NAME (TEAMID)": PyInstaller signs every
#                            binary and the .app with the hardened runtime (entitlements.plist);
#                            the DMG is signed too. Unset: an unsigned, ad-hoc-signed build
#   ZOOMSR_NOTARY_PROFILE    a `xcrun notarytool store-credentials` profile: notarize and staple
#
# Output: dist/ZoomSR.app and dist/ZoomSR-<version>-macos-<arch>.dmg (arm64 and x86_64 are built
# on their own machines; torch ships no universal2 wheel).
set -euo pipefail

[[ "$(uname -s)" == Darwin ]] || { echo "build_dmg.sh runs on macOS only" >&2; exit 2; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SKIP_INSTALL=0 SMOKE=1
for arg in "$@"; do
    case "$arg" in
        --skip-install) SKIP_INSTALL=1 ;;
        --no-smoke) SMOKE=0 ;;
        *) echo "unknown option $arg" >&2; exit 2 ;;
    esac
done
fail() { echo "build_dmg.sh: FAILED: $*" >&2; exit 1; }

ARCH="$(uname -m)"  # arm64 or x86_64
VENV="${ZOOMSR_BUILD_VENV:-$ROOT/build/venv-macos-$ARCH}"
PY="$VENV/bin/python"
if [[ $SKIP_INSTALL == 0 ]]; then
    [[ -x "$PY" ]] || "${PYTHON:-python3}" -m venv "$VENV"
    "$PY" -m pip install "torch${TORCH_VERSION:+==$TORCH_VERSION}"
    "$PY" -m pip install -e ".[package]"
fi
VERSION="$("$PY" -c 'import sr_core; print(sr_core.__version__)')"  # the one version source

# macOS torch has no CUDA (it has MPS): that is the spec's "cpu" flavour.
export ZOOMSR_FLAVOUR=cpu
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller-macos" packaging/zoomsr.spec
APP="$ROOT/dist/ZoomSR.app"
[[ -x "$APP/Contents/MacOS/ZoomSR" ]] || fail "$APP was not built"

# Frozen self-test, in a clean HOME, from an empty folder (as build_linux.sh does).
TMP="$(mktemp -d -t zoomsr-dmg)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/home" "$TMP/run" "$TMP/none"
frozen() {
    (cd "$TMP/run" && env -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV -u DYLD_LIBRARY_PATH \
        HOME="$TMP/home" ZOOMSR_CONFIG_DIR="$TMP/home/config" \
        ZOOMSR_CHECKPOINTS="${FROZEN_CHECKPOINTS:-$TMP/none}" QT_QPA_PLATFORM=offscreen \
        "$APP/Contents/MacOS/ZoomSR" "$@")
}
start=$(date +%s)
frozen --selftest || fail "frozen --selftest"
echo "frozen --selftest: $(( $(date +%s) - start )) s (first start)"
if [[ $SMOKE == 1 ]]; then
    "$PY" packaging/smoke_checkpoints.py "$TMP/smoke"
    FROZEN_CHECKPOINTS="$TMP/smoke" frozen --selftest | tee "$TMP/smoke.log" \
        || fail "frozen --selftest with every architecture"
    if grep -q skipped "$TMP/smoke.log"; then fail "an architecture was skipped"; fi
fi

if [[ -n "${ZOOMSR_CODESIGN_IDENTITY:-}" ]]; then
    codesign --verify --deep --strict --verbose=2 "$APP" || fail "codesign --verify"
fi

# The DMG: the app and a link to /Applications to drag it onto.
DMG="$ROOT/dist/ZoomSR-$VERSION-macos-$ARCH.dmg"
STAGE="$TMP/dmg"
mkdir -p "$STAGE"
ditto "$APP" "$STAGE/ZoomSR.app"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
# hdiutil sometimes fails with "Resource busy" right after a build (Spotlight/XProtect scans): retry.
for attempt in 1 2 3; do
    if hdiutil create -volname "ZoomSR $VERSION" -srcfolder "$STAGE" -fs HFS+ \
        -format ULFO -ov "$DMG"; then break; fi
    [[ $attempt == 3 ]] && fail "hdiutil create"
    sleep 10
done

if [[ -n "${ZOOMSR_CODESIGN_IDENTITY:-}" ]]; then
    codesign --sign "$ZOOMSR_CODESIGN_IDENTITY" --timestamp "$DMG"
    if [[ -n "${ZOOMSR_NOTARY_PROFILE:-}" ]]; then
        xcrun notarytool submit "$DMG" --keychain-profile "$ZOOMSR_NOTARY_PROFILE" --wait
        xcrun stapler staple "$DMG"
        spctl --assess --type open --context context:primary-signature --verbose=2 "$DMG"
    fi
fi

echo "app: $(du -sh "$APP" | cut -f1), $(find "$APP" -type f | wc -l | tr -d ' ') files"
echo "dmg: ${DMG#$ROOT/} $(du -sh "$DMG" | cut -f1)"
echo "build_dmg.sh: ok"
