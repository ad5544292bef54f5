"""`healthsync edge therapy …` and `healthsync edge scan` commands."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from edge.cli_common import Passphrase, StorePath, UserOpt, open_store, resolve_user
from edge.files import write_private
from protocol.cli_output import JsonOut, emit, handle_errors

therapy_app = typer.Typer(help="Physiotherapy with pose tracking.", no_args_is_help=True)



@therapy_app.command("run")
@handle_errors
def therapy_run(
    video: Optional[Path] = typer.Argument(None, help="Video file of the exercise (any format OpenCV reads)."),
    camera: Optional[int] = typer.Option(None, "--camera", help="Use this camera (OpenCV index) instead."),
    seconds: float = typer.Option(60.0, "--seconds", help="How long to record from --camera."),
    exercise: str = typer.Option(..., "--exercise", "-e", help="squat, sit_to_stand, shoulder_abduction, "
                                 "elbow_flexion, knee_extension or heel_raise."),
    pain_before: Optional[int] = typer.Option(None, "--pain-before", min=0, max=10, help="Pain 0–10 before."),
    pain_after: Optional[int] = typer.Option(None, "--pain-after", min=0, max=10, help="Pain 0–10 after."),
    save: bool = typer.Option(True, "--save/--no-save", help="Store the session (default: yes)."),
    user: Optional[str] = UserOpt,
    verbose: bool = typer.Option(False, "--verbose", help="Show MediaPipe's own log lines on stderr."),
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Count reps, check form and score an exercise video (or camera); store the session. A video with nobody
    in view is refused (not stored, not counted in streaks)."""
    from edge.vision.therapy import session
    from protocol.errors import InputError

    if (video is None) == (camera is None):
        raise InputError("give a VIDEO file or --camera INDEX (one of them)")
    result = (session.analyse_video(video, exercise, verbose) if video is not None
              else session.analyse_camera(camera, exercise, seconds, verbose))
    out = {k: v for k, v in result.to_dict().items() if k != "events"}
    out["feedback"] = [e for e in result.events if e["kind"] != "rep"]
    if save:
        with open_store(store_path, passphrase) as store:
            out["session_id"] = str(session.save(store, resolve_user(store, user), result, pain_before,
                                                 pain_after).id)

    def human(d):
        c = Console()
        c.print(f"[bold]{exercise}[/bold]: {d['reps']} reps ({d['side']}), score {d['score']:.0f}/100 "
                f"in {d['duration_s']:.0f} s")
        for r in d["reasons"]:
            c.print(f"  • {r}")
        for e in d["feedback"][:10]:
            c.print(f"  [yellow]{e['t']:.1f}s[/yellow] {e['message']}")

    emit(out, as_json, human)


