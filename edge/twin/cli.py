"""`healthsync edge twin …` commands: each opens the store and calls one function of the twin library."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from edge.cli_common import Passphrase, StorePath, UserOpt, open_store, resolve_user
from protocol.cli_output import JsonOut, emit, handle_errors

app = typer.Typer(help="Health twin: risk equations, ONNX risk models, simulation.", no_args_is_help=True)
family_app = typer.Typer(help="Family history: relatives, their conditions, the inherited-risk summary.",
                         no_args_is_help=True)
app.add_typer(family_app, name="family")

ModelsDir = typer.Option(None, "--models-dir", help="Models folder with manifest.json (default: shipped models).")




def _results_table(results: list[dict]) -> Table:
    table = Table("risk", "result", "model")
    for r in results:
        if r["probability"] is None:
            value = f"not applicable: {r['reason']}"
        else:
            value = f"{100 * r['probability']:.1f}%"
            if r["score"] is not None:
                value += f" (score {r['score']:g}, {r['category']})"
        table.add_row(r["name"], value, f"{r['model_name']} {r['model_version']}")
    return table


@app.command()
@handle_errors
def factors(
    dob: Optional[dt.datetime] = typer.Option(None, "--dob", formats=["%Y-%m-%d"], help="Date of birth."),
    sex: Optional[str] = typer.Option(None, help="female or male (sex at birth, as the equations use)."),
    race: Optional[str] = typer.Option(None, help="white, african_american or other (Pooled Cohort Equations)."),
    smoker: Optional[bool] = typer.Option(None, "--smoker/--no-smoker", help="Current smoker."),
    diabetes: Optional[bool] = typer.Option(None, "--diabetes/--no-diabetes", help="Diagnosed diabetes."),
    bp_treated: Optional[bool] = typer.Option(None, "--bp-treated/--no-bp-treated", help="Takes BP medication."),
    statin: Optional[bool] = typer.Option(None, "--statin/--no-statin", help="Takes a statin."),
    active: Optional[bool] = typer.Option(None, "--active/--not-active", help="≥30 min physical activity daily."),
    vegetables: Optional[bool] = typer.Option(None, "--vegetables/--no-vegetables",
                                              help="Eats vegetables, fruit or berries every day."),
    high_glucose: Optional[bool] = typer.Option(None, "--high-glucose/--no-high-glucose",
                                                help="Ever told your blood glucose was high."),
    answer: Optional[list[str]] = typer.Option(
        None, "--answer", help="QRISK3/PREVENT answer NAME=VALUE, repeatable: ethnicity=indian, townsend=-1.2, "
                               "atrial_fibrillation=no, ex_smoker=yes, cigarettes_per_day=12, diabetes_type=type2, "
                               "family_chd_under_60=no, uacr=25, sdi_decile=4, …"),
    user: Optional[str] = UserOpt,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Record profile and risk-factor answers the equations need (merged with earlier answers)."""
    from edge.twin.equations.pce import race_answer
    from edge.twin.inputs import RISK_FACTORS_EVENT, PatientInputs, latest_factors, parse_answer
    from protocol.errors import InputError

    # Every answer is checked before anything is written.
    answers = {"race": race_answer(race) if race is not None else None,  # "Black" → african_american
               "smoker": smoker, "diabetes": diabetes, "bp_treated": bp_treated, "on_statin": statin,
               "physically_active": active, "daily_vegetables": vegetables, "high_glucose_history": high_glucose}
    for item in answer or []:
        name, sep, text = item.partition("=")
        if not sep:
            raise InputError(f"--answer {item!r} is not NAME=VALUE", field="answer")
        answers[name.strip()] = parse_answer(name.strip(), text.strip())
    with open_store(store_path, passphrase) as store:
        uid = resolve_user(store, user)
        merged = latest_factors(store, uid) | {k: v for k, v in answers.items() if v is not None}
        # The merged answers must agree with each other and with the sex (age is irrelevant to that check).
        PatientInputs(age=50.0, sex=sex or store.users.get(uid).sex or "male", **merged)
        profile = {k: v for k, v in (("date_of_birth", dob.date() if dob else None), ("sex", sex)) if v is not None}
        if profile:
            store.users.update(uid, **profile)
        if any(v is not None for v in answers.values()):
            store.health_events.add({"user_id": uid, "event_type": RISK_FACTORS_EVENT, "data": merged})
    emit({"user_id": str(uid), "profile": {k: str(v) for k, v in profile.items()}, "risk_factors": merged},
         as_json, lambda d: Console().print_json(data=d))


