#!/usr/bin/env bash
# Add ZoomSR to the desktop menu (per user, no root): the icon in the hicolor theme and
# zoomsr.desktop with Exec= pointing at this bundle. Run it from the unpacked bundle folder,
# or pass the folder:   ./install-desktop-entry.sh [BUNDLE_DIR]      (--uninstall removes both)
#
# Files written (XDG_DATA_HOME defaults to ~/.local/share):
#   $XDG_DATA_HOME/applications/zoomsr.desktop
#   $XDG_DATA_HOME/icons/hicolor/256x256/apps/zoomsr.png
#   $XDG_DATA_HOME/icons/hicolor/scalable/apps/zoomsr.svg
# System-wide: copy the same files under /usr/share (or /usr/local/share) instead.
set -euo pipefail

DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
APPS="$DATA/applications"
ICONS="$DATA/icons/hicolor"

refresh() {
    command -v update-desktop-database >/dev/null && update-desktop-database -q "$APPS" || true
    # only refresh a per-user icon cache that already exists: creating one would go stale
    # when other programs add icons without updating it
    if [[ -f "$ICONS/icon-theme.cache" ]] && command -v gtk-update-icon-cache >/dev/null; then
        gtk-update-icon-cache -q -t "$ICONS" || true
    fi
    touch "$ICONS" 2>/dev/null || true
}

if [[ "${1:-}" == --uninstall ]]; then
    rm -f "$APPS/zoomsr.desktop" "$ICONS/256x256/apps/zoomsr.png" "$ICONS/scalable/apps/zoomsr.svg"
    refresh
    echo "removed the ZoomSR desktop entry and icons"
    exit 0
fi

BUNDLE="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")}" && pwd)"
[[ -x "$BUNDLE/ZoomSR" ]] || { echo "no ZoomSR executable in $BUNDLE" >&2; exit 1; }
find_file() {  # beside the executable (release tarball) or in the bundled resources
    for f in "$BUNDLE/$1" "$BUNDLE/_internal/resources/icons/$1"; do [[ -f "$f" ]] && { echo "$f"; return; }; done
    echo "missing $1 in $BUNDLE" >&2; exit 1
}
DESKTOP="$BUNDLE/zoomsr.desktop"
[[ -f "$DESKTOP" ]] || DESKTOP="$(dirname "${BASH_SOURCE[0]}")/zoomsr.desktop"

mkdir -p "$APPS" "$ICONS/256x256/apps" "$ICONS/scalable/apps"
install -m 644 "$(find_file zoomsr.png)" "$ICONS/256x256/apps/zoomsr.png"
install -m 644 "$(find_file zoomsr.svg)" "$ICONS/scalable/apps/zoomsr.svg"
# Exec/TryExec need the absolute path (the bundle is not on PATH); quote it for spaces.
sed -e "s|^Exec=ZoomSR|Exec=\"$BUNDLE/ZoomSR\"|" -e "s|^TryExec=ZoomSR|TryExec=$BUNDLE/ZoomSR|" \
    "$DESKTOP" > "$APPS/zoomsr.desktop"
chmod 644 "$APPS/zoomsr.desktop"
refresh
echo "installed $APPS/zoomsr.desktop (Exec: $BUNDLE/ZoomSR) and the zoomsr icon"
