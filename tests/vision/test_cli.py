"""`healthsync edge scan` and `healthsync edge therapy …` through Typer's runner, against a real store."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import typer
from typer.testing import CliRunner

from edge.vision.cli import scan, therapy_app

runner = CliRunner()
# The lead registers `scan` on the edge app; an app of our own keeps these tests independent of that line.
app = typer.Typer()
app.command("scan")(scan)
app.add_typer(therapy_app, name="therapy")


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHSYNC_HOME", str(tmp_path))
    monkeypatch.setenv("HEALTHSYNC_KEY", "33" * 32)
    monkeypatch.delenv("HEALTHSYNC_PASSPHRASE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    from edge import config

    with config.open_store(create=True) as store:
        user = store.users.add({"full_name": "Test Patient"})
        store.set_meta("user_id", str(user.id))
    return tmp_path


def run(*args):
    return runner.invoke(app, list(args))


@pytest.mark.heavy
def test_scan_stores_lab_values_and_writes_the_overlay(env):
    from edge.vision.scanner import synth

    photo = env / "labs.jpg"
    sample = synth.lab_report(11)
    photo.write_bytes(sample.image)
    out = run("scan", str(photo), "--json", "--overlay", str(env / "ov.json"), "--annotated",
              str(env / "ann.png"), "--describe")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert {r["analyte"]["value"] for r in data["labs"]} == {s["analyte"] for s in sample.labs}
    assert len(data["saved"]["metric_ids"]) == len(sample.labs)
    assert data["description"]["text"] is None and "consented" in data["description"]["skipped_reason"]
    assert json.loads((env / "ov.json").read_text())["items"]
    assert (env / "ann.png").stat().st_size > 1000
    # The overlay holds the report's text and the image the photo: both owner-only (issue 9 item 10).
    assert {oct((env / f).stat().st_mode & 0o777) for f in ("ov.json", "ann.png")} == {"0o600"}


def test_scan_refuses_a_non_image_cleanly(env):
    bad = env / "notes.jpg"
    bad.write_text("not an image at all")
    out = run("scan", str(bad))
    assert out.exit_code == 1
    assert "BAD_INPUT" in out.output and "not a readable image" in out.output and "Traceback" not in out.output


def test_therapy_run_refuses_a_broken_video(env):
    video = env / "broken.mp4"
    video.write_bytes(b"\x00" * 100)
    out = run("therapy", "run", "--exercise", "squat", str(video))
    assert out.exit_code == 1 and "BAD_INPUT" in out.output


def test_therapy_run_unknown_exercise(env):
    out = run("therapy", "run", "--exercise", "burpee", str(env / "x.mp4"))
    assert out.exit_code == 1 and "unknown exercise 'burpee'" in out.output


def test_plan_then_progress(env):
    from edge import config

    assert run("therapy", "plan", "squat", "--sets", "2", "--reps", "5", "--days", "7").exit_code == 0
    with config.open_store() as store:
        store.therapy_sessions.add({"user_id": config.primary_user(store), "exercise": "squat", "reps": 10,
                                    "score": 88, "duration_s": 120,
                                    "started_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
                                    "details": {"clean_reps": 9, "rom_deg": {"mean": 85, "max": 91}}})
    out = run("therapy", "progress", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["points"] == 10 * 10 + 9 * 5 + 25 and data["streak_days"] == 1
    assert data["plans"][0]["completed_days"] == 1 and data["plans"][0]["adherence"] == 1.0
    human = run("therapy", "progress")
    assert "170 points" in human.output and "plan squat: 2×5" in human.output


@pytest.mark.heavy
def test_therapy_run_on_a_video_stores_the_session(env):
    import cv2
    from skimage import data

    video = env / "still.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (512, 512))
    for _ in range(10):
        writer.write(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    writer.release()
    out = run("therapy", "run", "--exercise", "elbow_flexion", str(video), "--pain-before", "5",
              "--pain-after", "4", "--json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["reps"] == 0 and result["frames"] == 10 and result["score"] == 0
    from edge import config

    with config.open_store() as store:
        row = store.therapy_sessions.get(result["session_id"])
    assert (row.exercise, row.reps, row.pain_before, row.pain_after) == ("elbow_flexion", 0, 5, 4)


def test_therapy_run_needs_exactly_one_source(env):
    out = run("therapy", "run", "--exercise", "squat")
    assert out.exit_code == 1 and "VIDEO file or --camera" in out.output


def test_export_table_medications(env):
    from edge import config
    from edge.cli import app as edge_app
    from edge.vision.scanner.parse import Field, Medication
    from edge.vision.scanner.scan import ScanResult, save

    med = Medication(Field("lisinopril", 0.99), Field(10.0, 0.99), Field("mg", 0.99), Field("QD", 0.9),
                     Field("oral", 0.9), [0, 0, 1, 1])
    with config.open_store() as store:
        save(store, config.primary_user(store), ScanResult([], [med], {}, {}, [], 0.0, image_sha256="cd" * 32))
    for fmt in ("json", "csv"):
        out = runner.invoke(edge_app, ["export", "--table", "medications", "--format", fmt])
        assert out.exit_code == 0, out.output
        assert "lisinopril" in out.stdout and "QD" in out.stdout
