"""A self-contained HTML report a patient can read: today's risks, the family picture, and plotted futures."""
from __future__ import annotations

import base64
import html
import io
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
    for sc in simulation["scenarios"].values():
        pts = [p for p in sc.get("risks", {}).get(name, []) if p["probability"] is not None]
        if pts:
            ax.plot([p["years"] for p in pts], [100 * p["probability"] for p in pts], marker="o", label=sc["label"])
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
    return (f"<tr><td>{html.escape(TITLES.get(r.name, r.name))}</td><td><b>{value}</b>{html.escape(extra)}{why}</td>"
            f"<td><small>{html.escape(r.model_name)} {html.escape(r.model_version)}</small></td></tr>")


def render(results: list[RiskResult], simulation: dict[str, Any], family: dict[str, Any] | None = None) -> str:
    """The report as one HTML string (images embedded, nothing fetched)."""
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Your health twin</title>",
             "<style>body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222}"
             "td{border-bottom:1px solid #ddd;padding:6px;vertical-align:top}small{color:#666}</style></head><body>",
             "<h1>Your health twin</h1>",
             "<p>Estimates from published equations and on-device models. They describe groups of people like you, "
             "not certainties; talk them through with your doctor.</p>",
             "<h2>Today</h2><table>", *(_row(r) for r in results), "</table>"]
    if family:
        parts.append("<h2>Family history</h2><ul>")
        parts.extend(f"<li>{html.escape(line)}</li>" for line in family.get("explanation", []))
        parts.append("</ul>")
    parts.append("<h2>Your future under different choices</h2>")
    for sc in simulation["scenarios"].values():
        note = sc.get("skipped")
        parts.append(f"<p><b>{html.escape(sc['label'])}</b>: {html.escape(sc['assumption'])}"
                     + (f" — <i>not simulated: {html.escape(note)}</i>" if note else "") + "</p>")
    for r in results:
        png = _plot(r.name, simulation)
        if png:
            parts.append(f"<img alt='{html.escape(r.name)}' src='data:image/png;base64,{png}'>")
    parts.append("<p><small>Points past an equation's age range are left out rather than extrapolated.</small></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def save(path: Path, results: list[RiskResult], simulation: dict[str, Any], family: dict[str, Any] | None = None
         ) -> Path:
    """Write the HTML report locally (created owner-only: it holds health data)."""
    from edge.files import write_private

    return write_private(path, render(results, simulation, family))
