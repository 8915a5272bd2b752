"""Colour profiles: embedded ICC profiles converted to the working space, sRGB (LittleCMS).

Conversions run in 32-bit float through LittleCMS (``imagecodecs.cms_transform``), band by
band, and are rounded back to the source's integer depth: 8- and 16-bit images get the same
colours, and a 16-bit gradient keeps its levels. (LittleCMS's 8- and 16-bit integer pipelines
were off by up to 12 and 20 8-bit levels near the gamut boundary for AdobeRGB → sRGB, measured
against the float path and the matrix arithmetic; Pillow's ImageCms offers only those, and
8-bit RGB at that.)
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np

#: rows converted at a time (bounds the float copy: 256 rows of a 12,000-pixel row are 37 MB)
BAND = 256
#: the working space every image is converted to, and what the writers tag their output with
WORKING_SPACE = "sRGB"


class ProfileError(ValueError):
    """An embedded colour profile that LittleCMS cannot use, with a one-line reason."""


@cache
def srgb_profile() -> bytes:
    """The sRGB ICC profile written into outputs (LittleCMS's built-in sRGB, via Pillow)."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def profile_name(icc: bytes) -> str:
    """The profile's description ("Adobe RGB (1998)", "Display P3", …); raises ProfileError."""
    from PIL import ImageCms

    try:
        name = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        raise ProfileError(f"its colour profile is damaged ({exc})") from None
    return " ".join(name.split()) or "unnamed profile"


def is_srgb(name: str) -> bool:
    """Whether a profile of this description is sRGB (then no conversion is needed)."""
    return "srgb" in name.lower().replace(" ", "").replace("-", "")


def to_srgb(pixels: np.ndarray, icc: bytes, colorspace: str = "rgb") -> np.ndarray:
    """``pixels`` (H×W×3 RGB or H×W×4 CMYK, uint8 or uint16) converted from ``icc`` to sRGB,
    as H×W×3 of the same integer type (uint8 CMYK gives uint8 RGB).

    Raises :class:`ProfileError` when LittleCMS rejects the profile or it does not describe
    ``colorspace`` data.
    """
    import imagecodecs

    peak = float(np.iinfo(pixels.dtype).max)
    height, width = pixels.shape[:2]
    out = np.empty((height, width, 3), pixels.dtype)
    target = imagecodecs.cms_profile("srgb")
    try:
        imagecodecs.cms_profile_validate(icc)
        for top in range(0, height, BAND):
            band = pixels[top:top + BAND].astype(np.float32)
            band /= np.float32(peak)
            if colorspace == "cmyk":
                band *= np.float32(100.0)  # LittleCMS's float CMYK is in per cent
            rgb = imagecodecs.cms_transform(band, icc, target, colorspace=colorspace,
                                            outcolorspace="rgb", outdtype=np.float32)
            np.clip(rgb, 0.0, 1.0, out=rgb)
            rgb *= np.float32(peak)
            rgb += np.float32(0.5)
            out[top:top + BAND] = rgb  # truncating after +0.5: rounded half up
    except imagecodecs.CmsError as exc:
        raise ProfileError(f"its colour profile cannot be used by LittleCMS ({exc})") from None
    return out
