"""Validation rules of the shared record schemas (edge and server use the same ones)."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from protocol.errors import ValidationError
from protocol.schema import APPOINTMENT_TRANSITIONS, new_id, validate


def metric(**kw):
    data = {"user_id": uuid.uuid4(), "metric_type": "heart_rate", "value": 72}
    data.update(kw)
    return data


def test_ids_are_uuid_v7_and_time_ordered():
    a, b = new_id(), new_id()
    assert a.version == 7 and b.version == 7
    assert a.bytes[:6] <= b.bytes[:6]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"metric_type": "heart rate"}, "metric_type"),  # spec: ^[a-zA-Z_]+$
        ({"metric_type": "hba1c"}, "metric_type"),  # no digits either: HbA1c is glycated_hemoglobin
        ({"metric_type": "unicorns"}, "metric_type"),
        ({"value": "fast"}, "value"),
        ({"value": 400}, "value"),  # heart rate above 250 bpm
        ({"value": 5}, "value"),
        ({"recorded_at": dt.datetime.now(dt.UTC) + dt.timedelta(days=1)}, "recorded_at"),
        ({"unit": "furlongs"}, "unit"),
        ({"user_id": "not-a-uuid"}, "user_id"),
        ({"colour": "red"}, "colour"),  # unknown fields are refused, not dropped
    ],
)
def test_bad_metric_names_the_field(change, field):
    with pytest.raises(ValidationError) as err:
        validate("health_metrics", metric(**change))
    assert err.value.field == field
    assert field in str(err.value)


def test_units_are_converted_to_canonical():
    # Fasting glucose 7.0 mmol/L is the WHO diabetes threshold, 126 mg/dL (factor 18.016, MW of glucose 180.16).
    m = validate("health_metrics", metric(metric_type="blood_glucose", value=7.0, unit="mmol/L"))
    assert m.unit == "mg/dL"
    assert m.value == pytest.approx(126.1, abs=0.1)
    # Total cholesterol 5.5 mmol/L ≈ 212.7 mg/dL (factor 38.67).
    c = validate("health_metrics", metric(metric_type="total_cholesterol", value=5.5, unit="mmol/L"))
    assert c.value == pytest.approx(212.7, abs=0.1)


def test_bounds_apply_after_conversion():
    with pytest.raises(ValidationError, match="outside the physiological range"):
        validate("health_metrics", metric(metric_type="blood_glucose", value=70, unit="mmol/L"))  # 1261 mg/dL


def test_date_of_birth_cannot_be_in_the_future():
    with pytest.raises(ValidationError) as err:
        validate("users", {"date_of_birth": dt.date.today() + dt.timedelta(days=2)})
    assert err.value.field == "date_of_birth"


def test_unknown_table():
    with pytest.raises(ValidationError) as err:
        validate("secrets", {})
    assert err.value.field == "table"


def test_appointment_terminal_states_have_no_exit():
    for terminal in ("cancelled", "completed", "no_show"):
        assert APPOINTMENT_TRANSITIONS[terminal] == set()
    assert "completed" not in APPOINTMENT_TRANSITIONS["requested"]


def test_family_member_relation_is_checked():
    with pytest.raises(ValidationError) as err:
        validate("family_graph", {"user_id": uuid.uuid4(), "members": {"m1": {"relation": "pet"}}})
    assert err.value.field.startswith("members.m1.relation")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_refused_in_float_fields_that_have_no_range(bad):
    # A rating has bounds but a therapy duration, a doctor's rate or a drug strength could otherwise carry NaN,
    # which has no JSON form (the pull page is rendered by pydantic-core, which would write a bare NaN).
    with pytest.raises(ValidationError) as err:
        validate("doctors", {"user_id": uuid.uuid4(), "full_name": "Dr A", "specialty": "cardiology",
                             "hourly_rate": bad})
    assert err.value.field == "hourly_rate"
