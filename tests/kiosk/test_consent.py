"""Consents: grant, withdraw and list (who, when, which text), the fallback to the old profile flags, withdrawing
share ends the registration, and the voice pipeline's keep-audio obeys the records."""
from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pytest

from edge import consent, patients
from edge.voice import audio, pipeline
from protocol import consent as texts
from protocol.errors import ForbiddenError, InputError, NotFoundError, ValidationError

DOB = dt.date(1970, 5, 6)


@pytest.fixture
def patient(kiosk):
    return uuid.UUID(patients.register(kiosk, name="Pat Ient", dob=DOB, sex="female")["id"])


def test_grant_withdraw_list(kiosk, patient, staff):
    t0 = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    consent.record(kiosk, patient, "audio", True, at=t0)
    assert consent.current(kiosk, patient, "audio").granted
    consent.record(kiosk, patient, "audio", False, at=t0 + dt.timedelta(minutes=1))
    state = consent.current(kiosk, patient, "audio")
    assert (state.granted, state.source) == (False, "record")
    rows = [consent.to_dict(r) for r in consent.history(kiosk, patient, "audio")]
    assert [r["granted"] for r in rows] == [False, True]  # newest first
    assert all(r["by"] == str(staff) and r["text_version"] == texts.CURRENT["audio"] for r in rows)
    assert rows[0]["at"] == (t0 + dt.timedelta(minutes=1)).isoformat()
    # Other kinds are untouched.
    assert not consent.current(kiosk, patient, "llm").granted


def test_latest_by_recorded_at_not_by_write_order(kiosk, patient):
    """A consent recorded offline earlier but written later does not override a newer one (the contract's order)."""
    now = dt.datetime.now(dt.UTC)
    consent.record(kiosk, patient, "llm", True, at=now - dt.timedelta(minutes=1))
    consent.record(kiosk, patient, "llm", False, at=now - dt.timedelta(minutes=10))
    assert consent.allowed(kiosk, patient, "llm")


def test_profile_flag_is_the_fallback_and_a_record_overrides_it(store):
    """Stores of the previous version kept consents as profile flags: they still count until a record exists."""
    store.set_meta("user_id", str(uuid.uuid4()))
    user = store.users.add({"full_name": "Old Profile", "audio_opt_in": True, "image_ai_consent": True})
    assert consent.current(store, user.id, "audio").source == "profile"
    assert consent.allowed(store, user.id, "audio") and consent.allowed(store, user.id, "image_ai")
    assert not consent.allowed(store, user.id, "llm")
    consent.record(store, user.id, "image_ai", False)
    assert not consent.allowed(store, user.id, "image_ai")
    assert not consent.allowed(store, uuid.uuid4(), "audio")  # unknown user: nothing given


def test_bad_consents_are_refused(kiosk, patient):
    with pytest.raises(ValidationError, match="unknown consent kind"):
        consent.record(kiosk, patient, "telepathy", True)
    with pytest.raises(ValidationError, match="version"):
        consent.record(kiosk, patient, "audio", True, text_version="audio-99")
    with pytest.raises(ValidationError, match="only share"):
        consent.record(kiosk, patient, "audio", True, clinic_id=uuid.uuid4())
    with pytest.raises(NotFoundError):
        consent.record(kiosk, uuid.uuid4(), "audio", True)
    assert kiosk.consents.count(owner=patient) == 1  # only the share consent of registration


def test_share_needs_a_clinic_on_a_personal_device(store):
    store.set_meta("user_id", str(uuid.uuid4()))
    user = store.users.add({"full_name": "Phone User"})
    with pytest.raises(InputError, match="clinic"):
        consent.record(store, user.id, "share", True)
    clinic = uuid.uuid4()
    consent.record(store, user.id, "share", True, clinic_id=clinic)
    assert store.registrations.list(owner=user.id)[0].status == "active"


def test_withdrawing_share_withdraws_the_registration_and_asks_for_purge(kiosk, patient, clinic):
    consent.record(kiosk, patient, "share", False)
    assert kiosk.registrations.list(owner=patient)[0].status == "withdrawn"
    assert not consent.current(kiosk, patient, "share", clinic).granted
    assert consent.current(kiosk, patient, "share", uuid.uuid4()).source == "none"  # per clinic
    assert kiosk.query("SELECT purge_requested FROM kiosk_seen WHERE user_id=?", (str(patient),))[0][0] == 1
    consent.record(kiosk, patient, "share", True)  # given again: active, no purge
    assert kiosk.registrations.list(owner=patient)[0].status == "active"
    assert kiosk.query("SELECT purge_requested FROM kiosk_seen WHERE user_id=?", (str(patient),))[0][0] == 0


def _tone() -> audio.Audio:
    t = np.arange(16_000 * 2) / 16_000
    return audio.from_array((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16_000, "test")


def test_keep_audio_follows_the_consent_records(kiosk, patient):
    """Keep-audio is refused after a withdrawal even when the old profile flag says yes; it stores nothing."""
    kiosk.users.update(patient, audio_opt_in=True)
    consent.record(kiosk, patient, "audio", False)
    with pytest.raises(ForbiddenError, match="opted in"):
        pipeline.analyze_audio(kiosk, _tone(), patient, pipeline.AnalyzeOptions(keep_audio=True))
    assert kiosk.symptoms.count(owner=patient) == 0
    assert pipeline._consents(kiosk, patient) == (False, False)
    consent.record(kiosk, patient, "audio", True)
    consent.record(kiosk, patient, "llm", True)
    assert pipeline._consents(kiosk, patient) == (True, True)


@pytest.mark.heavy
def test_audio_is_kept_with_an_audio_consent_record(kiosk, patient):
    from pathlib import Path

    consent.record(kiosk, patient, "audio", True)
    data = Path(__file__).parents[1] / "data" / "voice" / "u01_headache_fever.wav"
    result = pipeline.analyze_file(kiosk, data, patient)
    assert result.audio_path and Path(result.audio_path).exists()
    assert kiosk.symptoms.get(result.symptom_id).user_id == patient
