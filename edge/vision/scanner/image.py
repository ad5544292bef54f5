"""Stage 1: decode an image safely (size limits checked from the header, EXIF orientation) and preprocess it."""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np

from protocol.errors import InputError, MissingDependencyError

MAX_PIXELS = 40_000_000  # a 40 MP photo is already far more than OCR needs; bigger is refused before decoding
MAX_BYTES = 50 * 1024 * 1024
FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "TIFF"}


def _pil():
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingDependencyError("pillow", "vision") from exc
    return Image, ImageOps


def read_bytes(source: bytes | str | os.PathLike) -> bytes:
    """The raw bytes of an image given as bytes or a path, refusing missing, empty and oversized files."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"no such image file: {path}")
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"image file is larger than {MAX_BYTES // 2**20} MiB")
        data = path.read_bytes()
    if not data:
        raise InputError("the image is empty (0 bytes)")
    return data


def decode(source: bytes | str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode to an RGB uint8 array, upright per EXIF; InputError for non-images, truncation and huge images."""
    Image, ImageOps = _pil()
    data = read_bytes(source)
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns/raises at 89/179 MP; ours is stricter and checked first below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise InputError(f"image is too large: {exc}") from None
    except Exception as exc:  # PIL raises UnidentifiedImageError, SyntaxError, struct errors… on junk
        raise InputError("not a readable image (expected JPEG or PNG)") from exc
    width, height = img.size  # from the header only: nothing decoded yet
    if width * height > max_pixels:
        raise InputError(f"image is {width}×{height} = {width * height / 1e6:.0f} MP; the limit is "
                         f"{max_pixels / 1e6:.0f} MP", hint="resize the photo before scanning")
    if width == 0 or height == 0:
        raise InputError("the image has no pixels")
    if img.format not in FORMATS:
        raise InputError(f"unsupported image format {img.format}; use JPEG or PNG")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img.load()
            img = ImageOps.exif_transpose(img)
    except OSError as exc:  # "image file is truncated", broken data stream
        raise InputError(f"the image data is damaged or truncated ({exc})") from None
    return np.asarray(_flatten(img, Image).convert("RGB"))


def _flatten(img, Image):
    """Transparent PNGs onto white, 16-bit greyscale down to 8 bits: as a JPEG of the same page would look.

    Dropping alpha alone leaves black text on the black of transparent pixels, so a PNG export of a report read
    differently from a JPEG photo of it.
    """
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr * 255.0 / peak, 0, 255).astype(np.uint8))
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        img = img.convert("RGBA")
        page = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(page, img)
    return img


def estimate_skew(gray: np.ndarray, max_angle: float = 8.0, step: float = 0.5) -> float:
    """Text skew in degrees (projection-profile method): the rotation that makes row sums most peaked."""
    import cv2

    scale = 400 / max(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    ink = cv2.adaptiveThreshold(small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 15, 10)
    ink = ink.astype(np.float32)
    h, w = ink.shape
    if ink.sum() < 0.001 * ink.size:
        return 0.0  # (nearly) blank: nothing to align

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        rows = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_NEAREST).sum(axis=1)
        return float(np.square(np.diff(rows)).sum())  # sharp row edges = text lines aligned with the axis

    best, best_score = 0.0, sharpness(0.0) * 1.02  # leave a straight page alone unless rotating clearly helps
    for angle in np.arange(-max_angle, max_angle + 1e-9, step):
        score = sharpness(float(angle))
        if score > best_score:
            best, best_score = float(angle), score
    return best


def preprocess(rgb: np.ndarray, max_side: int = 1600, deskew: bool = True, clahe: bool = True) -> tuple[
        np.ndarray, dict]:
    """Downscale to max_side, deskew and equalise contrast (CLAHE on lightness); returns image and what was done."""
    import cv2

    if rgb.ndim != 3 or rgb.shape[0] < 8 or rgb.shape[1] < 8:
        raise InputError("the image is empty or too small to scan")
    steps: dict = {"original_size": [int(rgb.shape[1]), int(rgb.shape[0])]}
    scale = max_side / max(rgb.shape[:2])
    if scale < 1:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    s = min(scale, 1.0)
    steps["scale"] = round(s, 4)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    angle = estimate_skew(gray) if deskew else 0.0
    m = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    if angle:
        h, w = gray.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        rgb = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    steps["deskew_deg"] = angle
    # Original pixels → working pixels (scale, then rotate): the overlay maps boxes back with its inverse.
    steps["affine"] = (m @ np.diag([s, s, 1.0])).round(6).tolist()
    if clahe:
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
        lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[..., 0])
        rgb = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    steps["clahe"] = clahe
    return rgb, steps
