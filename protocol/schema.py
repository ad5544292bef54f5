"""Record schemas of every table, shared by the edge store and the sync server (one validation for both)."""
from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal

import pydantic_core
import uuid6
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from protocol import appointments
from protocol.errors import ValidationError

# 3: appointments carry care requests (issue 11: optional doctor and slot, the statuses booked, checked_in and
# expired, bid, price, specialty, urgency, symptom). A server refuses changesets newer than it knows.
SCHEMA_VERSION = 3
# Writes stamped a little ahead of our clock are tolerated: device clocks drift.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
_FUTURE_TOLERANCE_S = FUTURE_TOLERANCE.total_seconds()
# Size caps in bytes of UTF-8 JSON, one pair for both sides. A record over them is refused when it is written, so no
# change can outgrow a changeset the server takes (its default body limit is 1 MiB, four times MAX_RECORD_BYTES, and
# a changeset of one capped record of incompressible text stays under it: tests/sync/test_oversized.py).
MAX_DETAIL_BYTES = 64 * 1024  # one free-form JSON field (triage, voice analysis, details, event data)
MAX_RECORD_BYTES = 256 * 1024  # a whole record
# Validation context for rows the server already holds: the caps govern new writes, so a row stored before they
# existed still pulls (refusing it would stop every pull after it).
STORED = {"stored": True}


def new_id() -> uuid.UUID:
    """A new UUIDv7 (time-ordered) id."""
    return uuid.UUID(int=uuid6.uuid7().int)


# Namespace of ids derived from another column (one row per value: a user's family graph).
DERIVED_ID_NAMESPACE = uuid.UUID("6f1d3c2a-9b7e-5d40-8a61-2c9f0e4b7d15")


def derived_id(table: str, value: Any) -> uuid.UUID:
    """The id of the one row of `table` for `value` (uuid5): every device that creates it picks the same id, so
    two devices' offline copies are one row, merged, not two. `value` is a UUID, or several joined by ':' (a
    registration: f"{clinic_id}:{patient_id}"), each normalised so any spelling of the same ids agrees."""
    parts = str(value).split(":")
    return uuid.uuid5(DERIVED_ID_NAMESPACE, f"{table}:{':'.join(str(uuid.UUID(p)) for p in parts)}")


def utcnow() -> dt.datetime:
    """Timezone-aware current UTC time."""
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def not_in_future(value: dt.datetime | dt.date, field: str) -> dt.datetime | dt.date:
    """Reject timestamps and dates that lie in the future."""
    if isinstance(value, dt.datetime):
        value = _aware(value)
        # Epoch seconds rather than `utcnow() + FUTURE_TOLERANCE`: the same test without building two datetimes
        # per row (a bulk pull validates 100k of these).
        if value.timestamp() > time.time() + _FUTURE_TOLERANCE_S:
            raise ValueError(f"{field} {value.isoformat()} is in the future")
    elif value > utcnow().date():
        raise ValueError(f"{field} {value.isoformat()} is in the future")
    return value


def _stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


def _json_size(value: Any) -> int:
    return len(pydantic_core.to_json(value))


def _cap_detail(value: Any, info: ValidationInfo) -> Any:
    if value is not None and not _stored(info):
        size = _json_size(value)
        if size > MAX_DETAIL_BYTES:
            raise ValueError(f"{size:,} bytes of JSON is over the {MAX_DETAIL_BYTES:,}-byte limit of one field")
    return value


# A free-form JSON field, capped at MAX_DETAIL_BYTES.
Detail = Annotated[dict[str, Any], AfterValidator(_cap_detail)]