@therapy_app.command("progress")
@handle_errors
def therapy_progress(
    user: Optional[str] = UserOpt,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Points, streak, personal bests and adherence to the prescribed plan."""
    from edge.vision.therapy import gamification

    with open_store(store_path, passphrase) as store:
        data = gamification.load_progress(store, resolve_user(store, user))

    def human(d):
        c = Console()
        c.print(f"{d['points']} points · {d['sessions']} sessions · streak {d['streak_days']} days")
        for name, b in d["personal_bests"].items():
            c.print(f"  best {name}: {b['reps']} reps, score {b['score']:.0f}, range {b['rom_deg']}°")
        for p in d["plans"]:
            adh = "–" if p["adherence"] is None else f"{p['adherence']:.0%}"
            c.print(f"  plan {p['exercise']}: {p['sets']}×{p['reps']}, {p['days_per_week']} days/week → "
                    f"{p['completed_days']}/{p['prescribed_days']} days ({adh})")

    emit(data, as_json, human)


@therapy_app.command("plan")
@handle_errors
def therapy_plan(
    exercise: str = typer.Argument(..., help="Exercise name."),
    sets: int = typer.Option(3, help="Sets per day."),
    reps: int = typer.Option(10, help="Reps per set."),
    days_per_week: int = typer.Option(5, "--days", help="Days per week."),
    weeks: int = typer.Option(6, help="Length of the plan in weeks."),
    start: Optional[dt.datetime] = typer.Option(None, help="First day (default: today)."),
    user: Optional[str] = UserOpt,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Prescribe a plan: sets × reps on some days a week."""
    from edge.vision.therapy import gamification

    plan = gamification.Plan(exercise, sets, reps, days_per_week,
                             (start or dt.datetime.now(dt.UTC)).date(), weeks)
    with open_store(store_path, passphrase) as store:
        ev = gamification.save_plan(store, resolve_user(store, user), plan)
    emit({"id": str(ev.id), **ev.data}, as_json,
         lambda d: Console().print(f"plan set: {d['exercise']} {d['sets']}×{d['reps']}, {d['days_per_week']} "
                                   f"days/week for {d['weeks']} weeks from {d['start']}"))


@handle_errors
def scan(
    image: Path = typer.Argument(..., help="Photo of a prescription label, pill box or lab report (JPEG/PNG)."),
    save: bool = typer.Option(True, "--save/--no-save", help="Store lab values and medications (default: yes; a "
                              "repeat of an earlier scan is recognised and not stored twice)."),
    overlay_out: Optional[Path] = typer.Option(None, "--overlay", help="Write the overlay boxes as JSON here."),
    annotated_out: Optional[Path] = typer.Option(None, "--annotated", help="Write an annotated image here."),
    describe: bool = typer.Option(False, "--describe", help="Also caption the image with a hosted model "
                                  "(needs HF_TOKEN and the patient's image_ai consent)."),
    user: Optional[str] = UserOpt,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Scan a medical photo: OCR, medications, lab results (stored as health metrics), overlay."""
    from edge.vision.scanner import overlay
    from edge.vision.scanner import scan as scanner

    result, _ = scanner.scan(image)
    out = result.to_dict()
    if overlay_out:
        write_private(overlay_out, json.dumps(result.overlay, indent=2))  # the report's text: PHI, owner-only
    if annotated_out:
        import cv2

        from edge.vision.scanner.image import decode

        rgb = decode(image)
        bgr = cv2.cvtColor(overlay.annotate(rgb, result.overlay), cv2.COLOR_RGB2BGR)
        try:
            ok, encoded = cv2.imencode(annotated_out.suffix or ".png", bgr)
        except cv2.error:
            ok = False
        if not ok:
            from protocol.errors import InputError

            raise InputError(f"cannot write an image as {annotated_out.suffix!r}", hint="use .png or .jpg")
        write_private(annotated_out, encoded.tobytes())  # a photo of a prescription: owner-only
    if save or describe:
        with open_store(store_path, passphrase) as store:
            user_id = resolve_user(store, user)
            if describe:
                from edge.consent import allowed
                from edge.vision.scanner.describe import describe as hosted

                out["description"] = hosted(image.read_bytes(),
                                            consent=allowed(store, user_id, "image_ai")).__dict__
            if save:
                out["saved"] = scanner.save(store, user_id, result)

    def human(d):
        c = Console()
        for r in d["labs"]:
            flag = f" [red]{r['flag']['value']}[/red]" if r["flag"] else ""
            c.print(f"lab  {r['analyte']['value']}: {r['value']['value']:g} {r['unit']['value']}{flag} "
                    f"(= {r['canonical_value']:g} {r['canonical_unit']})")
        for m in d["medications"]:
            parts = [m["name"]["value"], m["strength"] and f"{m['strength']['value']:g} {m['unit']['value']}",
                     m["frequency"] and m["frequency"]["value"], m["route"] and m["route"]["value"]]
            c.print("med  " + " · ".join(p for p in parts if p))
        for w in d["warnings"]:
            c.print(f"[yellow]{w}[/yellow]")
        if d.get("description"):
            desc = d["description"]
            c.print(f"description: {desc['text'] or '(skipped: ' + desc['skipped_reason'] + ')'}")
        saved = d.get("saved")
        if saved and saved.get("repeat_of"):
            rep = saved["repeat_of"]
            c.print(f"[yellow]not stored again: {rep['why']} (scan {rep['event_id']}, {rep['scanned_at']})[/yellow]")
        elif saved:
            dated = f", dated {d['collected_on']} (printed collection date)" if d.get("collected_on") else ""
            c.print(f"stored {len(saved['metric_ids'])} lab values{dated} and "
                    f"{len(saved['medication_ids'])} medications")

    emit(out, as_json, human)
