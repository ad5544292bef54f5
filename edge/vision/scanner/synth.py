"""Generator of realistic lab reports and prescription labels with ground truth, for tests and benchmarks."""
from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

# Reference ranges as printed by typical US adult lab reports (fasting glucose per ADA Standards of Care;
# lipids per NCEP ATP III; HbA1c per ADA; creatinine/hemoglobin typical adult intervals).
ANALYTES: list[dict[str, Any]] = [
    {"label": "Glucose, Fasting", "metric": "blood_glucose", "unit": "mg/dL", "ref": (70, 99), "range": (60, 260),
     "decimals": 0},
    {"label": "Glucose", "metric": "blood_glucose", "unit": "mmol/L", "ref": (3.9, 5.5), "range": (3.2, 14.0),
     "decimals": 1},
    {"label": "Total Cholesterol", "metric": "total_cholesterol", "unit": "mg/dL", "ref": (125, 200),
     "range": (120, 320), "decimals": 0},
    {"label": "HDL Cholesterol", "metric": "hdl_cholesterol", "unit": "mg/dL", "ref": (40, 60), "range": (25, 90),
     "decimals": 0},
    {"label": "LDL Cholesterol", "metric": "ldl_cholesterol", "unit": "mg/dL", "ref": (0, 100), "range": (50, 220),
     "decimals": 0},
    {"label": "Cholesterol", "metric": "total_cholesterol", "unit": "mmol/L", "ref": (3.2, 5.2), "range": (3.0, 8.0),
     "decimals": 1},
    {"label": "Triglycerides", "metric": "triglycerides", "unit": "mg/dL", "ref": (0, 150), "range": (50, 400),
     "decimals": 0},
    {"label": "Creatinine", "metric": "creatinine", "unit": "mg/dL", "ref": (0.6, 1.3), "range": (0.5, 2.5),
     "decimals": 2},
    {"label": "Hemoglobin", "metric": "hemoglobin", "unit": "g/dL", "ref": (12.0, 17.5), "range": (9.0, 18.5),
     "decimals": 1},
    {"label": "Hemoglobin A1c", "metric": "glycated_hemoglobin", "unit": "%", "ref": (4.0, 5.6), "range": (4.5, 11.0),
     "decimals": 1},
]

DRUGS = [
    ("Metformin", (500, 850, 1000), "mg"), ("Lisinopril", (5, 10, 20, 40), "mg"), ("Atorvastatin", (10, 20, 40), "mg"),
    ("Amlodipine", (2.5, 5, 10), "mg"), ("Levothyroxine", (25, 50, 75, 100), "mcg"), ("Amoxicillin", (250, 500), "mg"),
    ("Omeprazole", (20, 40), "mg"), ("Sertraline", (25, 50, 100), "mg"), ("Ibuprofen", (200, 400, 600), "mg"),
    ("Losartan", (25, 50, 100), "mg"), ("Simvastatin", (10, 20, 40), "mg"), ("Gabapentin", (100, 300), "mg"),
]
# (printed phrase, normalised frequency code)
FREQUENCIES = [("ONCE DAILY", "QD"), ("TWICE DAILY", "BID"), ("THREE TIMES DAILY", "TID"),
               ("FOUR TIMES DAILY", "QID"), ("AT BEDTIME", "QHS"), ("EVERY 8 HOURS", "Q8H"),
               ("AS NEEDED", "PRN")]
FORMS = ["TABLET", "CAPSULE"]

FONT_FILES = ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSans-Bold.ttf", "STIXGeneral.ttf"]


@dataclass(frozen=True)
class Degradation:
    """How much a synthetic photo is degraded: rotation (degrees), blur radius, noise sigma, JPEG quality."""

    rotation: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    jpeg_quality: int = 95

    @classmethod
    def level(cls, name: str) -> Degradation:
        """Named presets: clean, moderate, heavy."""
        return {"clean": cls(), "moderate": cls(2.0, 0.8, 6.0, 70), "heavy": cls(5.0, 1.6, 14.0, 40)}[name]


@dataclass
class Sample:
    """A generated image (encoded bytes) and what a perfect scanner would extract from it."""

    kind: str
    image: bytes
    labs: list[dict[str, Any]] = field(default_factory=list)
    medications: list[dict[str, Any]] = field(default_factory=list)
    collected: str | None = None  # the printed collection date (ISO), on lab reports


@lru_cache(maxsize=1)
def font_paths() -> list[Path]:
    """TTF fonts shipped inside matplotlib (always installed with the vision extra)."""
    import matplotlib

    base = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return [base / f for f in FONT_FILES if (base / f).exists()]


def _font(rng: random.Random, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(rng.choice(font_paths())), size)


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _degrade(img, deg: Degradation, rng: random.Random, fmt: str = "JPEG") -> bytes:
    import numpy as np
    from PIL import Image, ImageFilter

    if deg.rotation:
        angle = rng.uniform(-deg.rotation, deg.rotation)
        img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=(235, 235, 230))
    if deg.blur:
        img = img.filter(ImageFilter.GaussianBlur(deg.blur))
    if deg.noise:
        arr = np.asarray(img).astype(np.float32)
        arr += np.random.default_rng(rng.randrange(2**32)).normal(0, deg.noise, arr.shape)
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    if fmt == "PNG":
        img.save(buf, "PNG")
    else:
        img.save(buf, "JPEG", quality=deg.jpeg_quality)
    return buf.getvalue()


