"""The console's live parts end to end, in a real browser against a real served app: a red-flag symptom pushed by
a clinic kiosk (the real sync push; 0082's trigger raises the alert) shows on the nurse's queue within two seconds
without a reload and is acknowledged there; a care request shows on the matched doctor's open-requests page, the
doctor's bid from that page shows live on the clinic's view of the request's bids, and the patient's booking shows
on the doctor's calendar."""
from __future__ import annotations

import datetime as dt
import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from edge.voice import triage as voice_triage
from sync_server import tenancy, testing
from tests.console import test_console_browser as ui
from tests.console.test_console_browser import browser, console_url, page  # noqa: F401 (fixtures)
from tests.server.marketplace_world import WEEKDAYS
from tests.sync import conftest as sync_fixtures
from tests.sync.test_kiosk_device import _kiosk

pytestmark = pytest.mark.e2e
LIVE_S = 2.0  # the bound for an alert to reach the console


@pytest.fixture
def http(console_url):  # noqa: F811
    """Plain HTTP to the served app (a TestClient would run the app's lifespan a second time)."""
    with httpx.Client(base_url=console_url, timeout=10) as c:
        yield c


@pytest.fixture
def live_devices(tmp_path, http):
    d = sync_fixtures.Devices(tmp_path, http)
    yield d
    d.close()


@pytest.fixture
def second_page(browser, console_url):  # noqa: F811
    context = browser.new_context(base_url=console_url, viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def live_on(page) -> None:  # noqa: F811
    expect(page.locator("#live-status")).to_have_text("live: on", timeout=10_000)


def test_a_red_flag_alert_from_a_kiosk_shows_on_the_queue_within_two_seconds_and_is_acknowledged(
        page, world, db, live_devices):  # noqa: F811
    kiosk = _kiosk(live_devices, world.clinic, world.users["nurse"][0])
    ui.sign_in(page, world.users["nurse"][1])
    page.goto("/console/queue")
    live_on(page)
    text = "Crushing chest pain spreading to my left arm, I am short of breath."
    result = voice_triage.triage(text)
    assert result.red_flags  # the on-device rules flag it
    sym = kiosk.store.symptoms.add({"user_id": str(world.mine[1]), "description": text, "severity": 9,
                                    "triage": result.to_dict()})
    page.evaluate("window.hsMarker = 1")  # gone if the page reloads
    assert kiosk.run().rejected == 0
    pushed = time.monotonic()
    with db.admin() as conn:  # raised in the push's transaction by 0082's trigger
        alert = conn.execute("SELECT id FROM health_alerts WHERE symptom_id = %s", (sym.id,)).fetchone()["id"]
    row = page.locator(f'#alerts li[data-alert="{alert}"]')
    expect(row).to_be_visible(timeout=LIVE_S * 1000)
    assert time.monotonic() - pushed <= LIVE_S
    assert page.evaluate("window.hsMarker") == 1  # no reload: htmx swapped the list in place
    assert "Bob Brown" in row.inner_text() and result.red_flags[0].title in row.inner_text()
    assert "acknowledged" not in row.inner_text()
    ui.no_serious_a11y_violations(page)
    ui.shot(page, "staff-live-alert")
    page.locator(f'li[data-alert="{alert}"]').get_by_role("button", name="Acknowledge").click()
    expect(page.locator(f'li[data-alert="{alert}"]')).to_contain_text("acknowledged")
    with db.admin() as conn:
        ack = conn.execute("SELECT acknowledged_by FROM health_alerts WHERE id = %s", (alert,)).fetchone()
    assert ack["acknowledged_by"] == world.users["nurse"][0]  # under the nurse's own identity (auth.uid())


def test_acknowledging_needs_the_session_csrf_token(page, world, db):  # noqa: F811
    ui.sign_in(page, world.users["nurse"][1])
    status = page.evaluate(f"""async () => (await fetch('/console/alerts/{uuid.uuid4()}/acknowledge',
        {{method: 'POST', headers: {{'Content-Type': 'application/x-www-form-urlencoded'}},
          body: 'csrf=forged'}})).status""")
    assert status == 403


def _next_free_slot() -> dt.datetime:
    """Tomorrow 10:00 UTC (inside the calendar's four weeks), as the form's datetime-local value."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)


def test_a_doctors_bid_shows_live_on_the_clinics_view_and_the_booking_on_the_calendar(
        page, second_page, world, db, http):  # noqa: F811
    specialty = "live-" + uuid.uuid4().hex[:6]  # only Dr Dana has it: the request is matched to her
    doctor_user = world.users["doctor"][0]
    with db.admin() as conn:
        entry = tenancy.add_doctor(conn, doctor_user, world.clinic, specialty, name="Dr Dana Doctor",
                                   languages=["en"], price_min=40, price_max=200, working_hours=WEEKDAYS)
    ui.sign_in(page, world.users["doctor"][1])
    page.goto("/console/requests")
    live_on(page)
    nurse = second_page
    ui.sign_in(nurse, world.users["nurse"][1])
    nurse.goto("/console/requests")
    live_on(nurse)

    patient = world.mine[0]
    r = http.post("/api/v1/appointments", headers=testing.auth(patient),
                  json={"description": "palpitations after climbing stairs", "specialty": specialty})
    assert r.status_code == 201, r.text
    appt = r.json()["data"]["id"]
    request_card = page.locator(f'section[data-request="{appt}"]')
    expect(request_card).to_be_visible(timeout=LIVE_S * 1000)  # the matched doctor's list, live
    ui.no_serious_a11y_violations(page)
    ui.shot(page, "doctor-open-requests")
    nurse.evaluate("window.hsMarker = 1")
    expect(nurse.locator(f'section[data-request="{appt}"]')).to_contain_text("No bids yet", timeout=5000)

    start = _next_free_slot()
    request_card.get_by_label("Price").fill("85")
    request_card.get_by_label("Start (UTC)").fill(start.strftime("%Y-%m-%dT%H:%M"))
    request_card.get_by_role("button", name="Place bid").click()
    # Her own list shows it (the form's answer, or the live re-fetch its event causes, whichever lands last).
    expect(page.locator(f'section[data-request="{appt}"] tr.bid')).to_contain_text("85.00")
    bid_row = nurse.locator(f'section[data-request="{appt}"] tr.bid', has_text="Dr Dana Doctor")
    expect(bid_row).to_contain_text("85.00", timeout=LIVE_S * 1000)  # the clinic's view, without a reload
    assert nurse.evaluate("window.hsMarker") == 1
    ui.no_serious_a11y_violations(nurse)
    ui.shot(nurse, "staff-request-bids")
    # The patient's side (the API the patient app reads) shows the same bid.
    got = http.get(f"/api/v1/appointments/{appt}", headers=testing.auth(patient))
    assert got.status_code == 200, got.text
    bids = got.json()["data"]["bids"]
    assert [(b["price"], b["doctor_id"]) for b in bids] == [(85.0, entry["id"])]

    page.goto("/console/appointments")
    live_on(page)
    page.evaluate("window.hsMarker = 1")
    booked = http.put(f"/api/v1/appointments/{appt}", headers=testing.auth(patient),
                      json={"status": "booked", "bid_id": bids[0]["id"]})
    assert booked.status_code == 200, booked.text
    visit = page.locator("#calendar a.appt", has_text="Alice Able")
    expect(visit).to_contain_text(f"{start:%H:%M} Alice Able · booked", timeout=LIVE_S * 1000)
    assert page.evaluate("window.hsMarker") == 1
    ui.shot(page, "doctor-calendar-booked")
