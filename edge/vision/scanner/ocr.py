"""Stage 2: OCR with RapidOCR's bundled PP-OCR ONNX models (loaded once, lazily)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from protocol.errors import MissingDependencyError, ModelError


@dataclass(frozen=True)
class TextBox:
    """One recognised text line: its quadrilateral (x, y points in image pixels), text and recognition score."""

    box: tuple[tuple[float, float], ...]
    text: str
    score: float

    @property
    def center(self) -> tuple[float, float]:
        """Centre of the box."""
        xs, ys = zip(*self.box, strict=True)
        return sum(xs) / len(xs), sum(ys) / len(ys)

    @property
    def height(self) -> float:
        """Box height (left edge length)."""
        return abs(self.box[3][1] - self.box[0][1]) or 1.0


@lru_cache(maxsize=1)
def engine():
    """The RapidOCR engine (ONNX Runtime sessions created once per process)."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingDependencyError("rapidocr-onnxruntime", "vision") from exc
    # The 0/180° classifier is off: we deskew ourselves, and it flipped short words ("mg/dL" → "7p/6w").
    return RapidOCR(use_cls=False)


def recognise(rgb: np.ndarray) -> list[TextBox]:
    """Detect and recognise text lines in an RGB image."""
    try:
        # RapidOCR expects OpenCV's BGR order for arrays.
        result, _ = engine()(np.ascontiguousarray(rgb[..., ::-1]), use_cls=False)
    except Exception as exc:  # onnxruntime errors surface as generic exceptions
        raise ModelError(f"OCR failed: {exc}") from exc
    boxes = []
    for box, text, score in result or []:
        boxes.append(TextBox(tuple((float(x), float(y)) for x, y in box), str(text), float(score)))
    return boxes
