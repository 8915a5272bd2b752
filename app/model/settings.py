"""User settings, persisted as JSON in the user's config folder (no Qt).

The folder is ``platformdirs.user_config_dir("ZoomSR")``, or ``$ZOOMSR_CONFIG_DIR`` when set
(tests point it at temporary folders). A missing, unreadable or damaged file gives defaults.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs

from sr_core.devices import PRECISIONS
from sr_core.files import atomic_target

MAX_RECENT = 10
TILE_SIZES = (128, 256, 512)
DEFAULT_PANELS = ["bicubic", "liif"]
#: saved window coordinates beyond ±this are taken for damage
MAX_COORDINATE = 1 << 16
#: methods' remembered costs kept at most (one per method, device and precision)
MAX_COSTS = 256


def config_dir() -> Path:
    override = os.environ.get("ZOOMSR_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("ZoomSR"))


#: the device setting that picks the first GPU when there is one
AUTO_DEVICE = "auto"


def settings_path() -> Path:
    return config_dir() / "settings.json"


@dataclass
class Settings:
    """Everything the app remembers between runs."""

    #: "auto": the first GPU if there is one, else the CPU; or cpu, cuda:N, mps
    device: str = AUTO_DEVICE
    precision: str = "float32"
    #: memory for the image and the caches: half for rendered tiles (less the decoded image),
    #: half for encoder features (three quarters of it the model worker's, the rest the preview's)
    memory_mb: int = 1024
    tile_size: int = 256
    panels: list[str] = field(default_factory=lambda: list(DEFAULT_PANELS))
    #: one panel wiping between the first two of ``panels``
    wipe: bool = False
    #: x, y, width, height of the window when not maximised (logical pixels); empty: the default
    window_geometry: list[int] = field(default_factory=list, metadata={"item": int})
    window_maximized: bool = False
    recent_files: list[str] = field(default_factory=list)
    gt_factor: int = 4
    heatmap: bool = False
    #: a newly opened image keeps the zoom and the relative centre of the previous one
    keep_view: bool = True
    #: seconds per output pixel each method took here, by "method device precision": the next
    #: session ranks its panels with them from its first view (``app.model.priority``)
    method_costs: dict[str, float] = field(default_factory=dict)

    def add_recent(self, path: str) -> None:
        """Put ``path`` first in the recent files (absolute, without duplicates)."""
        path = str(Path(path).resolve())
        self.recent_files = [path] + [p for p in self.recent_files if p != path][:MAX_RECENT - 1]

    @property
    def cache_bytes(self) -> int:
        """Budget of the rendered tiles plus the decoded image; also of all encoder features."""
        return self.memory_mb * 2**20 // 2

    def save(self, path: Path | None = None) -> None:
        """Write atomically; the folder is created when needed."""
        path = path or settings_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(path) as tmp:
            tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @staticmethod
    def load(path: Path | None = None) -> Settings:
        """The saved settings; unknown or ill-typed entries fall back to the defaults."""
        path = path or settings_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return Settings()
        if not isinstance(data, dict):
            return Settings()
        defaults = Settings()
        values = {}
        for f in fields(Settings):
            value, default = data.get(f.name), getattr(defaults, f.name)
            ok = isinstance(value, type(default)) and isinstance(value, bool) == isinstance(default, bool)
            if isinstance(default, list) and ok:
                item = f.metadata.get("item", str)
                ok = all(isinstance(v, item) and not isinstance(v, bool) for v in value)
            values[f.name] = value if ok else default
        settings = Settings(**values)
        settings.method_costs = {k: float(v) for k, v in list(settings.method_costs.items())[:MAX_COSTS]
                                 if isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
                                 and math.isfinite(v) and v > 0}
        if settings.tile_size not in TILE_SIZES:
            settings.tile_size = defaults.tile_size
        if settings.precision not in PRECISIONS:
            settings.precision = defaults.precision
        settings.memory_mb = min(max(settings.memory_mb, 128), 65536)
        settings.gt_factor = min(max(settings.gt_factor, 2), 16)
        g = settings.window_geometry
        if not (len(g) == 4 and g[2] > 0 and g[3] > 0 and all(abs(v) < MAX_COORDINATE for v in g)):
            settings.window_geometry = []
        return settings
