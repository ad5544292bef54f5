"""Patient inputs of the twin: one dataclass, built from the store or from a dict, checked for units and sense."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from edge.twin.family import inherited_risk
from protocol.errors import InputError
from protocol.schema import METRICS

RACES = ("white", "african_american", "other")
RISK_FACTORS_EVENT = "risk_factors"
# Yes/no answers kept in the latest `risk_factors` health event (recorded by `healthsync edge twin factors`).
FACTOR_FIELDS = ("smoker", "diabetes", "bp_treated", "on_statin", "physically_active", "daily_vegetables",
                 "high_glucose_history")
# Store metric type of each measured input.
METRIC_FIELDS = {
    "total_cholesterol": "total_cholesterol", "hdl_cholesterol": "hdl_cholesterol", "systolic_bp": "systolic_bp",
    "diastolic_bp": "diastolic_bp", "blood_glucose": "blood_glucose", "weight": "weight", "height": "height",
    "bmi": "bmi", "waist_circumference": "waist_circumference", "creatinine": "creatinine",
}
# Below these a value "in mg/dL" is almost surely mmol/L: 20 mg/dL total cholesterol or 10 mg/dL HDL is not
# compatible with life, while 5.5 and 1.3 mmol/L are ordinary.
MMOL_SUSPECT = {"total_cholesterol": 20.0, "hdl_cholesterol": 10.0, "blood_glucose": 30.0}
HINT_METRIC = "record it with `healthsync edge metrics add {metric} VALUE` (add --unit for other units)"


@dataclass(frozen=True)
class PatientInputs:
    """Everything the equations and models read, in canonical units (mg/dL, mmHg, kg, cm, kg/m2)."""

    age: float
    sex: str
    race: str | None = None
    total_cholesterol: float | None = None
    hdl_cholesterol: float | None = None
    systolic_bp: float | None = None
    diastolic_bp: float | None = None
    blood_glucose: float | None = None
    weight: float | None = None
    height: float | None = None
    bmi: float | None = None
    waist_circumference: float | None = None
    creatinine: float | None = None
    smoker: bool | None = None
    diabetes: bool | None = None
    bp_treated: bool | None = None
    on_statin: bool | None = None
    physically_active: bool | None = None
    daily_vegetables: bool | None = None
    high_glucose_history: bool | None = None
    family_diabetes: str = "none"
    premature_cvd_family: bool = False

    def __post_init__(self) -> None:
        check(self)

    @property
    def body_mass_index(self) -> float | None:
        """BMI as measured, else from weight and height."""
        if self.bmi is not None:
            return self.bmi
        if self.weight is not None and self.height is not None:
            return self.weight / (self.height / 100.0) ** 2
        return None

    @property
    def egfr(self) -> float | None:
        """eGFR (CKD-EPI 2021, race-free) from serum creatinine, or None without one."""
        if self.creatinine is None:
            return None
        from edge.twin.equations.egfr import ckd_epi_2021

        return ckd_epi_2021(self.sex, self.age, self.creatinine)

    def missing(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        """Which of these inputs are unknown."""
        out = []
        for name in fields:
            value = self.body_mass_index if name == "bmi" else self.egfr if name == "egfr" else getattr(self, name)
            if value is None:
                out.append(name)
        return tuple(out)

    def replace(self, **changes: Any) -> PatientInputs:
        """A copy with some inputs changed (re-checked)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-ready form (floats rounded to 4 places so the hash ignores float noise)."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in dataclasses.asdict(self).items()}

    def inputs_hash(self) -> str:
        """sha256 of the canonical inputs JSON: the predictions cache key."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any], units: dict[str, str] | None = None) -> PatientInputs:
        """Inputs from plain data; `units` names any field given in a non-canonical unit (converted explicitly)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"unknown inputs: {', '.join(unknown)}", hint=f"known: {', '.join(sorted(known))}")
        values = dict(data)
        for name, unit in (units or {}).items():
            if name not in METRIC_FIELDS or values.get(name) is None:
                raise InputError(f"a unit was given for {name!r}, which is not a measured input with a value")
            try:
                values[name] = METRICS[METRIC_FIELDS[name]].to_canonical(float(values[name]), unit)
            except ValueError as exc:
                raise InputError(f"{name}: {exc}") from None
        for name in ("age", "sex"):
            if values.get(name) is None:
                raise InputError(f"missing input: {name}")
        return cls(**values)


