"""Patient inputs of the twin: one dataclass, built from the store or from a dict, checked for units and sense."""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import math
import statistics
import uuid
from dataclasses import dataclass
from typing import Any

from edge.twin.equations import checks, pce, qrisk3
from edge.twin.family import inherited_risk
from protocol.errors import InputError
from protocol.schema import METRICS

RACES = ("white", "african_american", "other")
RISK_FACTORS_EVENT = "risk_factors"
# Yes/no answers kept in the latest `risk_factors` health event (recorded by `healthsync edge twin factors`).
FACTOR_FIELDS = ("smoker", "diabetes", "bp_treated", "on_statin", "physically_active", "daily_vegetables",
                 "high_glucose_history")
# QRISK3's conditions and treatments (yes/no), and the other answers QRISK3 and PREVENT's add-on models read.
CONDITION_FIELDS = ("atrial_fibrillation", "atypical_antipsychotics", "corticosteroids", "erectile_dysfunction",
                    "migraine", "rheumatoid_arthritis", "ckd_3_5", "severe_mental_illness", "sle",
                    "family_chd_under_60", "ex_smoker")
ANSWER_FIELDS = ("ethnicity", "townsend", "sbp_sd", "cigarettes_per_day", "diabetes_type", "uacr", "sdi_decile")
# Plausibility of answered numbers (not the equations' validity ranges): a value outside is a slip, refused.
PLAUSIBLE = {"townsend": (-15.0, 25.0), "sbp_sd": (0.0, 100.0), "cigarettes_per_day": (0.0, 200.0),
             "uacr": (0.01, 50_000.0)}
# QRISK3 derives SBP variability from readings of the previous five years (Hippisley-Cox 2017).
SBP_SD_YEARS = 5
# Store metric type of each measured input.
METRIC_FIELDS = {
    "total_cholesterol": "total_cholesterol", "hdl_cholesterol": "hdl_cholesterol", "systolic_bp": "systolic_bp",
    "diastolic_bp": "diastolic_bp", "blood_glucose": "blood_glucose", "weight": "weight", "height": "height",
    "bmi": "bmi", "waist_circumference": "waist_circumference", "creatinine": "creatinine",
    "hba1c": "glycated_hemoglobin",
}
# Below these a value "in mg/dL" is almost surely mmol/L: 20 mg/dL total cholesterol or 10 mg/dL HDL is not
# compatible with life, while 5.5 and 1.3 mmol/L are ordinary.
MMOL_SUSPECT = {"total_cholesterol": 20.0, "hdl_cholesterol": 10.0, "blood_glucose": 30.0}
FIX_HINT = "correct the answer with `healthsync edge twin factors --answer {field}={example}`"
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
    hba1c: float | None = None  # %
    uacr: float | None = None  # urine albumin–creatinine ratio, mg/g
    sdi_decile: int | None = None  # social deprivation index decile, 1–10 (PREVENT)
    ethnicity: str | None = None  # QRISK3 category (qrisk3.ETHNICITIES)
    townsend: float | None = None  # Townsend deprivation score of the home postcode (QRISK3)
    sbp_sd: float | None = None  # SD of recent systolic readings, mmHg (QRISK3)
    smoker: bool | None = None
    ex_smoker: bool | None = None
    cigarettes_per_day: float | None = None
    diabetes_type: str | None = None  # type1 | type2, when diabetes
    diabetes: bool | None = None
    bp_treated: bool | None = None
    on_statin: bool | None = None
    physically_active: bool | None = None
    daily_vegetables: bool | None = None
    high_glucose_history: bool | None = None
    family_diabetes: str = "none"
    premature_cvd_family: bool = False
    family_chd_under_60: bool | None = None  # angina or heart attack in a first-degree relative under 60 (QRISK3)
    atrial_fibrillation: bool | None = None
    atypical_antipsychotics: bool | None = None
    corticosteroids: bool | None = None  # regular steroid tablets
    erectile_dysfunction: bool | None = None
    migraine: bool | None = None
    rheumatoid_arthritis: bool | None = None
    ckd_3_5: bool | None = None  # chronic kidney disease stage 3, 4 or 5
    severe_mental_illness: bool | None = None
    sle: bool | None = None  # systemic lupus erythematosus

    def __post_init__(self) -> None:
        # Spellings with one meaning are normalised ("Male" → male, "black" → african_american); others refused.
        object.__setattr__(self, "sex", checks.sex(self.sex))
        if self.race is not None:
            object.__setattr__(self, "race", pce.race_answer(self.race))
        check(self)

    @property
    def body_mass_index(self) -> float | None:
        """BMI as measured, else from weight and height."""
        if self.bmi is not None:
            return self.bmi
        if self.weight is not None and self.height is not None:
            return self.weight / (self.height / 100.0) ** 2
        return None

    @functools.cached_property
    def egfr(self) -> float | None:
        """eGFR (CKD-EPI 2021, race-free) from serum creatinine, or None without one (computed once)."""
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
    checks.number("age", inputs.age)
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
    _check_answers(inputs)


