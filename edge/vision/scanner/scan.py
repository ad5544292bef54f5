"""The scanner pipeline: decode → preprocess → OCR → extract → overlay, and saving results to the store."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge.vision.scanner import image as image_stage
from edge.vision.scanner import ocr, overlay, parse
from edge.vision.scanner.dates import collection_date
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
    image_sha256: str | None = None
    collected_on: dt.date | None = None  # the report's printed collection date

    def values_hash(self) -> str:
        """sha256 of what was read (lab values, medications, collection date): equal for two photos of one page."""
        labs = sorted((r.analyte.value, round(r.canonical_value, 2)) for r in self.labs)
        meds = sorted((m.name.value, m.strength and m.strength.value, m.unit and m.unit.value,
                       m.frequency and m.frequency.value, m.route and m.route.value) for m in self.medications)
        blob = json.dumps({"labs": labs, "medications": meds, "collected_on": str(self.collected_on)})
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (the CLI's --json output)."""
        return {"labs": [r.to_dict() for r in self.labs], "medications": [m.to_dict() for m in self.medications],
                "image_sha256": self.image_sha256,
                "collected_on": None if self.collected_on is None else self.collected_on.isoformat(),
                "overlay": self.overlay, "preprocessing": self.preprocessing, "lines": self.lines,
                "elapsed_s": round(self.elapsed_s, 3), "warnings": self.warnings,
                "description": None if self.description is None else self.description.__dict__}


def scan(source: bytes | str | os.PathLike, options: ScanOptions = ScanOptions()) -> tuple[ScanResult, np.ndarray]:
    """Scan a photo; returns the result and the preprocessed image (for annotation)."""
    t0 = time.perf_counter()
    data_bytes = image_stage.read_bytes(source)
    rgb = image_stage.decode(data_bytes)
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
    collected, why = collection_date([ln.text for ln in lines]) if labs else (None, None)
    if why:
        warnings.append(why)
    result = ScanResult(labs, meds, data, steps, [ln.text for ln in lines], time.perf_counter() - t0,
                        warnings=warnings, image_sha256=hashlib.sha256(data_bytes).hexdigest(),
                        collected_on=collected)
    return result, work


# How many earlier scans are compared with a new one (newest first); a repeat is nearly always recent.
REPEAT_WINDOW = 1000


def find_repeat(store, user_id: uuid.UUID, result: ScanResult) -> dict[str, str] | None:
    """The earlier scan this one repeats (same image bytes, or the same values read), or None."""
    if not result.labs and not result.medications:
        return None  # nothing would be stored, so nothing can be stored twice
    values = result.values_hash()
    for event in store.health_events.list(owner=user_id, event_type="scan", limit=REPEAT_WINDOW):
        if result.image_sha256 and event.data.get("image_sha256") == result.image_sha256:
            return {"event_id": str(event.id), "why": "the same image was scanned before",
                    "scanned_at": event.occurred_at.isoformat()}
        if event.data.get("values_sha256") == values:
            return {"event_id": str(event.id), "why": "a scan with the same values (and collection date) exists",
                    "scanned_at": event.occurred_at.isoformat()}
    return None


def _confident(*fields: parse.Field | None, minimum: float) -> bool:
    return all(f is None or f.confidence >= minimum for f in fields)


