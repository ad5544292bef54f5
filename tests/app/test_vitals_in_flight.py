"""Readings saved in quick succession in a real browser (the Debian chromium) while the kiosk answers slowly: each
one is stored. htmx queues a form's next submit while one is in flight and keeps only the latest queued, so a
third quick Save used to drop the second reading without a word; the form's Save button is now disabled until
its answer has arrived (hx-disabled-elt)."""
from __future__ import annotations

import time
import uuid

import pytest

from tests.app.conftest import sign_in_as
from tests.app.test_pages import register

pytestmark = [pytest.mark.e2e]

SLOW_S = 1.0  # every reading's answer is held this long, as on a kiosk whose disk or CPU is busy


def test_three_quick_saves_while_the_first_is_still_answering_store_three_readings(app, client, kiosk_store,
                                                                                     chromium):
    from playwright.sync_api import expect, sync_playwright

    from sync_server import testing

    sign_in_as(client, kiosk_store)
    patient = uuid.UUID(register(client))
    with testing.serve_in_thread(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context()
            context.add_cookies([{"name": c.name, "value": c.value, "url": base} for c in client.cookies.jar])
            page = context.new_page()

            def slow(route):
                if route.request.method == "POST":
                    time.sleep(SLOW_S)
                route.continue_()

            page.route("**/vitals", slow)
            page.goto(base + "/vitals")
            for metric, value in (("weight", "71"), ("height", "163"), ("heart_rate", "64")):
                page.get_by_label("What", exact=True).select_option(metric)
                page.get_by_label("Value", exact=True).fill(value)
                page.get_by_role("button", name="Save reading").click()  # waits while the button is disabled
            expect(page.get_by_test_id("saved")).to_contain_text("Heart rate recorded", timeout=10_000)
        finally:
            browser.close()
    stored = {m.metric_type: m.value for m in kiosk_store.health_metrics.list(owner=patient)}
    assert stored == {"weight": 71, "height": 163, "heart_rate": 64}
