"""The console in a real browser (Playwright driving the Debian chromium; nothing downloaded): each role signs in,
every screen renders its charts and graph, a CSV with bad rows gets its report, a doctor typing URLs or API calls
by hand sees nobody outside their care, an admin sees a device go quiet, and axe-core finds no serious
accessibility violation. Screenshots of each screen: CONSOLE_SCREENSHOTS=docs/screenshots (see SHOTS)."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from sync_server import testing
from tests.auth.conftest import PASSWORD
from tests.console.conftest import silence
from tests.sync.test_kiosk_device import _kiosk

pytestmark = pytest.mark.e2e
FAMILY = {"m1": {"name": "Mother", "relation": "mother", "conditions": [{"name": "diabetes", "age_of_onset": 52}]},
          "m2": {"name": "Brother", "relation": "brother"}}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# CONSOLE_SCREENSHOTS=docs/screenshots refreshes the committed pictures; otherwise they go to a temporary folder, so
# a test run leaves the working tree as it found it.
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tempfile.gettempdir() + "/healthsync-console-shots")
AXE = Path(__file__).resolve().parents[2] / "sync_server" / "console" / "static" / "vendor" / "axe.min.js"

if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but no chromium on PATH: .ci/run installs it with apt-get install -y chromium")
    pytest.skip("no Chromium found on PATH (apt-get install chromium); the browser tests need the Debian build",
                allow_module_level=True)


@pytest.fixture(scope="module")
def console_url(console_app):
    with testing.serve_in_thread(console_app, websockets=True) as url:  # live.js's /v1/ws
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser, console_url):
    context = browser.new_context(base_url=console_url, viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    outside: list[str] = []
    pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith((console_url, "data:", "ws://127"))
          else None)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert outside == [], f"requests left the server: {outside}"
    assert errors == [], f"JavaScript errors: {errors}"


def sign_in(page, email: str):
    page.goto("/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def until(page, expression: str, wanted, timeout_s: float = 10.0) -> None:
    """Poll an expression (the page's CSP forbids eval, which wait_for_function needs)."""
    import time

    deadline = time.monotonic() + timeout_s
    while (got := page.evaluate(expression)) != wanted:
        assert time.monotonic() < deadline, f"{expression} is {got!r}, wanted {wanted!r}"
        time.sleep(0.1)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)