def save(store, user_id: uuid.UUID, result: ScanResult, options: ScanOptions = ScanOptions()) -> dict:
    """Store the scan whole: confident lab values as health_metrics (source="scan", dated by the printed
    collection date when there is one), medications in `medications`, and the scan as a health_event.
    A repeat of an earlier scan stores nothing and says which scan it repeats."""
    from protocol.errors import ValidationError
    from protocol.schema import new_id

    repeat = find_repeat(store, user_id, result)
    if repeat:
        return {"repeat_of": repeat, "event_id": None, "metric_ids": [], "medication_ids": [], "skipped": []}
    metric_ids, medication_ids, skipped = [], [], []
    # Midday UTC: a date-only collection stays on its printed day in every time zone from UTC−11 to UTC+11.
    recorded_at = (dt.datetime.combine(result.collected_on, dt.time(12), dt.UTC) if result.collected_on else None)
    rows = []
    for r in result.labs:
        if min(r.value.confidence, r.analyte.confidence) < options.min_store_confidence:
            skipped.append({"analyte": r.analyte.value, "reason": "low confidence"})
            continue
        flag = f", flag {r.flag.value}" if r.flag else ""
        row = {"user_id": user_id, "metric_type": r.analyte.value, "value": r.value.value,
               "unit": r.unit.value, "source": "scan", "notes": f"scanned: {r.label}{flag}"}
        if recorded_at is not None:
            row["recorded_at"] = min(recorded_at, dt.datetime.now(dt.UTC))  # collected today: not in the future
        rows.append(row)
    event_id = new_id()
    meds = []
    for m in result.medications:
        if not _confident(m.name, m.strength, m.unit, minimum=options.min_store_confidence):
            skipped.append({"medication": m.name.value, "reason": "low confidence"})
            continue
        meds.append({"user_id": user_id, "name": m.name.value, "strength": m.strength and m.strength.value,
                     "unit": m.unit and m.unit.value, "frequency": m.frequency and m.frequency.value,
                     "route": m.route and m.route.value, "source_scan_id": event_id})
    with store.transaction():
        for table, items, ids, key in (("health_metrics", rows, metric_ids, "metric_type"),
                                       ("medications", meds, medication_ids, "name")):
            for item in items:
                try:
                    ids.append(str(store.repo(table).add(item).id))
                except ValidationError as exc:  # an implausible reading is reported, not stored
                    skipped.append({"analyte" if table == "health_metrics" else "medication": item[key],
                                    "reason": exc.message})
        event = store.health_events.add({
            "id": event_id, "user_id": user_id, "event_type": "scan",
            "data": {"labs": [r.to_dict() for r in result.labs],
                     "medications": [m.to_dict() for m in result.medications],
                     "image_sha256": result.image_sha256, "values_sha256": result.values_hash(),
                     "collected_on": None if result.collected_on is None else result.collected_on.isoformat(),
                     "metric_ids": metric_ids, "medication_ids": medication_ids, "skipped": skipped}})
    return {"event_id": str(event.id), "metric_ids": metric_ids, "medication_ids": medication_ids,
            "skipped": skipped, "repeat_of": None}


def confirmed(image_sha256: str | None, collected_on: dt.date | None, labs: list[dict[str, Any]],
              medications: list[dict[str, Any]]) -> ScanResult:
    """A scan as a person confirmed it (the kiosk's editable form): the values they kept or corrected, each with
    confidence 1.0, ready for save(). Lab values are checked against the shared schema (unit and range) here."""
    from protocol.errors import ValidationError
    from protocol.schema import METRICS

    def sure(value):
        return None if value in (None, "") else parse.Field(value, 1.0)

    out_labs = []
    for i, lab in enumerate(labs):
        analyte = str(lab.get("analyte") or "")
        spec = METRICS.get(analyte)
        if spec is None:
            raise ValidationError(f"lab {i + 1}: unknown test {analyte[:40]!r}", field=f"labs.{i}.analyte")
        try:
            value = float(lab["value"])
            canonical = spec.to_canonical(value, lab.get("unit") or None)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"lab {i + 1} ({analyte}): {exc if isinstance(exc, ValueError) else 'no value'}",
                                  field=f"labs.{i}.value") from None
        out_labs.append(parse.LabResult(parse.Field(analyte, 1.0), parse.Field(value, 1.0),
                                        parse.Field(lab.get("unit") or spec.unit, 1.0), canonical, spec.unit,
                                        None, None, sure(lab.get("flag")), str(lab.get("label") or analyte), []))
    out_meds = []
    for i, med in enumerate(medications):
        if not str(med.get("name") or "").strip():
            raise ValidationError(f"medication {i + 1}: the name is empty", field=f"medications.{i}.name")
        strength = med.get("strength")
        try:
            strength = None if strength in (None, "") else float(strength)
        except (TypeError, ValueError):
            raise ValidationError(f"medication {i + 1}: strength {strength!r} is not a number",
                                  field=f"medications.{i}.strength") from None
        out_meds.append(parse.Medication(parse.Field(str(med["name"]).strip(), 1.0), sure(strength),
                                         sure(med.get("unit")), sure(med.get("frequency")), sure(med.get("route")),
                                         []))
    return ScanResult(out_labs, out_meds, {}, {}, [], 0.0, image_sha256=image_sha256, collected_on=collected_on)