class SizeCapped(BaseModel):
    """Mixin for records with free-form fields: the whole record is capped at MAX_RECORD_BYTES."""

    @model_validator(mode="after")
    def _record_size(self, info: ValidationInfo):
        if _stored(info):
            return self
        size = len(self.model_dump_json())
        if size > MAX_RECORD_BYTES:
            sizes = {name: _json_size(getattr(self, name)) for name in type(self).model_fields}
            largest = max(sizes, key=sizes.get)
            # The error names the field to shorten (validate() reads it from ctx: a model error has no loc).
            raise pydantic_core.PydanticCustomError(
                "record_too_large",
                "record of {size} bytes is over the {limit}-byte limit (largest field: {field}, {field_size} bytes)",
                {"size": f"{size:,}", "limit": f"{MAX_RECORD_BYTES:,}", "field": largest,
                 "field_size": f"{sizes[largest]:,}"})
        return self


# ---------------------------------------------------------------- metrics, units and physiological bounds


@dataclass(frozen=True)
class MetricSpec:
    """A metric type: its canonical unit, the units accepted (with a factor to canonical) and plausible bounds.
    `shifted` holds units that also need an offset: canonical = (value + offset) × factor (°F → °C)."""

    unit: str
    low: float
    high: float
    units: tuple[tuple[str, float], ...] = ()
    shifted: tuple[tuple[str, float, float], ...] = ()

    def unit_names(self) -> list[str]:
        """Every accepted spelling, canonical first."""
        return [self.unit, *(u for u, _ in self.units), *(u for u, _, _ in self.shifted)]

    def to_canonical(self, value: float, unit: str | None) -> float:
        # Units compare without case: a nurse types "mg/dl" for mg/dL.
        if unit is None or unit.lower() == self.unit.lower():
            return value
        for alt, factor in self.units:
            if alt.lower() == unit.lower():
                return value * factor
        for alt, factor, offset in self.shifted:
            if alt.lower() == unit.lower():
                return (value + offset) * factor
        raise ValueError(f"unit {unit!r} is not accepted (accepted: {', '.join(self.unit_names())})")


# Conversion factors: glucose 1 mmol/L = 18.016 mg/dL (MW 180.16); cholesterol 38.67; triglycerides 88.57.
METRICS: dict[str, MetricSpec] = {
    "heart_rate": MetricSpec("bpm", 20, 250),
    "systolic_bp": MetricSpec("mmHg", 50, 260, (("kPa", 7.50062),)),
    "diastolic_bp": MetricSpec("mmHg", 30, 160, (("kPa", 7.50062),)),
    "oxygen_saturation": MetricSpec("%", 50, 100),
    "body_temperature": MetricSpec("C", 30, 44, shifted=(("F", 5 / 9, -32.0),)),
    "respiratory_rate": MetricSpec("breaths/min", 4, 70),
    "blood_glucose": MetricSpec("mg/dL", 20, 1000, (("mmol/L", 18.016),)),
    "glycated_hemoglobin": MetricSpec("%", 3, 20),  # HbA1c; the spec's type pattern allows no digits
    "total_cholesterol": MetricSpec("mg/dL", 50, 600, (("mmol/L", 38.67),)),
    "hdl_cholesterol": MetricSpec("mg/dL", 5, 200, (("mmol/L", 38.67),)),
    "ldl_cholesterol": MetricSpec("mg/dL", 10, 500, (("mmol/L", 38.67),)),
    "triglycerides": MetricSpec("mg/dL", 10, 5000, (("mmol/L", 88.57),)),
    "creatinine": MetricSpec("mg/dL", 0.1, 20, (("umol/L", 1 / 88.42),)),
    "hemoglobin": MetricSpec("g/dL", 3, 25, (("g/L", 0.1),)),
    "weight": MetricSpec("kg", 0.5, 400, (("lb", 0.45359237),)),
    "height": MetricSpec("cm", 30, 250, (("m", 100.0), ("in", 2.54))),
    "bmi": MetricSpec("kg/m2", 8, 90),
    "waist_circumference": MetricSpec("cm", 30, 250, (("in", 2.54),)),
    "steps": MetricSpec("count", 0, 150_000),
    "sleep_hours": MetricSpec("h", 0, 24),
    "pain_level": MetricSpec("score", 0, 10),
    "stress_score": MetricSpec("z", -10, 10),
}

