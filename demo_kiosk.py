"""A clinic to try the kiosk app on: the sync server with a clinic and its staff, a kiosk store enrolled to it with
the nurse signed in (PIN set), patients and a day of their records; and the processes (`server run`, `edge serve`)
that `healthsync demo --serve` leaves running. The browser tests build their clinic with the same functions.

Every secret is made per run (JWT secret, store key, passwords, PINs) and printed only by `demo --serve`, which
exists to be signed in to.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent


@dataclass
class StaffLogin:
    """A demo sign-in: email, password, PIN and role."""

    email: str
    password: str
    pin: str
    role: str
    user_id: str = ""


@dataclass
class DemoClinic:
    """What was seeded: the server, the clinic, its staff, and where the kiosk's store lives."""

    server_url: str
    database_url: str
    jwt_secret: str
    clinic_id: str
    staff: list[StaffLogin]
    kiosk_home: Path
    kiosk_key: str  # HEALTHSYNC_KEY of the kiosk's store (64 hex characters)
    patients: list[dict] = field(default_factory=list)

    def edge_env(self) -> dict[str, str]:
        """The environment `edge serve` (and `edge …` commands) run in for this kiosk."""
        env = {k: v for k, v in os.environ.items() if k not in ("HEALTHSYNC_TOKEN", "SUPABASE_URL", "REDIS_URL")}
        return {**env, "HEALTHSYNC_HOME": str(self.kiosk_home), "HEALTHSYNC_KEY": self.kiosk_key,
                "NUMBA_CACHE_DIR": env.get("NUMBA_CACHE_DIR", "/tmp/healthsync-numba-cache")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout_s: float = 90) -> None:
    """Until `url` answers (any status); an exited process or the timeout is an error naming its log."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up (exit {proc.poll()})") from None
            time.sleep(0.2)


def start_server(database_url: str, workdir: Path, secret: str, port: int | None = None) -> tuple[subprocess.Popen,
                                                                                                   str]:
    """`healthsync server run` on a free port (embedded auth on), logging to workdir/server.log."""
    port = port or free_port()
    env = {**{k: v for k, v in os.environ.items() if k != "REDIS_URL"}, "DATABASE_URL": database_url,
           "SUPABASE_JWT_SECRET": secret, "HEALTHSYNC_SERVER_DATA": str(workdir / "server"),
           "RATE_LIMIT_REQUESTS": "1000000"}
    with (workdir / "server.log").open("ab") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "healthsync_cli", "server", "run", "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/health", proc)
    return proc, base


def start_edge(clinic: DemoClinic, port: int | None = None, idle_s: float | None = None) -> tuple[subprocess.Popen,
                                                                                                  str]:
    """`healthsync edge serve` for the kiosk on a free port, logging to kiosk_home/edge.log."""
    port = port or free_port()
    args = [sys.executable, "-m", "healthsync_cli", "edge", "serve", "--port", str(port)]
    if idle_s is not None:
        args += ["--idle-lock", str(idle_s)]
    with (clinic.kiosk_home / "edge.log").open("ab") as log:
        proc = subprocess.Popen(args, env=clinic.edge_env(), stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/health", proc)
    return proc, base


def stop(proc: subprocess.Popen) -> int:
    """Ctrl-C (uvicorn's graceful shutdown), then kill after 20 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def _password() -> str:
    # Four random words' worth of entropy in a form the strength check accepts and a person can type.
    return "-".join(secrets.token_hex(3) for _ in range(4))


def _pin() -> str:
    from edge.auth_session import check_pin
    from protocol.errors import ValidationError

    while True:
        pin = f"{secrets.randbelow(10**6):06d}"
        try:
            check_pin(pin)
            return pin
        except ValidationError:
            continue


def seed_server(database_url: str, clinic_name: str = "Riverside Clinic") -> tuple[str, list[StaffLogin]]:
    """A clinic with a nurse and a doctor (embedded-auth users with the clinic role); the server must have run
    once (it creates the auth schema)."""
    from sync_server import auth_users, tenancy
    from sync_server.db import Database

    db = Database(database_url, max_size=1)
    staff = [StaffLogin(f"nurse.{secrets.token_hex(2)}@riverside.example", _password(), _pin(), "nurse"),
             StaffLogin(f"doctor.{secrets.token_hex(2)}@riverside.example", _password(), _pin(), "doctor")]
    try:
        with db.admin() as conn:
            clinic = tenancy.create_clinic(conn, clinic_name)
            for s in staff:
                user = auth_users.create_user(conn, s.email, s.password, full_name=s.role.title() + " Demo")
                s.user_id = str(user.id)
                tenancy.add_staff(conn, uuid.UUID(clinic["id"]), user.id, s.role)
    finally:
        db.close()
    return clinic["id"], staff


def seed_kiosk(clinic: DemoClinic, *, records: bool = True, synced: bool = False) -> None:
    """The kiosk's store: a clinic device, every staff member signed in with their PIN (the nurse last, so the
    nurse's session is the one sync uses), enrolled with the server; with `records`, patients and a day of
    their records; with `synced`, pushed to the server once (so the console shows the clinic's day too)."""
    from edge import auth_session, config
    from edge.auth_client import SupabaseAuth
    from edge.keys import KeySource
    from edge.sync_client import SyncClient
    from edge.token_provider import SessionTokens

    clinic.kiosk_home.mkdir(parents=True, exist_ok=True)
    keys = KeySource(raw_key=bytes.fromhex(clinic.kiosk_key))
    with config.open_store(clinic.kiosk_home / "edge.db", keys, create=True) as store:
        store.set_meta("clinic_id", clinic.clinic_id)
        with SupabaseAuth(clinic.server_url) as auth:
            for s in sorted(clinic.staff, key=lambda s: s.role != "doctor"):
                tokens = auth.sign_in(s.email, s.password)
                auth_session.save_sign_in(store, tokens, clinic.server_url, auth_session.hash_pin(s.pin))
        with SyncClient(store, SessionTokens(store), server_url=clinic.server_url) as client:
            client.enroll(clinic.server_url, "Riverside kiosk 1")
            if records:
                clinic.patients = seed_day(store)
            if synced:
                client.run()


PATIENTS = [  # name, date of birth, sex, record number, smoker, readings (metric, value, unit)
    ("Amara Okafor", dt.date(1958, 3, 14), "female", "RC-1001", False,
     [("systolic_bp", 148, None), ("diastolic_bp", 92, None), ("heart_rate", 78, None), ("weight", 81, None),
      ("height", 164, None), ("total_cholesterol", 6.1, "mmol/L"), ("hdl_cholesterol", 1.2, "mmol/L"),
      ("glycated_hemoglobin", 6.4, None), ("blood_glucose", 112, None), ("oxygen_saturation", 97, None)]),
    ("Tomasz Nowak", dt.date(1971, 11, 2), "male", "RC-1002", True,
     [("systolic_bp", 132, None), ("diastolic_bp", 84, None), ("heart_rate", 88, None), ("weight", 92, None),
      ("height", 181, None), ("total_cholesterol", 5.4, "mmol/L"), ("hdl_cholesterol", 1.0, "mmol/L"),
      ("body_temperature", 37.9, None)]),
    ("Leila Haddad", dt.date(1990, 6, 23), "female", "RC-1003", False,
     [("systolic_bp", 116, None), ("diastolic_bp", 74, None), ("heart_rate", 64, None), ("weight", 63, None),
      ("height", 170, None), ("oxygen_saturation", 99, None)]),
]
SYMPTOMS = {"RC-1002": "I've had a cough and a high temperature for four days and I feel short of breath walking "
                       "up stairs"}


def seed_day(store) -> list[dict]:
    """Register the demo patients, check them in, and record their readings, a symptom and risk factors."""
    from edge import patients
    from edge.twin.inputs import RISK_FACTORS_EVENT
    from edge.voice.triage import triage

    out = []
    morning = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=2)
    for i, (name, dob, sex, mrn, smoker, readings) in enumerate(PATIENTS):
        made = patients.register(store, name=name, dob=dob, sex=sex, mrn=mrn)
        pid = uuid.UUID(made["id"])
        patients.check_in(store, pid)
        at = morning + dt.timedelta(minutes=25 * i)
        for metric, value, unit in readings:
            store.health_metrics.add({"user_id": pid, "metric_type": metric, "value": value, "unit": unit,
                                      "recorded_at": at, "source": "manual"})
        store.health_events.add({"user_id": pid, "event_type": RISK_FACTORS_EVENT,
                                 "data": {"smoker": smoker, "diabetes": False, "bp_treated": mrn == "RC-1001",
                                          "on_statin": False, "physically_active": mrn == "RC-1003"}})
        if mrn in SYMPTOMS:
            text = SYMPTOMS[mrn]
            result = triage(text)
            store.symptoms.add({"user_id": pid, "description": text, "severity": 5, "recorded_at": at,
                                "triage": result.to_dict()})
        out.append({"id": made["id"], "name": name, "mrn": mrn, "claim_code": made["claim_code"]})
    return out


