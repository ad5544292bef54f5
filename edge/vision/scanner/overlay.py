"""Stage 4: overlay data for the AR view (boxes with labels as JSON) and an annotated image."""
from __future__ import annotations

import numpy as np

from edge.vision.scanner.ocr import TextBox
from edge.vision.scanner.parse import LabResult, Medication


def overlay(boxes: list[TextBox], labs: list[LabResult], meds: list[Medication], size: tuple[int, int],
            affine: list[list[float]] | None = None) -> dict:
    """Boxes (in the original image's pixels) with labels: every OCR line, and one box per extracted item.
    `affine` maps original → working pixels (preprocessing); its inverse brings boxes back."""
    import cv2

    inv = cv2.invertAffineTransform(np.array(affine if affine is not None else [[1, 0, 0], [0, 1, 0]],
                                             dtype=np.float64))

    def scale(points):
        pts = np.asarray(points, dtype=np.float64)
        back = pts @ inv[:, :2].T + inv[:, 2]
        return [[round(float(x), 1), round(float(y), 1)] for x, y in back]

    def quad(b):
        x0, y0, x1, y1 = b
        return scale([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])

    items = []
    for r in labs:
        flag = f" {r.flag.value}" if r.flag else ""
        items.append({"kind": "lab", "label": f"{r.analyte.value} {r.value.value:g} {r.unit.value}{flag}",
                      "box": quad(r.bbox), "flag": r.flag.value if r.flag else None})
    for m in meds:
        parts = [m.name.value, f"{m.strength.value:g}{m.unit.value}" if m.strength else "",
                 m.frequency.value if m.frequency else ""]
        items.append({"kind": "medication", "label": " ".join(p for p in parts if p),
                      "box": quad(m.bbox), "flag": None})
    return {"image_size": list(size),
            "text": [{"box": scale(b.box), "text": b.text, "score": round(b.score, 3)} for b in boxes],
            "items": items}


def annotate(rgb: np.ndarray, data: dict) -> np.ndarray:
    """A copy of the image with the overlay drawn: OCR lines thin grey, extracted items coloured with labels."""
    import cv2

    out = np.ascontiguousarray(rgb.copy())
    for t in data["text"]:
        cv2.polylines(out, [np.array(t["box"], np.int32)], True, (160, 160, 160), 1)
    for item in data["items"]:
        pts = np.array(item["box"], np.int32)
        colour = (220, 30, 30) if item["flag"] == "H" else (30, 30, 220) if item["flag"] == "L" else (20, 160, 40)
        cv2.polylines(out, [pts], True, colour, 2)
        x0, y0 = int(pts[:, 0].min()), int(pts[:, 1].min())
        cv2.putText(out, item["label"], (x0, max(12, y0 - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2)
    return out
