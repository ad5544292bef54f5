"""Self-contained HTML reports: a plain-language one for the patient (`twin simulate --html`) and a clinician's
one (`twin report --html`) with every input and its source, each equation's version and validity, model versions."""
from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import importlib
import io
import pkgutil
from pathlib import Path
from typing import Any

from edge.twin.equations.result import RiskResult

TITLES = {
    "pce_ascvd_10y": "Heart attack or stroke in 10 years (ACC/AHA Pooled Cohort Equations)",
    "framingham_cvd_10y": "Any cardiovascular disease in 10 years (Framingham 2008)",
    "prevent_cvd_10y": "Any cardiovascular disease in 10 years (AHA PREVENT 2023)",
    "prevent_ascvd_10y": "Heart attack or stroke in 10 years (AHA PREVENT 2023)",
    "findrisc": "Type 2 diabetes in 10 years (FINDRISC questionnaire score)",
    "pima_diabetes_logreg": "Diabetes now (learned model: logistic regression, Pima data)",
    "pima_diabetes_gbm": "Diabetes now (learned model: gradient boosting, Pima data)",
}


def _plot(name: str, simulation: dict[str, Any]) -> str | None:
    """One risk's scenarios over the horizons as a base64 PNG (None when nothing is applicable)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=100)
    drawn = False
    # Scenarios often coincide (a statin does not change a diabetes risk): each line gets its own marker, dash
    # and width, drawn widest first, so lines lying on top of each other all stay visible.
    styles = [("o", "-", 4.0), ("s", "--", 3.2), ("^", "-.", 2.4), ("D", ":", 1.8), ("v", (0, (5, 1, 1, 1)), 1.2),
              ("x", (0, (1, 1)), 1.0)]
    for k, sc in enumerate(simulation["scenarios"].values()):
        pts = [p for p in sc.get("risks", {}).get(name, []) if p["probability"] is not None]
        if pts:
            marker, dash, width = styles[k % len(styles)]
            ax.plot([p["years"] for p in pts], [100 * p["probability"] for p in pts], marker=marker, linestyle=dash,
                    linewidth=width, markersize=4 + width, markerfacecolor="none", label=sc["label"], alpha=0.85)
            drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("years from today")
    ax.set_ylabel("risk (%)")
    ax.set_title(TITLES.get(name, name), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _row(r: RiskResult) -> str:
    value = f"{r.percent:.1f}%" if r.probability is not None else "not applicable"
    extra = f" (score {r.score:g}, {r.category})" if r.score is not None else ""
    why = f"<br><small>{html.escape(r.reason)}</small>" if r.reason else ""
    if r.details.get("caveat"):
        why += f"<br><small>Careful: {html.escape(r.details['caveat'])}.</small>"
    return (f"<tr><td>{html.escape(TITLES.get(r.name, r.name))}</td><td><b>{value}</b>{html.escape(extra)}{why}</td>"
            f"<td><small>{html.escape(r.model_name)} {html.escape(r.model_version)}</small></td></tr>")


def _family(family: dict[str, Any] | None) -> list[str]:
    if not family:
        return []
    return ["<h2>Family history</h2><ul>", *(f"<li>{html.escape(line)}</li>" for line in family.get("explanation", [])),
            "</ul>"]


def _futures(results: list[RiskResult], simulation: dict[str, Any]) -> list[str]:
    """Each scenario's assumption, then one plot per risk."""
    parts = []
    for sc in simulation["scenarios"].values():
        note = sc.get("skipped")
        parts.append(f"<p><b>{html.escape(sc['label'])}</b>: {html.escape(sc['assumption'])}"
                     + (f" — <i>not simulated: {html.escape(note)}</i>" if note else "") + "</p>")
    for r in results:
        png = _plot(r.name, simulation)
        if png:
            parts.append(f"<img alt='{html.escape(r.name)}' src='data:image/png;base64,{png}'>")
    return parts


