"""A console page left open all day keeps up by itself, in a real browser: the server serving it goes away (its
socket cut), an event is raised while it is down, and when a server is back on the same address the page
reconnects with ?since=<last seq> and shows the missed event exactly once, without a reload. And past access-token
expiries (3-second tokens here) the server closes the socket (4401), the page refreshes its session and
reconnects with the fresh cookie, and events keep arriving."""
from __future__ import annotations

import contextlib
import datetime as dt
import time

import httpx
import pytest
from playwright.sync_api import expect

from sync_server import testing
from sync_server.app import create_app
from sync_server.auth_service import AuthSettings
from sync_server.marketplace import bids
from tests.console import test_console_browser as ui
from tests.console.conftest import matched_doctor, patient_user
from tests.console.test_console_browser import browser  # noqa: F401 (fixture)
from tests.console.test_console_patient_live import record_events

pytestmark = pytest.mark.e2e


@contextlib.contextmanager
def console_server(pg_url, data_dir, port: int, access_ttl_s: int = 3600):
    """A fresh server process's worth of app (its own hub, relay and pool) on `port`, stopped on exit."""
    app = create_app(testing.settings_for(pg_url, data_dir=data_dir),
                     auth=AuthSettings(access_ttl_s=access_ttl_s, signin_per_ip=10_000, signin_per_email=10_000,
                                       refresh_per_ip=10_000))
    try:
        with testing.serve_in_thread(app, websockets=True, port=port) as url:
            yield url
    finally:
        app.state.db.close()


@contextlib.contextmanager
def watched_page(browser, url: str):  # noqa: F811
    """A page on `url` with the sockets it opens and the script errors it hits recorded."""
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.sockets, page.errors, page.session_checks = [], [], []
    page.on("websocket", lambda ws: page.sockets.append(ws.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.session_checks.append(r.url) if r.url.endswith("/console/session") else None)
    try:
        yield page
    finally:
        context.close()
    assert page.errors == [], page.errors


def _slot(hours: int) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(hour=hours, minute=0, second=0, microsecond=0)


def _open_request(url: str, patient, specialty: str, text: str) -> str:
    r = httpx.post(f"{url}/api/v1/appointments", headers=testing.auth(patient), timeout=10,
                   json={"description": text, "specialty": specialty})
    assert r.status_code == 201, r.text
    return r.json()["data"]["id"]


def _until(page, condition, timeout_s: float, what: str) -> None:
    """Wait on the page's clock (Playwright hands on the page's events only while it is called)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(100)


def _bid_while_down(db, doctor, appointment: str, price: float) -> dict:
    """A bid placed straight in the database under the doctor's own RLS (no server is up to take it); its event
    goes into the log in the bid's transaction, as always."""
    claims = {"sub": str(doctor), "role": "authenticated", "app_metadata": {"role": "doctor"}}
    with db.session("authenticated", claims) as conn:
        start = _slot(11)
        return bids.place(conn, appointment, price=price, slot_start=start, slot_end=start + dt.timedelta(minutes=30),
                          note="offered while the server was down")


def test_a_page_reconnects_after_its_server_restarts_and_shows_the_missed_event_once(
        browser, pg_url, db, world, tmp_path):  # noqa: F811
    patient, email = patient_user(db, world.clinic, "Rita Restart")
    doctor, _, specialty = matched_doctor(db, world.clinic, "Dr Ray Resume")
    port = testing.free_port()
    with watched_page(browser, f"http://127.0.0.1:{port}") as page:
        with console_server(pg_url, tmp_path / "first", port) as url:
            ui.sign_in(page, email)
            expect(page.locator("#live-status")).to_have_text("live: on", timeout=10_000)
            record_events(page)
            appointment = _open_request(url, patient, specialty, "headaches every morning")
            expect(page.locator(f'article[data-request="{appointment}"]')).to_be_visible(timeout=5000)
            last_seq = page.evaluate("window.hsLive.lastSeq()")
            assert isinstance(last_seq, int)
            page.evaluate("window.hsMarker = 1")
        # The server is gone: the socket was cut, and the page says so while it retries.
        expect(page.locator("#live-status")).to_have_text("live: reconnecting", timeout=10_000)
        missed = _bid_while_down(db, doctor, appointment, 64)
        opened_before = len(page.sockets)
        with console_server(pg_url, tmp_path / "second", port):
            row = page.locator(f'tr.bid[data-bid="{missed["id"]}"]')
            expect(row).to_be_visible(timeout=45_000)  # backoff is capped at 30 s
            expect(page.locator("#live-status")).to_have_text("live: on")
            assert "offered while the server was down" in row.inner_text()
            assert page.evaluate("window.hsMarker") == 1  # no reload
            resumed = [u for u in page.sockets[opened_before:] if u.endswith(f"/v1/ws?since={last_seq}")]
            assert resumed, page.sockets
            seen = page.evaluate("window.hsSeen")
            about_missed = [e for e in seen if e["event"] == "appointment_bid"
                            and e["payload"].get("bid_id") == str(missed["id"])]
            assert len(about_missed) == 1, seen  # exactly once
            seqs = [e["seq"] for e in seen]
            assert seqs == sorted(set(seqs))  # in order, nothing twice
            assert page.locator("tr.bid").count() == 1


def test_a_page_keeps_receiving_events_across_access_token_expiries(browser, pg_url, db, world, tmp_path):  # noqa: F811
    patient, email = patient_user(db, world.clinic, "Tom Token")
    doctor, _, specialty = matched_doctor(db, world.clinic, "Dr Tia Ttl")
    port = testing.free_port()
    with console_server(pg_url, tmp_path / "ttl", port, access_ttl_s=3) as url, \
            watched_page(browser, url) as page:
        appointment = _open_request(url, patient, specialty, "a cough for three weeks")
        ui.sign_in(page, email)
        expect(page.locator("#live-status")).to_have_text("live: on", timeout=10_000)
        page.evaluate("window.hsMarker = 1")
        # Each token lives 3 s: the server closes the socket when it runs out (4401); the page refreshes its
        # session (/console/session rotates the cookies) and reconnects. Two expiries in a row:
        _until(page, lambda: len(page.sockets) >= 3 and len(page.session_checks) >= 2, 20,
               f"no reconnect after token expiry: sockets {page.sockets}, session checks {page.session_checks}")
        expect(page.locator("#live-status")).to_have_text("live: on", timeout=5000)
        start = _slot(15)
        r = httpx.post(f"{url}/api/v1/appointments/{appointment}/bids", headers=testing.auth(doctor, "doctor"),
                       timeout=10, json={"price": 99, "slot_start": start.isoformat(),
                                         "slot_end": (start + dt.timedelta(minutes=30)).isoformat()})
        assert r.status_code == 201, r.text
        expect(page.locator(f'tr.bid[data-bid="{r.json()["data"]["id"]}"]')).to_be_visible(timeout=5000)
        assert page.evaluate("window.hsMarker") == 1  # no reload: the socket, not a page load, kept it live