def no_serious_a11y_violations(page) -> None:
    page.add_script_tag(url="/console/static/vendor/axe.min.js")
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id + ': ' + v.help)""")
    assert found == [], found


def test_doctor_screens(page, world, db):
    sign_in(page, world.users["doctor"][1])
    assert page.url.endswith("/console/patients")
    assert page.get_by_role("link", name="Alice Able").is_visible()
    assert page.get_by_text("Olga Outsider").count() == 0
    # The session is invisible to scripts and nothing is stored in the browser.
    assert "hs_console" not in page.evaluate("document.cookie")
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    no_serious_a11y_violations(page)
    shot(page, "doctor-patients")
    page.get_by_label("Find by name or record number").fill("Bob")
    page.wait_for_selector("#patient-rows >> text=Bob Brown")
    expect(page.locator("#patient-rows")).not_to_contain_text("Alice")
    with db.admin() as conn:  # a family graph with two relatives for the chart
        conn.execute("INSERT INTO family_graph (id, user_id, members, hlc, clinic_id) VALUES (gen_random_uuid(), %s, "
                     "%s::jsonb, 'seed', %s) ON CONFLICT DO NOTHING",
                     (world.mine[0], json.dumps(FAMILY), world.clinic))
    page.goto(f"/console/patients/{world.mine[0]}")
    page.wait_for_selector("#metric-charts canvas")
    until(page, "window.familyGraph ? window.familyGraph.nodes().length : 0", 3)
    assert page.get_by_text("RED FLAG").first.is_visible()
    assert page.locator("mark").first.inner_text() == "morning"
    no_serious_a11y_violations(page)
    shot(page, "doctor-chart")
    page.goto("/console/appointments")
    assert page.locator("table.calendar td").count() == 28
    no_serious_a11y_violations(page)
    shot(page, "doctor-calendar")


def test_doctor_editing_urls_and_api_calls_sees_no_one_outside_their_care(page, world):
    sign_in(page, world.users["doctor"][1])
    r = page.goto(f"/console/patients/{world.outsider}")
    assert r.status == 404 and "Olga" not in page.content() and "outsider secret" not in page.content()
    # Hand-made API calls from the signed-in page: the cookie is no API token, and a token would be scoped anyway.
    status = page.evaluate(f"""async () => (await fetch('/api/v1/health/symptoms?user_id={world.outsider}')).status""")
    assert status == 401
    forged = page.evaluate("""async () => (await fetch('/console/patients/search', {method: 'POST',
        headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'q=Olga&csrf=forged'})).status""")
    assert forged == 403


def test_staff_queue(page, world, db):
    from tests.server import records_seed

    records_seed.record(db, "check_ins", world.mine[0], at=dt.datetime.now(dt.UTC), clinic_id=world.clinic,
                        recorded_by=world.users["nurse"][0])
    sign_in(page, world.users["nurse"][1])
    assert page.url.endswith("/console/queue")
    page.wait_for_selector("#queue >> text=Alice Able")
    no_serious_a11y_violations(page)
    shot(page, "staff-queue")


def test_admin_screens_csv_report_and_quiet_device(page, world, db, devices, tmp_path):
    kiosk = _kiosk(devices, world.clinic, world.users["nurse"][0])
    kiosk.run()
    sign_in(page, world.users["admin"][1])
    assert page.url.endswith("/console/devices")
    row = page.locator(f'tr[data-device="{kiosk.store.device_id}"]')
    assert "gone quiet" not in row.inner_text()
    silence(db, kiosk.store.device_id)  # the kiosk last spoke two hours ago
    page.reload()
    assert "gone quiet" in page.locator(f'tr[data-device="{kiosk.store.device_id}"]').inner_text()
    no_serious_a11y_violations(page)
    shot(page, "admin-devices")

    bad = tmp_path / "patients.csv"
    bad.write_text("full_name,date_of_birth,mrn\nGood Row,1980-01-01,BR-1\nBad Date,1980-13-01,BR-2\n"
                   "No Number,1970-01-01,\n")
    page.goto("/console/import")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_selector("#report")
    report = page.locator("#report").inner_text()
    assert "2 bad rows of 3" in report and "Nothing was imported" in report
    assert page.locator("tr.bad-row").count() == 2
    no_serious_a11y_violations(page)
    shot(page, "admin-import-report")

    for path, name in (("/console/audit", "admin-audit"), ("/console/analytics", "admin-analytics"),
                       ("/console/manage", "admin-clinic")):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        no_serious_a11y_violations(page)
        shot(page, name)
    page.goto("/console/login")
    shot(page, "sign-in")


def test_platform_admin_creates_a_clinic_from_the_manage_screen(page, world, db):
    from sync_server import tenancy
    from tests.auth.conftest import add_user
    from tests.server import tenancy_seed

    user, email = add_user(db, role="admin", clinic=world.clinic, name="Pia Platform")
    tenancy_seed.staff(db, world.clinic, "admin", user)
    with db.admin() as conn:
        tenancy.set_platform_admin(conn, user, True)
    sign_in(page, email)
    page.goto("/console/manage")
    page.get_by_label("New clinic's name").fill("Harbour Clinic")
    page.get_by_role("button", name="Create clinic").click()
    expect(page.locator("p.notice")).to_have_text("Clinic Harbour Clinic created.")
    expect(page.locator("section.card").first).to_contain_text("Harbour Clinic")
    no_serious_a11y_violations(page)
    shot(page, "admin-create-clinic")