@dataclass
class Running:
    """The demo clinic's processes: the seeded clinic, the kiosk's `edge serve` and its URL."""

    clinic: DemoClinic
    edge: subprocess.Popen
    edge_url: str
    idle_s: float | None = None

    def stop_edge(self) -> int:
        """Stop the kiosk's edge process (as a restart or a crash would)."""
        return stop(self.edge)

    def start_edge(self) -> None:
        """Start it again on the same port (the browser's page and service worker stay where they were)."""
        self.edge, self.edge_url = start_edge(self.clinic, int(self.edge_url.rsplit(":", 1)[1]), self.idle_s)


@contextlib.contextmanager
def clinic_running(workdir: Path, database_url: str, *, records: bool = True, idle_s: float | None = None,
                   synced: bool = False):
    """The server and a seeded kiosk's `edge serve` running; yields a Running; both stopped after."""
    secret = secrets.token_urlsafe(32)
    workdir.mkdir(parents=True, exist_ok=True)
    server, base = start_server(database_url, workdir, secret)
    running = None
    try:
        clinic_id, staff = seed_server(database_url)
        clinic = DemoClinic(base, database_url, secret, clinic_id, staff, workdir / "kiosk", secrets.token_hex(32))
        seed_kiosk(clinic, records=records, synced=synced)
        edge, edge_url = start_edge(clinic, idle_s=idle_s)
        running = Running(clinic, edge, edge_url, idle_s)
        yield running
    finally:
        if running is not None:
            running.stop_edge()
        stop(server)


