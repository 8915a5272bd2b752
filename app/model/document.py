"""What the window shows: the input image and, when comparing, its ground truth (no Qt)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.model.view_state import WidthHeight
from sr_core.geometry import Rect, Size
from sr_core.imaging import ImageLoadError, LoadedImage, image_size, load_image, to_uint8
from sr_core.memory import available_bytes
from sr_core.metadata import PhotoMetadata
from sr_core.render import SourceImage, output_size
from sr_core.resize import imresize

#: the smallest LR side a ground-truth comparison accepts
MIN_LR_SIDE = 8
#: peak bytes per image pixel while an image opens and is shown, at most: the levels the
#: renderers read (3 for 8 bits, 6 for 16), the preview (1 over an 8-bit image's own pixels, 4
#: for 16 bits) and the decoder's own buffer while it is copied out (Pillow: 4)
BYTES_PER_PIXEL = 12


@dataclass(frozen=True)
class GroundTruth:
    """An HR reference: the viewer shows its bicubic downscale by ``factor`` as the input.

    Its pixels live once, in ``source`` (what the *Ground truth* panel renders from).
    """

    factor: int
    source: SourceImage

    @property
    def grid(self) -> Size:
        """The HR size, which is also the output grid of the input at ×factor."""
        return Size(self.source.height, self.source.width)

    def pixels(self, rect: Rect | None = None) -> np.ndarray:
        """The reference's float [0, 1] pixels in ``rect`` (all of them for None)."""
        if rect is None:
            return self.source.rgb(0, self.source.height)
        return self.source.rgb(rect.top, rect.bottom, rect.left, rect.right)

    @property
    def shave(self) -> int:
        """Border left out of whole-image metrics (the LIIF benchmark protocol)."""
        return self.factor


@dataclass(frozen=True)
class Document:
    """The input image as the renderers see it, plus how to describe it.

    The pixels live once, in ``source`` (``SourceImage.rgb`` reads them back): no second copy
    of a 48-megapixel photo.
    """

    name: str
    path: str | None
    source: SourceImage
    description: str
    gt: GroundTruth | None = None
    #: of the file (the reference's when comparing): 8 or less reads as 0–255, more as 0–65535
    bit_depth: int = 8
    #: all three channels are equal
    grayscale: bool = False
    #: the file's EXIF, XMP and colour profile (exports carry them)
    metadata: PhotoMetadata = PhotoMetadata()

    @property
    def size(self) -> WidthHeight:
        """(width, height) of the input (the view's order)."""
        return self.source.width, self.source.height

    @property
    def ready(self) -> bool:
        """Every pixel is decoded (not so while a large JPEG's draft is shown, see
        ``app.model.progressive_open``)."""
        return all(s.ready for s in self.sources().values())

    def sources(self) -> dict[int, SourceImage]:
        """Every source image by key (the input, and the HR reference if any)."""
        out = {self.source.key: self.source}
        if self.gt is not None:
            out[self.gt.source.key] = self.gt.source
        return out


def describe(image: LoadedImage, width: int, height: int) -> str:
    """The status line's words for a ``width × height`` image decoded as ``image`` (which may
    be a reduced draft of it)."""
    kind = "grey" if image.grayscale else "RGB"
    alpha = " + alpha (ignored)" if image.alpha is not None else ""
    colour = "" if image.grayscale else f" · {image.metadata.colour_description}"
    return f"{width}×{height} · {image.bit_depth}-bit {kind}{alpha}{colour}"


def check_memory(path: str | Path, bytes_per_pixel: int = BYTES_PER_PIXEL) -> None:
    """Refuse, from its header, an image that would take more memory than the machine has free."""
    width, height = image_size(path)
    need, free = width * height * bytes_per_pixel, available_bytes()
    if free is not None and need > free:
        raise ImageLoadError(
            f"{Path(path).name}: {width}×{height} needs about {need / 2**30:.1f} GB to view, and "
            f"{free / 2**30:.1f} GB are free. Downscale it first, e.g. 'python main.py upscale "
            "IMAGE -o SMALLER.png --width 4000 --method bicubic'.")


def open_document(path: str | Path) -> Document:
    """Load an image file; raises ``ImageLoadError`` with a readable message."""
    check_memory(path)
    image = load_image(path, levels=True)  # integer levels go into the SourceImage as they are
    return Document(Path(path).name, str(path), SourceImage(image.pixels),
                    describe(image, image.width, image.height),
                    bit_depth=image.bit_depth, grayscale=image.grayscale, metadata=image.metadata)


def downscale(hr: np.ndarray, factor: int, bit_depth: int) -> np.ndarray:
    """The LR input of an HR image whose sides are multiples of ``factor`` (MATLAB bicubic).

    8-bit images go through the uint8 path, which reproduces the standard benchmark LR files.
    """
    if bit_depth <= 8:
        return imresize(to_uint8(hr), scale=1 / factor).astype(np.float32) / 255.0
    return np.clip(imresize(hr, scale=1 / factor), 0.0, 1.0).astype(np.float32)


def open_ground_truth(path: str | Path, factor: int) -> Document:
    """Compare with an HR reference: the input is its bicubic downscale by ``factor``.

    The reference is cropped to a multiple of ``factor`` (as benchmarks do), so that the input
    at ×factor lands exactly on the reference's pixel grid.
    """
    check_memory(path, 4 * BYTES_PER_PIXEL)  # the reference as floats (12), a copy, its bicubic LR
    image = load_image(path)
    h, w = image.height // factor * factor, image.width // factor * factor
    if min(h, w) // factor < MIN_LR_SIDE:
        raise ImageLoadError(f"{Path(path).name}: {image.width}×{image.height} is too small to "
                             f"compare at ×{factor}. Choose a smaller factor or a larger image.")
    hr = np.ascontiguousarray(image.pixels[:h, :w])
    lr = downscale(hr, factor, image.bit_depth)
    assert output_size(lr.shape[0], lr.shape[1], factor) == (h, w)
    gt = GroundTruth(factor, SourceImage(hr))
    description = f"{lr.shape[1]}×{lr.shape[0]} · bicubic ÷{factor} of {w}×{h} reference"
    return Document(Path(path).name, str(path), SourceImage(lr), description, gt,
                    bit_depth=image.bit_depth, grayscale=image.grayscale, metadata=image.metadata)