MetricType = str
Sex = Literal["female", "male"]
Role = Literal["patient", "doctor", "admin"]
MetricSource = Literal["manual", "device", "wearable", "scan", "voice", "therapy", "sync"]


class Policy(str, Enum):
    """How concurrent writes to a table merge (architecture note, principle 4)."""

    APPEND_ONLY = "append_only"
    LWW_COLUMNS = "lww_columns"
    STATE_MACHINE = "state_machine"
    DOC_MEMBERS = "doc_members"
    SERVER_OWNED = "server_owned"


class Record(BaseModel):
    """Base of every stored record: a UUIDv7 id; unknown fields are errors, not silently dropped. NaN and infinity
    are no measurement and have no JSON form: refused in every float field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_assignment=True,
                              allow_inf_nan=False)

    id: uuid.UUID = Field(default_factory=new_id)


class Observation(Record):
    """Append-only clinical observation; a correction is a new row naming the row it supersedes."""

    user_id: uuid.UUID
    supersedes: uuid.UUID | None = None


class HealthMetric(Observation):
    """One measured value (heart rate, glucose, …) stored in its metric type's canonical unit."""

    metric_type: str = Field(pattern=r"^[a-zA-Z_]+$", max_length=64)
    unit: str | None = None
    value: float
    recorded_at: dt.datetime = Field(default_factory=utcnow)
    source: MetricSource = "manual"
    notes: str | None = Field(default=None, max_length=2000)

    @field_validator("metric_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in METRICS:
            raise ValueError(f"unknown metric_type {v!r} (known: {', '.join(sorted(METRICS))})")
        return v

    @field_validator("value")
    @classmethod
    def _bounds(cls, v: float, info: ValidationInfo) -> float:
        spec = METRICS.get(info.data.get("metric_type", ""))
        if spec is None or "unit" not in info.data:
            return v  # the metric_type or unit error is reported on its own field
        canonical = spec.to_canonical(v, info.data["unit"])
        if not spec.low <= canonical <= spec.high:
            raise ValueError(
                f"{v:g} {info.data['unit'] or spec.unit} is outside the physiological range "
                f"{spec.low:g}–{spec.high:g} {spec.unit} for {info.data['metric_type']}"
            )
        # Stored canonically so the twin and the server never guess units.
        return round(canonical, 6)

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str | None, info: ValidationInfo) -> str | None:
        spec = METRICS.get(info.data.get("metric_type", ""))
        if spec is not None and v is not None:
            spec.to_canonical(1.0, v)
        return v

    @field_validator("recorded_at")
    @classmethod
    def _recorded_at(cls, v: dt.datetime) -> dt.datetime:
        return not_in_future(v, "recorded_at")

    @model_validator(mode="after")
    def _canonical_unit(self) -> HealthMetric:
        object.__setattr__(self, "unit", METRICS[self.metric_type].unit)
        return self


class User(Record):
    """A person's profile; fields merge last-writer-wins per column."""

    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    full_name: str | None = Field(default=None, max_length=200)
    date_of_birth: dt.date | None = None
    sex: Sex | None = None
    role: Role = "patient"
    phone: str | None = Field(default=None, max_length=40)
    llm_consent: bool = False
    audio_opt_in: bool = False
    image_ai_consent: bool = False

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, v: dt.date | None) -> dt.date | None:
        return None if v is None else not_in_future(v, "date_of_birth")


class Doctor(Record):
    """A doctor's public listing; owned by the server, pulled read-only by devices."""

    user_id: uuid.UUID | None = None
    full_name: str = Field(max_length=200)
    specialty: str = Field(max_length=100)
    license_number: str | None = Field(default=None, max_length=64)
    rating: float | None = Field(default=None, ge=0, le=5)
    hourly_rate: float | None = Field(default=None, ge=0)
    available: bool = True