def serve(workdir: Path) -> None:
    """`healthsync demo --serve`: the clinic on embedded (or DATABASE_URL) Postgres until Ctrl-C."""
    from rich.console import Console

    from sync_server.pg import ensure_database, release_embedded

    console = Console(soft_wrap=True)  # URLs and passwords stay on one line, whole
    configured = os.environ.get("DATABASE_URL")
    pgdata = workdir / "postgres"
    url = ensure_database(configured, pgdata)
    try:
        with clinic_running(workdir, url, synced=True) as running:
            clinic, edge_url = running.clinic, running.edge_url
            console.rule("[bold]HealthSync demo clinic is running")
            console.print(f"kiosk app      {edge_url}/        (API docs {edge_url}/docs)")
            console.print(f"sync server    {clinic.server_url}   (health {clinic.server_url}/health)")
            console.print(f"console        {clinic.server_url}/console   (staff: the same sign-ins)")
            console.print(f"clinic         Riverside Clinic {clinic.clinic_id}")
            for s in clinic.staff:
                console.print(f"sign in        {s.role:<7} {s.email}  password {s.password}  PIN {s.pin}")
            for p in clinic.patients:
                console.print(f"patient        {p['name']} ({p['mrn']}); phone sign-up code {p['claim_code']}")
            console.print(f"files          {workdir}")
            console.print("Press Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                console.print("stopping…")
    finally:
        if not configured:
            release_embedded(pgdata)


# ---------------------------------------------------------------- driving the kiosk in a real browser
# Shared by tests/app (the browser flow) and bench/bench_kiosk_app.py.

VOICE_WAV = REPO / "tests" / "data" / "voice" / "u02_chest_pain_breathless.wav"  # espeak-ng (make_fixtures.py)


def fake_media(out: Path) -> tuple[Path, Path]:
    """(WAV, Y4M) for chromium's fake microphone and camera: the spoken red-flag sentence padded with silence
    (chromium loops the file), and a person (skimage's astronaut photo) as a 640×480 video."""
    import numpy as np
    import soundfile as sf

    speech, rate = sf.read(VOICE_WAV, dtype="int16")
    wav = out / "speech.wav"
    sf.write(wav, np.concatenate([np.zeros(rate // 2, np.int16), speech, np.zeros(rate * 6, np.int16)]), rate,
             subtype="PCM_16")
    y4m = out / "person.y4m"
    write_y4m(y4m, person_frame(), frames=10, fps=10)
    return wav, y4m


def person_frame():
    """A 640×480 RGB frame with a person in it (the astronaut photo, letterboxed)."""
    import cv2
    import numpy as np
    from skimage import data

    frame = np.full((480, 640, 3), 235, np.uint8)
    frame[:, 80:560] = cv2.resize(data.astronaut(), (480, 480))
    return frame


def write_y4m(path: Path, rgb, frames: int, fps: int) -> None:
    """A YUV4MPEG2 (4:2:0) file of `frames` copies of one RGB frame, as chromium's fake camera reads."""
    import cv2

    h, w = rgb.shape[:2]
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes()
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + yuv)


def launch(playwright, chromium: str, media: tuple[Path, Path]):
    """The Debian chromium, headless, with the fake microphone and camera (nothing downloaded)."""
    wav, y4m = media
    return playwright.chromium.launch(executable_path=chromium, headless=True, args=[
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}", f"--use-file-for-fake-video-capture={y4m}",
        "--autoplay-policy=no-user-gesture-required", "--no-sandbox"])  # root in a container: no user namespaces


def sign_in(page, base: str, login: StaffLogin) -> None:
    """Sign in through the app's form."""
    page.goto(base + "/sign-in")
    page.get_by_label("Email", exact=True).fill(login.email)
    page.get_by_label("Password", exact=True).fill(login.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/patients")
