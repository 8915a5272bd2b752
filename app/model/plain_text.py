"""Untrusted text (file names, checkpoint metadata, error messages) shown as itself.

Qt renders a tooltip as rich text whenever its text looks like markup, so a crafted file name
could restyle or hide a message; these wrap escaped text in markup that only keeps the lines.
"""

from __future__ import annotations

import html


def tooltip(text: str) -> str:
    """``text`` for ``setToolTip``: shown literally, line breaks kept."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text, quote=False)}</p>"
