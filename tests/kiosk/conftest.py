"""Kiosk fixtures: a clinic device's store (a clinic id, a signed-in staff member)."""
from __future__ import annotations

import uuid

import pytest

from edge import patients


@pytest.fixture
def clinic() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def staff() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def kiosk(store, clinic, staff):
    """The shared store as a clinic device with a nurse signed in."""
    store.set_meta("clinic_id", str(clinic))
    store.set_meta(patients.SESSION_USER_META, str(staff))
    return store