def render(results: list[RiskResult], simulation: dict[str, Any], family: dict[str, Any] | None = None) -> str:
    """The report as one HTML string (images embedded, nothing fetched)."""
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Your health twin</title>",
             "<style>body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222}"
             "td{border-bottom:1px solid #ddd;padding:6px;vertical-align:top}small{color:#666}</style></head><body>",
             "<h1>Your health twin</h1>",
             "<p>Estimates from published equations and on-device models. They describe groups of people like you, "
             "not certainties; talk them through with your doctor.</p>",
             "<h2>Today</h2><table>", *(_row(r) for r in results), "</table>"]
    parts += _family(family)
    parts.append("<h2>Your future under different choices</h2>")
    parts += _futures(results, simulation)
    parts.append("<p><small>Points past an equation's age range are left out rather than extrapolated.</small></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


@functools.lru_cache(maxsize=1)
def _equation_modules() -> dict[str, Any]:
    """Equation modules by VERSION (each documents its source and validity in its docstring)."""
    import edge.twin.equations as pkg

    out = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        if isinstance(getattr(module, "VERSION", None), str):
            out[module.VERSION] = module
    return out


def validity_notes(r: RiskResult, manifest: dict[str, Any] | None = None) -> str:
    """Source and validity of what produced a result: the equation module's documentation, or the model's
    population, input ranges and file hash from the manifest."""
    module = _equation_modules().get(r.model_version)
    if module is not None and module.__doc__:
        note = r.details.get("validity")
        return (f"Validity: {note}. " if note else "") + "Source: " + " ".join(module.__doc__.split())
    entry = next((m for m in (manifest or {}).get("models", []) if m.get("name") == r.model_name), None)
    if entry is None:
        return "no documentation found"
    from edge.twin.models import population_caveat

    ranges = ", ".join(f"{i['name']} {i['range'][0]:g}–{i['range'][1]:g} {i['unit']}" for i in entry["inputs"]
                       if i.get("range"))
    metrics = entry.get("metrics", {})
    ci = metrics.get("auc_ci95")
    auc = f"held-out AUC {metrics['auc']:.3f}" + (f" (95% CI {ci[0]:.3f}–{ci[1]:.3f})" if ci else "") \
        if "auc" in metrics else ""
    parts = [entry.get("description", ""), population_caveat(entry) or "", f"input ranges: {ranges}" if ranges else "",
             auc, f"Brier {metrics['brier']:.3f}" if "brier" in metrics else "",
             f"sha256 {entry['sha256'][:16]}…", entry.get("training_data", {}).get("source", "")]
    return "; ".join(p for p in parts if p)


def input_sources(store: Any, user_id: Any) -> dict[str, str]:
    """Where each twin input came from: the profile, the newest metric of its type (when and how it was recorded),
    the newest risk-factor answers, or the family graph."""
    from edge.twin.inputs import FACTOR_FIELDS, METRIC_FIELDS, RISK_FACTORS_EVENT

    out = {"age": "profile (date of birth)", "sex": "profile"}
    for name, metric in METRIC_FIELDS.items():
        rows = store.health_metrics.list(owner=user_id, metric_type=metric, limit=1)
        if rows:
            m = rows[0]
            out[name] = f"{metric}, recorded {m.recorded_at:%Y-%m-%d} ({m.source})"
    events = store.health_events.list(owner=user_id, event_type=RISK_FACTORS_EVENT, limit=1)
    for name in (*FACTOR_FIELDS, "race"):
        if events and events[0].data.get(name) is not None:
            out[name] = f"risk-factor answers of {events[0].occurred_at:%Y-%m-%d}"
    if store.family_graph.list(owner=user_id, limit=1):
        out["family_diabetes"] = out["premature_cvd_family"] = "family graph"
    return out


def _value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def render_clinician(results: list[RiskResult], simulation: dict[str, Any], inputs: dict[str, Any],
                     sources: dict[str, str], *, patient: str | None, on: dt.date | None = None,
                     family: dict[str, Any] | None = None, manifest: dict[str, Any] | None = None) -> str:
    """The clinician's report as one HTML string: patient, date, inputs with sources, results with the
    version and validity of each equation and model, and the projections."""
    on = on or dt.date.today()
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Risk assessment</title>",
             "<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222;font-size:14px}"
             "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 6px;"
             "vertical-align:top;text-align:left}small{color:#555}</style></head><body>",
             "<h1>Cardiometabolic risk assessment — clinician report</h1>",
             f"<p><b>Patient:</b> {e(patient or 'name not recorded')} &nbsp; <b>Date:</b> {on.isoformat()}</p>",
             "<h2>Inputs</h2><table><tr><th>input</th><th>value (canonical unit)</th><th>source</th></tr>"]
    for name, value in inputs.items():
        parts.append(f"<tr><td>{e(name)}</td><td>{e(_value(value))}</td>"
                     f"<td><small>{e(sources.get(name, 'not recorded' if value is None else 'default'))}</small>"
                     "</td></tr>")
    parts.append("</table><h2>Results</h2><table><tr><th>risk</th><th>result</th><th>equation / model, version"
                 "</th><th>source and validity</th></tr>")
    for r in results:
        value = f"{r.percent:.1f}%" if r.probability is not None else "not applicable"
        if r.score is not None:
            value += f" (score {r.score:g}, {r.category})"
        why = f"<br><small>{e(r.reason)}</small>" if r.reason else ""
        caveat = f"<br><small><i>{e(r.details['caveat'])}</i></small>" if r.details.get("caveat") else ""
        parts.append(f"<tr><td>{e(r.name)}</td><td><b>{e(value)}</b>{why}{caveat}</td>"
                     f"<td>{e(r.model_name)} {e(r.model_version)}</td>"
                     f"<td><small>{e(validity_notes(r, manifest))}</small></td></tr>")
    parts.append("</table>")
    parts += _family(family)
    parts.append("<h2>Projections</h2>")
    held = sorted({p["adjusted"] for sc in simulation["scenarios"].values() for pts in sc.get("risks", {}).values()
                   for p in pts if p.get("adjusted")})
    if held:
        parts.append("<p><small>Adjusted points: " + " ".join(e(h) + "." for h in held) + "</small></p>")
    parts += _futures(results, simulation)
    parts.append("</body></html>")
    return "\n".join(parts)


def _write(path: Path, page: str) -> Path:
    """Write an HTML file created owner-only (0600) from the start, atomically: it holds health data."""
    from edge.files import write_private

    return write_private(path, page)


def save(path: Path, results: list[RiskResult], simulation: dict[str, Any], family: dict[str, Any] | None = None
         ) -> Path:
    """Write the patient's plain-language HTML report (owner-only permissions)."""
    return _write(path, render(results, simulation, family))


def save_clinician(path: Path, results: list[RiskResult], simulation: dict[str, Any], inputs: dict[str, Any],
                   sources: dict[str, str], **kwargs: Any) -> Path:
    """Write the clinician's HTML report (owner-only permissions)."""
    return _write(path, render_clinician(results, simulation, inputs, sources, **kwargs))