def lab_report(seed: int, deg: Degradation = Degradation(), size: tuple[int, int] = (1600, 1200), fmt: str = "JPEG",
               values: dict[str, float] | None = None) -> Sample:
    """A lab report photo with 4–6 results in a table (test, result, units, reference range, flag).

    `fmt` is JPEG or PNG; `values` forces some results (label → value) onto the report.
    """
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    img = Image.new("RGB", size, (248, 247, 242))
    draw = ImageDraw.Draw(img)
    fsize = rng.randint(30, 38)
    font = _font(rng, fsize)
    head = _font(rng, fsize + 8)
    x0, y = 90, 70
    draw.text((x0, y), "CITY MEDICAL LABORATORY", font=head, fill=(20, 20, 60))
    y += int(fsize * 1.8)
    collected = f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    draw.text((x0, y), f"Patient ID: {rng.randint(100000, 999999)}   Collected: {collected}", font=font,
              fill=(30, 30, 30))
    y += int(fsize * 2.0)
    cols = [x0, x0 + 560, x0 + 800, x0 + 1040, x0 + 1340]
    for x, title in zip(cols, ["TEST", "RESULT", "UNITS", "REFERENCE", "FLAG"], strict=True):
        draw.text((x, y), title, font=font, fill=(20, 20, 20))
    y += int(fsize * 1.7)
    labs = []
    used: set[str] = set()
    forced = [a for a in ANALYTES if a["label"] in (values or {})]
    for spec in forced + rng.sample(ANALYTES, rng.randint(4, 6)):
        if spec["metric"] in used:
            continue
        used.add(spec["metric"])
        lo, hi = spec["ref"]
        value = round(rng.uniform(*spec["range"]), spec["decimals"])
        value = (values or {}).get(spec["label"], value)
        flag = "H" if value > hi else "L" if value < lo else ""
        ref = f"<{_fmt(hi, spec['decimals'] if hi % 1 else 0)}" if lo == 0 else \
            f"{_fmt(lo, 1 if lo % 1 else 0)}-{_fmt(hi, 1 if hi % 1 else 0)}"
        cells = [spec["label"], _fmt(value, spec["decimals"]), spec["unit"], ref, flag]
        for x, text in zip(cols, cells, strict=True):
            if text:
                draw.text((x, y), text, font=font, fill=(10, 10, 10))
        labs.append({"analyte": spec["metric"], "value": value, "unit": spec["unit"],
                     "ref_low": None if lo == 0 else lo, "ref_high": hi, "flag": flag or None})
        y += int(fsize * 1.6)
    return Sample("lab_report", _degrade(img, deg, rng, fmt), labs=labs, collected=collected)


def prescription_label(seed: int, deg: Degradation = Degradation(), size: tuple[int, int] = (1600, 1200)) -> Sample:
    """A pharmacy label photo: one medication with strength, form, directions (route, frequency)."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    img = Image.new("RGB", size, (250, 250, 250))
    draw = ImageDraw.Draw(img)
    fsize = rng.randint(38, 48)
    font = _font(rng, fsize)
    big = _font(rng, fsize + 10)
    name, strengths, unit = rng.choice(DRUGS)
    strength = rng.choice(strengths)
    phrase, code = rng.choice(FREQUENCIES)
    form = rng.choice(FORMS)
    x0, y = 110, 110
    lines = [
        (f"HEALTH PHARMACY  Rx# {rng.randint(1000000, 9999999)}", font),
        (f"{name.upper()} {strength:g} {unit.upper()} {form}", big),
        (f"TAKE {rng.randint(1, 2)} {form} BY MOUTH {phrase}", font),
        (f"QTY: {rng.choice([30, 60, 90])}   REFILLS: {rng.randint(0, 5)}", font),
        (f"DR. {rng.choice(['A. SMITH', 'J. PATEL', 'M. GARCIA', 'L. CHEN'])}", font),
    ]
    for text, f in lines:
        draw.text((x0, y), text, font=f, fill=(15, 15, 15))
        y += int(f.size * 1.9)
    med = {"name": name.lower(), "strength": float(strength), "unit": unit, "frequency": code, "route": "oral"}
    return Sample("prescription", _degrade(img, deg, rng), medications=[med])


def dataset(n: int, degradation: str = "moderate", seed: int = 0) -> list[Sample]:
    """n samples alternating lab reports and prescription labels."""
    deg = Degradation.level(degradation)
    return [(lab_report if i % 2 == 0 else prescription_label)(seed + i, deg) for i in range(n)]


def score(sample: Sample, result) -> tuple[int, int, list[str]]:
    """Field-level comparison of a ScanResult with the ground truth: (correct, total, misses)."""
    correct, total, misses = 0, 0, []

    def check(name: str, got, want) -> None:
        nonlocal correct, total
        total += 1
        ok = (got is None and want is None) or (
            got is not None and want is not None and
            (abs(float(got) - float(want)) < 1e-6 if isinstance(want, (int, float)) else got == want))
        correct += ok
        if not ok:
            misses.append(f"{name}: got {got!r}, want {want!r}")

    labs = {r.analyte.value: r for r in result.labs}
    for want in sample.labs:
        got = labs.get(want["analyte"])
        check(f"{want['analyte']}.analyte", got and got.analyte.value, want["analyte"])
        check(f"{want['analyte']}.value", got and got.value.value, want["value"])
        check(f"{want['analyte']}.unit", got and got.unit.value, want["unit"])
        check(f"{want['analyte']}.ref_low", got and got.ref_low and got.ref_low.value, want["ref_low"])
        check(f"{want['analyte']}.ref_high", got and got.ref_high and got.ref_high.value, want["ref_high"])
        check(f"{want['analyte']}.flag", got and got.flag and got.flag.value, want["flag"])
    meds = {m.name.value: m for m in result.medications}
    for want in sample.medications:
        got = meds.get(want["name"])
        check("med.name", got and got.name.value, want["name"])
        for key in ("strength", "unit", "frequency", "route"):
            f = getattr(got, key) if got else None
            check(f"med.{key}", f and f.value, want[key])
    return correct, total, misses