def _check_answers(inputs: PatientInputs) -> None:
    """The QRISK3 and PREVENT add-on answers: types, plausible ranges, and answers that contradict each other."""
    for name in CONDITION_FIELDS:
        if getattr(inputs, name) is not None:
            checks.flag(name, getattr(inputs, name))
    for name, (low, high) in PLAUSIBLE.items():
        value = getattr(inputs, name)
        if value is not None and not low <= checks.number(name, value) <= high:
            raise InputError(f"{name} {value:g} is impossible (plausible {low:g}–{high:g})", field=name)
    if inputs.sdi_decile is not None and (isinstance(inputs.sdi_decile, bool) or inputs.sdi_decile not in
                                          range(1, 11)):
        raise InputError(f"sdi_decile must be a whole decile 1–10, not {inputs.sdi_decile!r}", field="sdi_decile")
    if inputs.ethnicity is not None:
        checks.choice("ethnicity", inputs.ethnicity, qrisk3.ETHNICITIES)
    if inputs.diabetes_type is not None:
        checks.choice("diabetes_type", inputs.diabetes_type, ("type1", "type2"))
        if inputs.diabetes is False:
            raise InputError("a diabetes type was given for someone without diabetes", field="diabetes_type",
                             hint=FIX_HINT.format(field="diabetes_type", example="type2"))
    if inputs.smoker and inputs.ex_smoker:
        raise InputError("a current smoker cannot also be an ex-smoker", field="ex_smoker",
                         hint=FIX_HINT.format(field="ex_smoker", example="no"))
    if inputs.erectile_dysfunction and inputs.sex == "female":
        raise InputError("erectile dysfunction is asked of men only", field="erectile_dysfunction",
                         hint=FIX_HINT.format(field="erectile_dysfunction", example="no"))


def parse_answer(name: str, text: str) -> Any:
    """One QRISK3/PREVENT answer typed as NAME=VALUE on the CLI, converted and checked (yes/no, number, category)."""
    if name in CONDITION_FIELDS:
        value: Any = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}.get(text.lower())
        if value is None:
            raise InputError(f"{name} must be yes or no, not {text!r}", field=name)
    elif name in ("townsend", "sbp_sd", "cigarettes_per_day", "uacr", "sdi_decile"):
        try:
            value = int(text) if name == "sdi_decile" else float(text)
        except ValueError:
            raise InputError(f"{name} must be a number, not {text!r}", field=name) from None
    elif name in ("ethnicity", "diabetes_type"):
        value = text
    else:
        raise InputError(f"unknown answer {name!r}", field=name,
                         hint=f"known: {', '.join((*CONDITION_FIELDS, *ANSWER_FIELDS))}")
    # The answer alone, on a neutral profile (a man, so every question may be asked): ranges and categories.
    PatientInputs(age=50.0, sex="male", **{name: value})
    return value


def age_on(born: dt.date, on: dt.date) -> int:
    """Age in whole years on a date."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def latest_factors(store: Any, user_id: uuid.UUID | str) -> dict[str, Any]:
    """The newest recorded risk-factor answers (empty when none)."""
    events = store.health_events.list(owner=user_id, event_type=RISK_FACTORS_EVENT, limit=1)
    return dict(events[0].data) if events else {}


def sbp_variability(store: Any, user_id: uuid.UUID | str, on: dt.date) -> float | None:
    """SD of the systolic readings of the last five years (QRISK3's SBP variability), or None with fewer than 2."""
    since = dt.datetime.combine(on, dt.time(), dt.UTC) - dt.timedelta(days=round(365.25 * SBP_SD_YEARS))
    rows = store.health_metrics.list(owner=user_id, metric_type="systolic_bp", since=since, limit=1000)
    values = [r.value for r in rows]
    sd = statistics.stdev(values) if len(values) >= 2 else None
    return None if sd is None or not math.isfinite(sd) else sd


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
    values["sbp_sd"] = sbp_variability(store, user_id, on or dt.date.today())
    factors = latest_factors(store, user_id)
    for name in (*FACTOR_FIELDS, *CONDITION_FIELDS, *ANSWER_FIELDS, "race"):
        if factors.get(name) is not None:
            values[name] = factors[name]
    graphs = store.family_graph.list(owner=user_id, limit=1)
    if graphs:
        family = inherited_risk(graphs[0].members)
        values["family_diabetes"] = family.family_diabetes
        values["premature_cvd_family"] = family.premature_cvd
    return PatientInputs(**values)
