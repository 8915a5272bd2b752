#!/usr/bin/env bash
# Build a Debian/Ubuntu package of the Linux bundle (dist/ZoomSR, from build_linux.sh) with
# dpkg-deb, and optionally install it, self-test it and remove it again.
#
#   packaging/build_deb.sh [--install-test]
#
# The package installs the bundle into /opt/zoomsr, a `zoomsr` command (/usr/bin/zoomsr, a link),
# the desktop entry with "Open with" for images (its MimeType), and the icon (hicolor 256 px
# and scalable). It has no maintainer scripts: Debian's desktop-file-utils and
# hicolor-icon-theme refresh their caches by dpkg triggers, so removing it leaves nothing behind.
# Depends lists the system libraries of Qt's X11 plugin (the README's list), so
# `sudo apt install ./zoomsr_VERSION_amd64.deb` (or a double click) brings them along.
#
# Options:
#   --install-test  as root: install the package (apt-get, which resolves Depends), check its
#                   files, run `zoomsr --version` and `zoomsr --selftest` (offscreen) from an empty
#                   folder, then purge it and check that nothing of it is left
#   -h, --help      this text
#
# Output: dist/zoomsr_<version>_amd64.deb. Exit status non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
INSTALL_TEST=0
for arg in "$@"; do
    case "$arg" in
        --install-test) INSTALL_TEST=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "build_deb.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    esac