class Symptom(SizeCapped, Observation):
    """A reported symptom episode with its triage and (when from voice) the voice analysis."""

    description: str = Field(min_length=1, max_length=5000)
    severity: int = Field(ge=0, le=10)
    recorded_at: dt.datetime = Field(default_factory=utcnow)
    duration_days: float | None = Field(default=None, ge=0, le=36500)
    voice_analysis: Detail | None = None
    triage: Detail | None = None
    model_versions: Annotated[dict[str, str], AfterValidator(_cap_detail)] | None = None
    audio_path: str | None = Field(default=None, max_length=1024)

    @field_validator("recorded_at")
    @classmethod
    def _recorded_at(cls, v: dt.datetime) -> dt.datetime:
        return not_in_future(v, "recorded_at")


AppointmentStatus = Literal["requested", "confirmed", "booked", "checked_in", "cancelled", "completed", "no_show",
                            "expired"]
Urgency = Literal["self_care", "soon", "urgent", "emergency"]

# Server-owned state machine (principle 4): the statuses reachable from each, by anyone. Who may make each move
# is protocol.appointments.TRANSITIONS, which the server enforces per role in SQL.
APPOINTMENT_TRANSITIONS: dict[str, set[str]] = appointments.by_status()


class Appointment(Record):
    """A booking between a patient and a doctor; status follows APPOINTMENT_TRANSITIONS. A marketplace request
    (issue 11) has no doctor or time until a bid is accepted (`status` booked with `bid_id`): the server then takes
    the doctor, the slot and the price from the bid."""

    patient_id: uuid.UUID
    doctor_id: uuid.UUID | None = None
    scheduled_at: dt.datetime | None = None
    status: AppointmentStatus = "requested"
    reason: str | None = Field(default=None, max_length=2000)
    ends_at: dt.datetime | None = None
    specialty: str | None = Field(default=None, max_length=100)
    urgency: Urgency | None = None
    symptom_id: uuid.UUID | None = None
    bid_id: uuid.UUID | None = None
    price: float | None = Field(default=None, ge=0)


class TherapySession(SizeCapped, Observation):
    """One physiotherapy session's outcome."""

    exercise: str = Field(pattern=r"^[a-z_]+$", max_length=64)
    reps: int = Field(ge=0, le=10_000)
    score: float = Field(ge=0, le=100)
    duration_s: float = Field(ge=0, le=24 * 3600)
    pain_before: int | None = Field(default=None, ge=0, le=10)
    pain_after: int | None = Field(default=None, ge=0, le=10)
    started_at: dt.datetime = Field(default_factory=utcnow)
    details: Detail | None = None

    @field_validator("started_at")
    @classmethod
    def _started_at(cls, v: dt.datetime) -> dt.datetime:
        return not_in_future(v, "started_at")


class Prediction(SizeCapped, Observation):
    """A risk estimate from an equation or a model, with what produced it."""

    disease: str = Field(max_length=100)
    probability: float | None = Field(default=None, ge=0, le=1)
    confidence: float | None = Field(default=None, ge=0, le=1)
    model_name: str = Field(max_length=100)
    model_version: str = Field(max_length=50)
    inputs_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: dt.datetime = Field(default_factory=utcnow)
    details: Detail | None = None


