"""FINDRISC: the Finnish Diabetes Risk Score for 10-year type 2 diabetes risk (0–26 points).

Lindström J, Tuomilehto J. The diabetes risk score: a practical tool to predict type 2 diabetes risk. Diabetes Care
2003;26:725–731, and the FINDRISC form of the Finnish Diabetes Association (points, categories and the estimated
10-year risk of each category: 1 in 100, 1 in 25, 1 in 6, 1 in 3, 1 in 2).
"""
from __future__ import annotations

from edge.twin.equations import checks
from edge.twin.equations.result import RiskResult, not_applicable, out_of_range
from protocol.errors import InputError

NAME = "findrisc"
VERSION = "lindstrom2003"
# Derivation-cohort ROC AUC for drug-treated diabetes over 10 years (Lindström 2003): 0.85 (1987 cohort).
C_STATISTIC = 0.85

# (lowest score, category, estimated 10-year risk from the FINDRISC form)
CATEGORIES = (
    (0, "low", 0.01),
    (7, "slightly elevated", 0.04),
    (12, "moderate", 1 / 6),
    (15, "high", 1 / 3),
    (21, "very high", 0.5),
)

FAMILY_POINTS = {"none": 0, "second_degree": 3, "first_degree": 5}
# Validity: the score was derived in adults (Lindström 2003: ages 35–64; the form's bands run from "under 45" to
# "over 64") and is used for adults, so under-18s are "not applicable" rather than scored "0, low". The BMI and
# waist ranges only catch impossible values (same bounds as the store's metrics), which are errors.
AGE_RANGE = (18, 120)
PLAUSIBLE = {"age": (0, 120), "bmi": (8, 90), "waist_cm": (30, 250)}


def points(sex: str, age: float, bmi: float, waist_cm: float, physically_active: bool, daily_vegetables: bool,
           bp_medication: bool, high_glucose_history: bool, family_diabetes: str) -> dict[str, int]:
    """Points per FINDRISC item (the form's eight questions); refuses inputs the form cannot score."""
    sex = checks.sex(sex)
    for field, value in (("age", age), ("bmi", bmi), ("waist_cm", waist_cm)):
        low, high = PLAUSIBLE[field]
        if not low <= checks.number(field, value, positive=True) <= high:
            raise InputError(f"{field} {value:g} is impossible (plausible {low:g}–{high:g})", field=field)
    for field, value in (("physically_active", physically_active), ("daily_vegetables", daily_vegetables),
                         ("bp_medication", bp_medication), ("high_glucose_history", high_glucose_history)):
        checks.flag(field, value)
    checks.choice("family_diabetes", family_diabetes, FAMILY_POINTS)
    age_pts = 0 if age < 45 else 2 if age < 55 else 3 if age < 65 else 4
    bmi_pts = 0 if bmi < 25 else 1 if bmi <= 30 else 3
    low, high = (94, 102) if sex == "male" else (80, 88)
    waist_pts = 0 if waist_cm < low else 3 if waist_cm <= high else 4
    return {
        "age": age_pts, "bmi": bmi_pts, "waist": waist_pts,
        "physical_activity": 0 if physically_active else 2,
        "vegetables": 0 if daily_vegetables else 1,
        "bp_medication": 2 if bp_medication else 0,
        "high_glucose_history": 5 if high_glucose_history else 0,
        "family_diabetes": FAMILY_POINTS[family_diabetes],
    }


def category(score: int) -> tuple[str, float]:
    """Risk category and the form's estimated 10-year risk for a total score."""
    name, risk = CATEGORIES[0][1:]
    for low, cat, est in CATEGORIES:
        if score >= low:
            name, risk = cat, est
    return name, risk


def t2d_10y(sex: str, age: float, bmi: float, waist_cm: float, physically_active: bool, daily_vegetables: bool,
            bp_medication: bool, high_glucose_history: bool, family_diabetes: str) -> RiskResult:
    """FINDRISC score, category and the category's estimated 10-year type 2 diabetes risk (adults only)."""
    template = {"name": NAME, "disease": "type2_diabetes", "model_name": NAME, "model_version": VERSION,
                "horizon_years": 10, "confidence": C_STATISTIC}
    items = points(sex, age, bmi, waist_cm, physically_active, daily_vegetables, bp_medication,
                   high_glucose_history, family_diabetes)
    reason = out_of_range([("age", age, *AGE_RANGE, "years")])
    if reason:
        return not_applicable(template, reason)
    score = sum(items.values())
    cat, risk = category(score)
    return RiskResult(**template, probability=risk, score=float(score), category=cat, details={"points": items})