done
step() { printf '\n=== %s\n' "$*"; }
fail() { printf '\nbuild_deb.sh: FAILED: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

BUNDLE="$ROOT/dist/ZoomSR"
[[ -x "$BUNDLE/ZoomSR" ]] || fail "$BUNDLE/ZoomSR does not exist: run packaging/build_linux.sh first"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' sr_core/__init__.py)"
[[ -n "$VERSION" ]] || fail "no __version__ in sr_core/__init__.py"
DEB="$ROOT/dist/zoomsr_${VERSION}_amd64.deb"
# the same libraries as the README's "Linux desktops" list (and app/xcb_libraries.py)
DEPENDS="libc6 (>= GLIBC), libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, \
libxcb-randr0, libxcb-render0, libxcb-render-util0, libxcb-shape0, libxcb-shm0, libxcb-sync1, libxcb-util1, \
libxcb-xfixes0, libxcb-xkb1, libxkbcommon0, libxkbcommon-x11-0, libx11-6, libx11-xcb1, libgl1, libfontconfig1"

if [[ $INSTALL_TEST == 0 || ! -f "$DEB" ]]; then
    step "staging /opt/zoomsr, the command, the desktop entry and the icons"
    STAGE="$ROOT/build/deb/zoomsr"
    rm -rf "$STAGE"
    mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
        "$STAGE/usr/share/icons/hicolor/256x256/apps" "$STAGE/usr/share/icons/hicolor/scalable/apps" \
        "$STAGE/usr/share/doc/zoomsr"
    cp -a "$BUNDLE" "$STAGE/opt/zoomsr"
    # the tarball's per-user extras are not for a system package
    rm -f "$STAGE/opt/zoomsr/install-desktop-entry.sh" "$STAGE/opt/zoomsr/zoomsr.desktop"
    ln -s /opt/zoomsr/ZoomSR "$STAGE/usr/bin/zoomsr"
    sed -e 's|^Exec=.*|Exec=/opt/zoomsr/ZoomSR %f|' -e 's|^TryExec=.*|TryExec=/opt/zoomsr/ZoomSR|' \
        packaging/linux/zoomsr.desktop > "$STAGE/usr/share/applications/zoomsr.desktop"
    grep -q '^MimeType=image/' "$STAGE/usr/share/applications/zoomsr.desktop" \
        || fail "the desktop entry has no image MimeType (no \"Open with\")"
    cp resources/icons/zoomsr.png "$STAGE/usr/share/icons/hicolor/256x256/apps/zoomsr.png"
    cp resources/icons/zoomsr.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/zoomsr.svg"
    cp LICENSE THIRD_PARTY_NOTICES.md "$STAGE/usr/share/doc/zoomsr/"
    glibc="$(find "$BUNDLE" -type f \( -name '*.so*' -o -perm -u+x \) -print0 \
        | xargs -0 grep -aoh 'GLIBC_2\.[0-9]*' 2>/dev/null | sort -uV | tail -n 1)"
    cat > "$STAGE/DEBIAN/control" <<EOF
Package: zoomsr
Version: $VERSION
Architecture: amd64
Maintainer: ZoomSR contributors <zoomsr@localhost>
Installed-Size: $(du -sk "$STAGE" | cut -f1)
Depends: ${DEPENDS/GLIBC/${glibc#GLIBC_}}
Section: graphics
Priority: optional
Homepage: https://pypi.org/project/zoomsr/
Description: zoom into photographs while super-resolution methods render the detail
 ZoomSR is an image viewer that zooms continuously into a photograph while
 neural implicit image functions (LIIF, UltraSR, IPE-LIIF, LTE, DIIF, CLIT,
 CiSRGAN) render the detail, compared side by side in locked panels. It runs
 on the CPU; the trained weights ship with it.
EOF
    step "dpkg-deb --build (gzip)"
    t0=$(now)
    dpkg-deb --root-owner-group -Zgzip -z6 --build "$STAGE" "$DEB" > /dev/null
    echo "built in $(elapsed "$t0" "$(now)") s: ${DEB#$ROOT/} $(du -m "$DEB" | cut -f1) MiB;" \
        "installed size $(( $(du -sk "$STAGE" | cut -f1) / 1024 )) MiB"
    dpkg-deb --field "$DEB" Package Version Depends | cut -c1-160
fi

[[ $INSTALL_TEST == 1 ]] || { echo; echo "build_deb.sh: ok"; exit 0; }

# --- install, self-test, remove ---------------------------------------------------------------
[[ $(id -u) == 0 ]] || fail "--install-test installs into /opt and /usr: run it as root"
dpkg-query -W zoomsr > /dev/null 2>&1 && fail "a zoomsr package is already installed; remove it first"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/zoomsr-deb.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/home" "$TMP/run" "$TMP/none"

step "apt-get install $(basename "$DEB")"
t0=$(now)
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$DEB" > "$TMP/apt.log" 2>&1 \
    || { tail -n 30 "$TMP/apt.log"; fail "apt-get install failed"; }
echo "installed in $(elapsed "$t0" "$(now)") s"
for path in /opt/zoomsr/ZoomSR /usr/bin/zoomsr /usr/share/applications/zoomsr.desktop \
        /usr/share/icons/hicolor/256x256/apps/zoomsr.png /usr/share/icons/hicolor/scalable/apps/zoomsr.svg \
        /usr/share/doc/zoomsr/THIRD_PARTY_NOTICES.md; do
    [[ -e "$path" ]] || fail "$path was not installed"
done
echo "files: $(dpkg-query -L zoomsr | wc -l) paths, /opt/zoomsr $(du -sm /opt/zoomsr | cut -f1) MiB"
if command -v desktop-file-validate > /dev/null; then
    desktop-file-validate /usr/share/applications/zoomsr.desktop || fail "desktop-file-validate"
fi
if [[ -f /usr/share/applications/mimeinfo.cache ]]; then
    grep -q 'image/png=.*zoomsr.desktop' /usr/share/applications/mimeinfo.cache \
        || fail "the desktop database does not offer ZoomSR for image/png"
    echo "\"Open with\": mimeinfo.cache offers zoomsr.desktop for $(grep -c 'zoomsr.desktop' /usr/share/applications/mimeinfo.cache) image types"
fi

step "the installed zoomsr, from an empty folder"
installed() {
    (cd "$TMP/run" && env -u PYTHONPATH -u LD_LIBRARY_PATH HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" \
        XDG_DATA_HOME="$TMP/home/.local/share" XDG_CACHE_HOME="$TMP/home/.cache" \
        ZOOMSR_CONFIG_DIR="$TMP/home/config" ZOOMSR_CHECKPOINTS="$TMP/none" QT_QPA_PLATFORM=offscreen "$@")
}
[[ "$(installed zoomsr --version)" == "ZoomSR $VERSION" ]] || fail "zoomsr --version"
t0=$(now)
installed zoomsr --selftest 2>&1 | tee "$TMP/selftest.log" || fail "the installed zoomsr --selftest failed"
echo "selftest in $(elapsed "$t0" "$(now)") s"

step "dpkg --purge zoomsr"
dpkg --purge zoomsr > "$TMP/purge.log" 2>&1 || { cat "$TMP/purge.log"; fail "dpkg --purge failed"; }
dpkg-query -W zoomsr > /dev/null 2>&1 && fail "zoomsr is still known to dpkg"
for path in /opt/zoomsr /usr/bin/zoomsr /usr/share/applications/zoomsr.desktop \
        /usr/share/icons/hicolor/256x256/apps/zoomsr.png /usr/share/doc/zoomsr; do
    [[ ! -e "$path" && ! -L "$path" ]] || fail "$path is left after the purge"
done
if [[ -f /usr/share/applications/mimeinfo.cache ]] && grep -q zoomsr.desktop /usr/share/applications/mimeinfo.cache; then
    fail "mimeinfo.cache still names zoomsr.desktop"
fi
echo "removed: nothing of the package is left"
echo
echo "build_deb.sh: ok"
