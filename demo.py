"""`healthsync demo` / `make demo`: the main job end to end on embedded defaults, printing what it did."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from rich.console import Console

from edge.keys import KeySource
from edge.store import Store
from protocol.errors import HealthSyncError

console = Console()


def step(title: str) -> None:
    console.rule(f"[bold]{title}")


def demo_store(workdir: Path) -> tuple[Store, uuid.UUID]:
    """Create an encrypted edge store and write/read a few validated records."""
    step("1. Edge store (SQLite, WAL, AES-256-GCM sealed PHI, Argon2id passphrase)")
    passphrase = secrets.token_urlsafe(16)  # a fresh demo store each run; never a hard-coded key
    store = Store.open(workdir / "edge.db", KeySource(passphrase=passphrase), create=True)
    user = store.users.add({"full_name": "Demo Patient", "email": "demo@example.org", "sex": "female",
                            "date_of_birth": "1970-05-01", "llm_consent": False})
    store.set_meta("user_id", str(user.id))
    console.print(f"store {store.path} device {store.device_id} schema v{store.schema_version}")
    for metric_type, value, unit in [("systolic_bp", 128, None), ("total_cholesterol", 5.5, "mmol/L"),
                                     ("hdl_cholesterol", 1.3, "mmol/L"), ("blood_glucose", 99, None),
                                     ("weight", 72, None), ("height", 165, None), ("heart_rate", 66, None),
                                     ("diastolic_bp", 82, None), ("waist_circumference", 86, None),
                                     ("creatinine", 0.8, None)]:
        m = store.health_metrics.add({"user_id": user.id, "metric_type": metric_type, "value": value, "unit": unit})
        console.print(f"  wrote {m.metric_type:<18} {m.value:>8g} {m.unit}")
    try:
        store.health_metrics.add({"user_id": user.id, "metric_type": "heart_rate", "value": 400})
    except HealthSyncError as exc:
        console.print(f"  refused bad input as expected: [{exc.code}] {exc.message}")
    back = store.health_metrics.list(owner=user.id, limit=100)
    pending = store.query("SELECT count(*) FROM outbox")[0][0]
    console.print(f"  read back {len(back)} metrics; {pending} changes waiting in the sync outbox")
    return store, user.id


REPO = Path(__file__).resolve().parent
VOICE_FIXTURE = REPO / "tests" / "data" / "voice" / "u02_chest_pain_breathless.wav"


def demo_voice(store: Store, user_id: uuid.UUID) -> None:
    """Speech → transcript → voice markers → triage → symptom record, offline."""
    step("2. Voice AI doctor (faster-whisper tiny.en int8, Praat markers, offline triage rules)")
    if not VOICE_FIXTURE.exists():
        console.print(f"skipped: the sample utterance {VOICE_FIXTURE} is not in this checkout")
        return
    from edge.voice.pipeline import analyze_file

    result = analyze_file(store, VOICE_FIXTURE, user_id).to_dict()
    console.print(f"  transcript: {result['transcript']!r}")
    triage = result["triage"]
    console.print(f"  urgency {triage.get('urgency')}, see {triage.get('specialty')}")
    for flag in result["red_flags"]:
        console.print(f"  RED FLAG {flag['title']}: {flag['advice']}")
    console.print(f"  stored symptom {result['symptom_id']}, health_alert {result['alert_id']}")


def demo_twin(store: Store, user_id: uuid.UUID, workdir: Path) -> None:
    """Risk equations and ONNX models over the stored record, cached predictions, HTML report."""
    step("3. Health twin (Pooled Cohort Equations, Framingham, FINDRISC, PREVENT, ONNX models)")
    from edge.twin import report as html_report
    from edge.twin.inputs import RISK_FACTORS_EVENT
    from edge.twin.simulate import simulate
    from edge.twin.twin import assess

    store.health_events.add({"user_id": user_id, "event_type": RISK_FACTORS_EVENT, "data": {
        "race": "white", "smoker": True, "diabetes": False, "bp_treated": False, "on_statin": False,
        "physically_active": True, "daily_vegetables": True, "high_glucose_history": False}})
    store.family_graph.add({"user_id": user_id, "members": {
        "mother": {"relation": "mother", "conditions": [{"name": "myocardial_infarction", "age_of_onset": 58}]},
        "father": {"relation": "father", "conditions": [{"name": "type_2_diabetes", "age_of_onset": 61}]}}})
    a = assess(store, user_id)
    for r in a.results:
        value = f"not applicable: {r.reason}" if r.probability is None else f"{100 * r.probability:.1f}%"
        if r.probability is not None and r.score is not None:
            value += f" (score {r.score:g}, {r.category})"
        console.print(f"  {r.name:<42} {value}")
    again = assess(store, user_id)
    console.print(f"  stored {len(a.stored.get('written', []))} predictions; a second run with the same inputs "
                  f"wrote {len(again.stored.get('written', []))} (cached)")
    path = workdir / "twin-report.html"
    html_report.save(path, a.results, simulate(a.inputs), a.family)
    console.print(f"  report with 5/10/20-year scenarios: {path}")


def demo_scanner(store: Store, user_id: uuid.UUID) -> None:
    """OCR of a generated lab report photo → lab values stored as metrics."""
    step("4. Medical scanner (RapidOCR ONNX, lab and medication extraction)")
    from edge.vision.scanner import scan as scanner
    from edge.vision.scanner.synth import lab_report

    sample = lab_report(seed=7)
    result, _ = scanner.scan(sample.image)
    for lab in result.labs:
        d = lab.to_dict()
        console.print(f"  {d['analyte']['value']:<20} {d['value']['value']:>8g} {d['unit']['value']}")
    saved = scanner.save(store, user_id, result)
    console.print(f"  {len(saved.get('metric_ids', []))} lab values stored as health metrics "
                  f"(source=scan) in {result.elapsed_s:.2f} s")


def demo_therapy(store: Store, user_id: uuid.UUID) -> None:
    """Rep counting, faults and score over a squat session, stored for sync."""
    step("5. Physiotherapy (joint angles, reps with hysteresis, form faults, score)")
    from edge.vision.therapy.session import analyse_poses, save
    from edge.vision.therapy.synthetic import Script, generate

    # Landmarks as a phone sends them (`therapy_pose_data`): 6 squats, knee valgus on the 4th.
    result = analyse_poses("squat", generate(Script("squat", reps=6, faults={3: ["knee_valgus"]})))
    console.print(f"  {result.reps} reps, score {result.score:.0f}/100, faults {result.faults}")
    for reason in result.reasons[:3]:
        console.print(f"    - {reason}")
    session = save(store, user_id, result, pain_before=3, pain_after=2)
    console.print(f"  stored therapy session {session.id}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(base: str, proc: subprocess.Popen, log: Path, timeout_s: float = 90) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HealthSyncError(f"the sync server exited with {proc.returncode}; see {log}")
        try:
            return httpx.get(f"{base}/health", timeout=2).json()
        except httpx.TransportError:
            time.sleep(0.3)
    raise HealthSyncError(f"the sync server did not answer /health within {timeout_s:.0f} s; see {log}")


def demo_sync(store: Store, user_id: uuid.UUID, workdir: Path) -> None:
    """Start the sync server on embedded (or configured) Postgres, check /health, sync two devices, stop."""
    step("6. Sync server (FastAPI, Postgres RLS) and encrypted, signed sync of two devices")
    from edge.sync_client import SyncClient
    from edge.sync_client import status as sync_status
    from sync_server.auth import mint_token
    from sync_server.pg import ensure_database, release_embedded

    configured = os.environ.get("DATABASE_URL")
    pgdata = workdir / "postgres"
    url = ensure_database(configured, pgdata)
    console.print(f"Postgres: {'DATABASE_URL' if configured else f'embedded in {pgdata}'}")
    secret = secrets.token_urlsafe(32)  # the demo's own JWT secret, standing in for the Supabase project's
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "SUPABASE_JWT_SECRET": secret,
           "HEALTHSYNC_SERVER_DATA": str(workdir / "server")}
    log = workdir / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "healthsync_cli", "server", "run", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        health = _wait_healthy(base, proc, log)["data"]
        console.print(f"server {base} /health: {health['status']} (database {health['database']['status']}, "
                      f"redis {health['redis']['status']}, models {health['models']['status']})")
        token = mint_token(secret, user_id)
        with SyncClient(store, token, server_url=base) as kiosk:
            kiosk.enroll(base, "clinic kiosk")
            pushed = kiosk.run().to_dict()
        console.print(f"kiosk pushed: {pushed['accepted']} accepted, {pushed['duplicate']} duplicate, "
                      f"{pushed['rejected']} rejected; outbox now {sync_status(store)['pending']} pending")
        # The patient's phone: a second encrypted store enrolled for the same user pulls everything.
        with Store.open(workdir / "phone.db", KeySource(raw_key=secrets.token_bytes(32)), create=True) as phone:
            with SyncClient(phone, token, server_url=base) as client:
                client.enroll(base, "patient phone")
                pulled = client.run().to_dict()
            metrics = phone.health_metrics.list(owner=user_id, limit=1000)
            console.print(f"phone pulled {pulled['pulled']} rows: {len(metrics)} metrics, "
                          f"{phone.symptoms.count()} symptoms, {phone.therapy_sessions.count()} therapy sessions")
    finally:
        proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown, as Ctrl-C
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        console.print(f"server stopped (exit {proc.returncode}); its JSON log is {log}")
        if not configured:
            release_embedded(pgdata)


def run_demo(workdir: str | None = None) -> None:
    """Run every demo stage in order."""
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="healthsync-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(root / "numba-cache"))
    store, user_id = demo_store(root)
    try:
        demo_voice(store, user_id)
        demo_twin(store, user_id, root)
        demo_scanner(store, user_id)
        demo_therapy(store, user_id)
        demo_sync(store, user_id, root)
    finally:
        store.close()
    console.rule("[green]demo finished")
    console.print(f"files in {root}")