@app.command()
@handle_errors
def report(
    html: Optional[Path] = typer.Option(None, "--html", help="Also write the clinician's HTML report here (inputs "
                                        "and sources, equation versions and validity)."),
    user: Optional[str] = UserOpt,
    models_dir: Optional[Path] = ModelsDir,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Today's risk panel (equations + ONNX models), stored as predictions unless the inputs are unchanged."""
    from edge.twin.twin import assess

    with open_store(store_path, passphrase) as store:
        uid = resolve_user(store, user)
        a = assess(store, uid, models_dir=models_dir)
        data = a.to_dict()
        if html:
            # The clinician's report: every input with its source, each equation's version and validity.
            from edge.twin import report as html_report
            from edge.twin.models import read_manifest
            from edge.twin.simulate import simulate

            html_report.save_clinician(html, a.results, simulate(a.inputs, models_dir=models_dir), a.inputs.to_dict(),
                                       html_report.input_sources(store, uid), patient=store.users.get(uid).full_name,
                                       family=a.family, manifest=read_manifest(models_dir))
            data["html"] = str(html)

    def human(d):
        c = Console()
        c.print(_results_table(d["results"]))
        if d["family"]:
            for line in d["family"]["explanation"]:
                c.print(f"family: {line}")
        c.print(f"stored {len(d['stored']['written'])} new predictions, {len(d['stored']['cached'])} unchanged")
        if d.get("html"):
            c.print(f"report written to {d['html']}")

    emit(data, as_json, human)


@app.command()
@handle_errors
def simulate(
    scenario: Optional[list[str]] = typer.Option(None, "--scenario", help="as_is, quit_smoking, sbp_minus_10, "
                                                 "lose_5kg, start_statin (repeatable; default all)."),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write the HTML report with plots here."),
    user: Optional[str] = UserOpt,
    models_dir: Optional[Path] = ModelsDir,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Project each risk over 5, 10 and 20 years under lifestyle and treatment scenarios (--html: the patient's
    plain-language report)."""
    from edge.twin import inputs as twin_inputs
    from edge.twin.simulate import simulate as run

    with open_store(store_path, passphrase) as store:
        uid = resolve_user(store, user)
        inputs = twin_inputs.from_store(store, uid)
        result = run(inputs, scenario or None, models_dir=models_dir)
        if html:
            from edge.twin import report as html_report
            from edge.twin.panel import risk_panel
            from edge.twin.twin import family_summary

            html_report.save(html, risk_panel(inputs, models_dir), result, family_summary(store, uid))
            result["html"] = str(html)

    def human(d):
        c = Console()
        for sc in d["scenarios"].values():
            if "skipped" in sc:
                c.print(f"[b]{sc['label']}[/b]: not simulated ({sc['skipped']})")
                continue
            table = Table(title=f"{sc['label']} — {sc['assumption']}", title_justify="left")
            table.add_column("risk")
            for years in d["horizons"]:
                table.add_column(f"+{years} y")
            for risk, pts in sc["risks"].items():
                table.add_row(risk, *("n/a" if p["probability"] is None else
                                      f"{100 * p['probability']:.1f}%" + ("*" if p.get("adjusted") else "")
                                      for p in pts))
            c.print(table)
            notes = sorted({p["adjusted"] for pts in sc["risks"].values() for p in pts if p.get("adjusted")})
            for note in notes:
                c.print(f"  * {note}")

    emit(result, as_json, human)


@family_app.command("add")
@handle_errors
def family_add(
    relation: str = typer.Argument(..., help="mother, father, sister, brother, son, daughter, grandmother, "
                                   "grandfather, aunt, uncle, cousin, half_sister, half_brother, other."),
    condition: Optional[list[str]] = typer.Option(None, "--condition",
                                                  help="NAME or NAME:AGE_OF_ONSET (repeatable)."),
    name: Optional[str] = typer.Option(None, help="The relative's name."),
    user: Optional[str] = UserOpt,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Add a relative to the family graph."""
    from protocol.errors import InputError
    from protocol.schema import new_id

    conditions = []
    for item in condition or []:
        cname, _, age = item.partition(":")
        if age and not age.strip().isdigit():
            raise InputError(f"age of onset in {item!r} must be whole years", field="condition")
        conditions.append({"name": cname.strip(), "age_of_onset": int(age) if age else None})
    member = {"relation": relation, "name": name, "conditions": conditions}
    with open_store(store_path, passphrase) as store:
        uid = resolve_user(store, user)
        graphs = store.family_graph.list(owner=uid, limit=1)
        mid = str(new_id())
        if graphs:
            graph = store.family_graph.update(graphs[0].id, members={mid: member})
        else:
            graph = store.family_graph.add({"user_id": uid, "members": {mid: member}})
    emit({"member_id": mid, "family_graph_id": str(graph.id)}, as_json,
         lambda d: Console().print(f"added {relation} ({d['member_id']})"))


@family_app.command("show")
@handle_errors
def family_show(
    user: Optional[str] = UserOpt,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Show relatives and the inherited-risk summary (which relatives drive it)."""
    from edge.twin.family import inherited_risk

    with open_store(store_path, passphrase) as store:
        uid = resolve_user(store, user)
        graphs = store.family_graph.list(owner=uid, limit=1)
    members = graphs[0].members if graphs else {}
    data = {"members": {k: json.loads(v.model_dump_json()) for k, v in members.items()},
            "inherited_risk": inherited_risk(members).to_dict()}

    def human(d):
        c = Console()
        for m in d["members"].values():
            conds = ", ".join(f"{x['name']}" + (f" at {x['age_of_onset']}" if x["age_of_onset"] is not None else "")
                              for x in m["conditions"]) or "no conditions recorded"
            c.print(f"{m['relation']}{' ' + m['name'] if m['name'] else ''}: {conds}")
        for line in d["inherited_risk"]["explanation"]:
            c.print(f"→ {line}")

    emit(data, as_json, human)
