"""Metric input as people type it: common names (`SpO2`, `HbA1c`, `BP`), units in any case with or without a
degree sign (`mg/dl`, `°F`, `lbs`) and blood pressure as `120/80`, turned into the shared schema's metric types.

The CLI (`edge metrics add`) and the kiosk app's Vitals screen both go through `parse()`, so a value typed at either
is read the same way; the schema (protocol.schema.METRICS) still does the validation and the unit conversion.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from protocol.errors import ValidationError
from protocol.schema import METRICS

BLOOD_PRESSURE = "blood_pressure"  # not a metric type: typed as one, stored as systolic_bp + diastolic_bp

# What nurses and patients call a metric -> our metric type (keys compared after lower-casing and squeezing
# spaces, hyphens and dots to "_").
ALIASES: dict[str, str] = {
    "spo2": "oxygen_saturation", "sp02": "oxygen_saturation", "o2_sat": "oxygen_saturation",
    "oxygen": "oxygen_saturation", "sats": "oxygen_saturation",
    "hba1c": "glycated_hemoglobin", "a1c": "glycated_hemoglobin", "hb_a1c": "glycated_hemoglobin",
    "pulse": "heart_rate", "hr": "heart_rate",
    "temp": "body_temperature", "temperature": "body_temperature",
    "glucose": "blood_glucose", "sugar": "blood_glucose", "blood_sugar": "blood_glucose",
    "cholesterol": "total_cholesterol", "hdl": "hdl_cholesterol", "ldl": "ldl_cholesterol",
    "rr": "respiratory_rate", "resp_rate": "respiratory_rate", "hb": "hemoglobin", "haemoglobin": "hemoglobin",
    "pain": "pain_level", "waist": "waist_circumference",
    "bp": BLOOD_PRESSURE, "blood_pressure": BLOOD_PRESSURE,
    "systolic": "systolic_bp", "diastolic": "diastolic_bp",
}

# Unit spellings -> the schema's spelling (after lower-casing and removing spaces and degree signs).
UNIT_ALIASES: dict[str, str] = {"c": "C", "celsius": "C", "f": "F", "fahrenheit": "F", "lbs": "lb", "pound": "lb",
                                "pounds": "lb", "kgs": "kg", "bpm": "bpm", "mmhg": "mmHg", "umol/l": "umol/L",
                                "µmol/l": "umol/L", "percent": "%"}

# Labels a nurse reads, for messages and the app's form.
LABELS: dict[str, str] = {
    "heart_rate": "Heart rate", "systolic_bp": "Blood pressure (systolic)",
    "diastolic_bp": "Blood pressure (diastolic)", "oxygen_saturation": "Oxygen saturation (SpO2)",
    "body_temperature": "Temperature", "respiratory_rate": "Breathing rate", "blood_glucose": "Blood glucose",
    "glycated_hemoglobin": "HbA1c", "weight": "Weight", "height": "Height", "pain_level": "Pain (0-10)",
}


@dataclass(frozen=True)
class Reading:
    """One metric as typed: the schema's metric type, the number and the unit it was given in."""

    metric_type: str
    value: float
    unit: str | None


def label(metric_type: str) -> str:
    """The human name of a metric type."""
    return LABELS.get(metric_type, metric_type.replace("_", " ").capitalize())


def metric_type(name: str) -> str:
    """Our metric type (or `blood_pressure`) for a typed name; unknown names are a ValidationError."""
    key = re.sub(r"[\s.\-]+", "_", name.strip().lower())
    if key in METRICS or key == BLOOD_PRESSURE:
        return key
    if key in ALIASES:
        return ALIASES[key]
    known = ", ".join(sorted([*METRICS, "SpO2", "HbA1c", "BP"]))
    raise ValidationError(f"we do not record {name.strip()[:40]!r}; choose one of: {known}", field="metric_type")


def unit(metric: str, given: str | None) -> str | None:
    """The schema's spelling of a typed unit for this metric (case-insensitive, `°` ignored); None = canonical."""
    if given is None or not given.strip():
        return None
    key = given.strip().replace("°", "").replace("º", "").replace(" ", "").lower()
    spec = METRICS.get("systolic_bp" if metric == BLOOD_PRESSURE else metric)
    if spec is not None:
        for name in spec.unit_names():
            if name.lower() == key:
                return name
    return UNIT_ALIASES.get(key, given.strip())


def _number(text: str, metric: str) -> float:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        raise ValidationError(f"{label(metric)}: {text.strip()[:20]!r} is not a number", field="value") from None


def parse(name: str, value: str | float, unit_text: str | None = None) -> list[Reading]:
    """The readings a typed entry stands for: one, or two for a blood pressure `120/80`."""
    metric = metric_type(name)
    text = str(value).strip()
    given_unit = unit(metric, unit_text)
    if "/" in text:
        if metric not in (BLOOD_PRESSURE, "systolic_bp", "diastolic_bp"):
            raise ValidationError(f"{label(metric)}: type one number (only blood pressure is written as 120/80)",
                                  field="value")
        top, _, bottom = text.partition("/")
        return [Reading("systolic_bp", _number(top, "systolic_bp"), given_unit),
                Reading("diastolic_bp", _number(bottom, "diastolic_bp"), given_unit)]
    if metric == BLOOD_PRESSURE:
        raise ValidationError("blood pressure: type it as systolic/diastolic, e.g. 120/80", field="value")
    return [Reading(metric, _number(text, metric), given_unit)]
