"""The scanner pipeline: decode → preprocess → OCR → extract → overlay, and saving results to the store."""
from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge.vision.scanner import image as image_stage
from edge.vision.scanner import ocr, overlay, parse
from edge.vision.scanner.describe import Description


@dataclass
class ScanOptions:
    """Scanner options: working resolution, preprocessing switches, minimum confidence to store a lab value."""

    max_side: int = 1280
    deskew: bool = True
    clahe: bool = True
    min_store_confidence: float = 0.6


@dataclass
class ScanResult:
    """Everything a scan found: lab results, medications, overlay boxes, preprocessing steps, timing."""

    labs: list[parse.LabResult]
    medications: list[parse.Medication]
    overlay: dict
    preprocessing: dict
    lines: list[str]
    elapsed_s: float
    description: Description | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (the CLI's --json output)."""
        return {"labs": [r.to_dict() for r in self.labs], "medications": [m.to_dict() for m in self.medications],
                "overlay": self.overlay, "preprocessing": self.preprocessing, "lines": self.lines,
                "elapsed_s": round(self.elapsed_s, 3), "warnings": self.warnings,
                "description": None if self.description is None else self.description.__dict__}


def scan(source: bytes | str | os.PathLike, options: ScanOptions = ScanOptions()) -> tuple[ScanResult, np.ndarray]:
    """Scan a photo; returns the result and the preprocessed image (for annotation)."""
    t0 = time.perf_counter()
    rgb = image_stage.decode(source)
    work, steps = image_stage.preprocess(rgb, options.max_side, options.deskew, options.clahe)
    boxes = ocr.recognise(work)
    lines = parse.group_lines(boxes)
    labs, meds = parse.extract(lines)
    data = overlay.overlay(boxes, labs, meds, (int(rgb.shape[1]), int(rgb.shape[0])), steps["affine"])
    warnings = []
    if not boxes:
        warnings.append("no text found in the image")
    elif not labs and not meds:
        warnings.append("text found, but no medication or lab result recognised")
    result = ScanResult(labs, meds, data, steps, [ln.text for ln in lines], time.perf_counter() - t0,
                        warnings=warnings)
    return result, work


def save(store, user_id: uuid.UUID, result: ScanResult, options: ScanOptions = ScanOptions()) -> dict:
    """Store confident lab values as health_metrics (source="scan") and the whole scan as a health_event."""
    metric_ids, skipped = [], []
    rows = []
    for r in result.labs:
        if min(r.value.confidence, r.analyte.confidence) < options.min_store_confidence:
            skipped.append({"analyte": r.analyte.value, "reason": "low confidence"})
            continue
        flag = f", flag {r.flag.value}" if r.flag else ""
        rows.append({"user_id": user_id, "metric_type": r.analyte.value, "value": r.value.value,
                     "unit": r.unit.value, "source": "scan", "notes": f"scanned: {r.label}{flag}"})
    from protocol.errors import ValidationError

    with store.transaction():
        for row in rows:
            try:
                metric_ids.append(str(store.health_metrics.add(row).id))
            except ValidationError as exc:  # an implausible reading is reported, not stored
                skipped.append({"analyte": row["metric_type"], "reason": exc.message})
        event = store.health_events.add({
            "user_id": user_id, "event_type": "scan",
            "data": {"labs": [r.to_dict() for r in result.labs],
                     "medications": [m.to_dict() for m in result.medications],
                     "metric_ids": metric_ids, "skipped": skipped}})
    return {"event_id": str(event.id), "metric_ids": metric_ids, "skipped": skipped}