def check(inputs: PatientInputs) -> None:
    """Refuse impossible values and values that look like mmol/L given as mg/dL, naming the field."""
    if inputs.sex not in ("female", "male"):
        raise InputError(f"sex must be 'female' or 'male', not {inputs.sex!r}", field="sex")
    if not 0 < inputs.age <= 120:
        raise InputError(f"age {inputs.age:g} is impossible", field="age")
    if inputs.race is not None and inputs.race not in RACES:
        raise InputError(f"race must be one of {', '.join(RACES)}, not {inputs.race!r}", field="race")
    if inputs.family_diabetes not in ("none", "second_degree", "first_degree"):
        raise InputError(f"family_diabetes {inputs.family_diabetes!r} is not none|second_degree|first_degree",
                         field="family_diabetes")
    for name, metric in METRIC_FIELDS.items():
        value = getattr(inputs, name)
        if value is None:
            continue
        spec = METRICS[metric]
        suspect = MMOL_SUSPECT.get(name)
        if suspect is not None and 0 < value < suspect:
            alt = dict(spec.units)["mmol/L"]
            raise InputError(
                f"{name} {value:g} mg/dL looks like a value in mmol/L ({value:g} mmol/L = {value * alt:.0f} mg/dL)",
                field=name, hint="give the unit explicitly (mmol/L values are converted); never guessed")
        if not spec.low <= value <= spec.high:
            raise InputError(f"{name} {value:g} {spec.unit} is impossible (plausible {spec.low:g}–{spec.high:g})",
                             field=name)
    if inputs.total_cholesterol is not None and inputs.hdl_cholesterol is not None \
            and inputs.hdl_cholesterol >= inputs.total_cholesterol:
        raise InputError("HDL cholesterol cannot exceed total cholesterol", field="hdl_cholesterol")
    if inputs.systolic_bp is not None and inputs.diastolic_bp is not None \
            and inputs.diastolic_bp >= inputs.systolic_bp:
        raise InputError("diastolic BP must be below systolic BP", field="diastolic_bp")


def age_on(born: dt.date, on: dt.date) -> int:
    """Age in whole years on a date."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def latest_factors(store: Any, user_id: uuid.UUID | str) -> dict[str, Any]:
    """The newest recorded risk-factor answers (empty when none)."""
    events = store.health_events.list(owner=user_id, event_type=RISK_FACTORS_EVENT, limit=1)
    return dict(events[0].data) if events else {}


def from_store(store: Any, user_id: uuid.UUID | str, on: dt.date | None = None) -> PatientInputs:
    """Build a patient's inputs: profile, the latest metric of each type, risk-factor answers, family graph."""
    user = store.users.get(user_id)
    missing = [name for name, v in (("date_of_birth", user.date_of_birth), ("sex", user.sex)) if v is None]
    if missing:
        raise InputError(f"the user's profile lacks {' and '.join(missing)}: the twin needs both",
                         hint="set them with `healthsync edge twin factors --dob YYYY-MM-DD --sex female|male`")
    values: dict[str, Any] = {"age": float(age_on(user.date_of_birth, on or dt.date.today())), "sex": user.sex}
    for name, metric in METRIC_FIELDS.items():
        rows = store.health_metrics.list(owner=user_id, metric_type=metric, limit=1)
        if rows:
            values[name] = rows[0].value
    factors = latest_factors(store, user_id)
    for name in (*FACTOR_FIELDS, "race"):
        if factors.get(name) is not None:
            values[name] = factors[name]
    graphs = store.family_graph.list(owner=user_id, limit=1)
    if graphs:
        family = inherited_risk(graphs[0].members)
        values["family_diabetes"] = family.family_diabetes
        values["premature_cvd_family"] = family.premature_cvd
    return PatientInputs(**values)
