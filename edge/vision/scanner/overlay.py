"""Stage 4: overlay data for the AR view (boxes with labels as JSON) and an annotated image."""
from __future__ import annotations

import numpy as np

from edge.vision.scanner.ocr import TextBox
from edge.vision.scanner.parse import LabResult, Medication


def overlay(boxes: list[TextBox], labs: list[LabResult], meds: list[Medication], size: tuple[int, int],
            to_original: float = 1.0) -> dict:
    """Boxes (in the original image's pixels) with labels: every OCR line, and one box per extracted item."""
    k = 1.0 / to_original if to_original else 1.0

    def scale(points):
        return [[round(x * k, 1), round(y * k, 1)] for x, y in points]

    items = []
    for r in labs:
        flag = f" {r.flag.value}" if r.flag else ""
        items.append({"kind": "lab", "label": f"{r.analyte.value} {r.value.value:g} {r.unit.value}{flag}",
                      "bbox": [round(v * k, 1) for v in r.bbox], "flag": r.flag.value if r.flag else None})
    for m in meds:
        parts = [m.name.value, f"{m.strength.value:g}{m.unit.value}" if m.strength else "",
                 m.frequency.value if m.frequency else ""]
        items.append({"kind": "medication", "label": " ".join(p for p in parts if p),
                      "bbox": [round(v * k, 1) for v in m.bbox], "flag": None})
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
        x0, y0, x1, y1 = (int(v) for v in item["bbox"])
        colour = (220, 30, 30) if item["flag"] == "H" else (30, 30, 220) if item["flag"] == "L" else (20, 160, 40)
        cv2.rectangle(out, (x0, y0), (x1, y1), colour, 2)
        cv2.putText(out, item["label"], (x0, max(12, y0 - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2)
    return out