class FamilyCondition(BaseModel):
    """A condition a relative has or had."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=100)
    age_of_onset: int | None = Field(default=None, ge=0, le=120)


class FamilyMember(BaseModel):
    """One relative in the family graph."""

    model_config = ConfigDict(extra="forbid")
    relation: Literal[
        "mother", "father", "sister", "brother", "son", "daughter",
        "grandmother", "grandfather", "aunt", "uncle", "cousin", "half_sister", "half_brother", "other",
    ]
    name: str | None = Field(default=None, max_length=200)
    birth_year: int | None = Field(default=None, ge=1850, le=2100)
    living: bool = True
    conditions: list[FamilyCondition] = Field(default_factory=list)


class FamilyGraph(SizeCapped, Record):
    """A patient's relatives as a document keyed by member id; merged per member. One per user: its id derives
    from the user's (`derived_id`), filled in when a new graph is made without one."""

    user_id: uuid.UUID
    members: dict[str, FamilyMember] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _one_per_user(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("id") is None and data.get("user_id") is not None:
            try:
                return {**data, "id": derived_id("family_graph", data["user_id"])}
            except (ValueError, TypeError, AttributeError):
                return data  # the user_id error is reported on its own field
        return data


class HealthEvent(SizeCapped, Observation):
    """A free-form health event document (alerts, scans, notes)."""

    event_type: str = Field(pattern=r"^[a-z_]+$", max_length=64)
    occurred_at: dt.datetime = Field(default_factory=utcnow)
    data: Detail = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _occurred_at(cls, v: dt.datetime) -> dt.datetime:
        return not_in_future(v, "occurred_at")


class Medication(Observation):
    """A medication the patient takes, as read from a prescription label (or entered); a change is a new row."""

    name: str = Field(min_length=1, max_length=200)
    strength: float | None = Field(default=None, gt=0, le=100_000)
    unit: Literal["mg", "mcg", "g", "ml", "iu", "unit", "units"] | None = None
    frequency: str | None = Field(default=None, pattern=r"^[A-Z0-9]{1,12}$")  # QD, BID, TID, QID, QHS, Q8H, PRN
    route: Literal["oral", "topical", "inhaled", "injection", "ophthalmic", "other"] | None = None
    source_scan_id: uuid.UUID | None = None  # the `scan` health event it was read from
    recorded_at: dt.datetime = Field(default_factory=utcnow)

    @field_validator("recorded_at")
    @classmethod
    def _recorded_at(cls, v: dt.datetime) -> dt.datetime:
        return not_in_future(v, "recorded_at")


ConsentKind = Literal["audio", "llm", "image_ai", "share"]


class Consent(Observation):
    """One consent given or withdrawn (append-only): the current one per (patient, kind[, clinic]) is the latest by
    recorded_at, then id. `share` names the clinic it is given to; the other kinds name none."""

    kind: ConsentKind
    clinic_id: uuid.UUID | None = None
    granted: bool
    text_version: str = Field(pattern=r"^[a-z0-9_.-]+$", max_length=40)
    recorded_by: uuid.UUID
    recorded_at: dt.datetime = Field(default_factory=utcnow)

    @field_validator("recorded_at")
    @classmethod
    def _recorded_at(cls, v: dt.datetime) -> dt.datetime:
        return not_in_future(v, "recorded_at")

    @model_validator(mode="after")
    def _clinic_for_share(self) -> Consent:
        if (self.kind == "share") != (self.clinic_id is not None):
            raise pydantic_core.PydanticCustomError(
                "consent_clinic", "a share consent names its clinic_id, and only a share consent does",
                {"field": "clinic_id"})
        return self


class CheckIn(Observation):
    """A patient's arrival at a clinic (append-only), recorded by the acting staff member or the patient."""

    clinic_id: uuid.UUID
    checked_in_at: dt.datetime = Field(default_factory=utcnow)
    recorded_by: uuid.UUID

    @field_validator("checked_in_at")
    @classmethod
    def _checked_in_at(cls, v: dt.datetime) -> dt.datetime:
        return not_in_future(v, "checked_in_at")


class Registration(Record):
    """A patient's registration at a clinic (their consent to share with it), one per (clinic, patient): its id
    derives from both (`derived_id("registrations", f"{clinic_id}:{user_id}")`), filled in when omitted."""

    user_id: uuid.UUID
    clinic_id: uuid.UUID
    mrn: str | None = Field(default=None, max_length=64)
    status: Literal["active", "withdrawn"] = "active"

    @model_validator(mode="before")
    @classmethod
    def _one_per_clinic_patient(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("id") is None and data.get("user_id") and data.get("clinic_id"):
            try:
                return {**data, "id": derived_id("registrations", f"{data['clinic_id']}:{data['user_id']}")}
            except (ValueError, TypeError, AttributeError):
                return data  # the clinic_id or user_id error is reported on its own field
        return data


@dataclass(frozen=True)
class TableSpec:
    """A table: its record model, merge policy, owning-user column and the plaintext columns it is queried by."""

    name: str
    model: type[Record]
    policy: Policy
    owner: str | None
    index: tuple[str, ...] = ()
    # One row per value of this column (or of these columns, joined by ':'): the id must be derived_id(name, value).
    id_from: str | tuple[str, ...] | None = None

    def id_error(self, doc: dict[str, Any]) -> str | None:
        """Why a new row's id is not the one derived for it (None when it is, or when ids are free)."""
        if self.id_from is None:
            return None
        cols = (self.id_from,) if isinstance(self.id_from, str) else self.id_from
        try:
            expected = derived_id(self.name, ":".join(str(doc.get(c)) for c in cols))
        except ValueError:
            return f"a {self.name} id is derived from its {', '.join(cols)}, which must be UUIDs"
        if str(doc.get("id")) != str(expected):
            return (f"a {self.name} id is derived from its {', '.join(cols)} (one per {', '.join(cols)}): expected "
                    f"{expected}")
        return None


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec("users", User, Policy.LWW_COLUMNS, "id"),
        TableSpec("doctors", Doctor, Policy.SERVER_OWNED, None, ("specialty",)),
        TableSpec("health_metrics", HealthMetric, Policy.APPEND_ONLY, "user_id", ("metric_type", "recorded_at")),
        TableSpec("symptoms", Symptom, Policy.APPEND_ONLY, "user_id", ("recorded_at",)),
        TableSpec("appointments", Appointment, Policy.STATE_MACHINE, "patient_id",
                  ("doctor_id", "status", "scheduled_at")),
        TableSpec("therapy_sessions", TherapySession, Policy.APPEND_ONLY, "user_id", ("exercise", "started_at")),
        TableSpec("predictions", Prediction, Policy.APPEND_ONLY, "user_id", ("disease", "inputs_hash")),
        TableSpec("family_graph", FamilyGraph, Policy.DOC_MEMBERS, "user_id", id_from="user_id"),
        TableSpec("health_events", HealthEvent, Policy.APPEND_ONLY, "user_id", ("event_type", "occurred_at")),
        # The clinic (issue 10): consents and check-ins are observations; a registration merges per column.
        TableSpec("consents", Consent, Policy.APPEND_ONLY, "user_id", ("kind", "recorded_at")),
        TableSpec("check_ins", CheckIn, Policy.APPEND_ONLY, "user_id", ("clinic_id", "checked_in_at")),
        TableSpec("registrations", Registration, Policy.LWW_COLUMNS, "user_id", ("clinic_id",),
                  id_from=("clinic_id", "user_id")),
        # The drug name stays inside the sealed payload (no plaintext index on it).
        TableSpec("medications", Medication, Policy.APPEND_ONLY, "user_id", ("recorded_at",)),
    )
}


def table_spec(name: str) -> TableSpec:
    """The spec of a table, or a ValidationError naming the unknown table."""
    try:
        return TABLES[name]
    except KeyError:
        raise ValidationError(f"unknown table {name!r}", field="table") from None


def validate(table: str, data: dict[str, Any] | Record, *, stored: bool = False) -> Record:
    """Validate a record for a table; raise ValidationError naming the first bad field. `stored=True` for a row the
    server already holds (the size caps are skipped: they govern new writes)."""
    spec = table_spec(table)
    if isinstance(data, spec.model):
        return data
    if isinstance(data, Record):
        data = data.model_dump()
    try:
        return spec.model.model_validate(data, context=STORED if stored else None)
    except PydanticValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or (e.get("ctx") or {}).get("field") or table,
             "message": e["msg"].removeprefix("Value error, ")}
            for e in exc.errors()
        ]
        first = errors[0]
        raise ValidationError(
            f"{table}: {first['field']}: {first['message']}", field=first["field"], errors=errors
        ) from None


def to_wire(record: Record) -> dict[str, Any]:
    """A record as JSON-compatible plain data."""
    return record.model_dump(mode="json")

