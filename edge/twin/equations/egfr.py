"""Estimated GFR from serum creatinine: the race-free CKD-EPI 2021 equation.

Inker LA et al. New creatinine- and cystatin C-based equations to estimate GFR without race. N Engl J Med
2021;385:1737–1749: eGFR = 142 × min(Scr/κ, 1)^α × max(Scr/κ, 1)^−1.200 × 0.9938^age × 1.012 [female],
κ = 0.7 (female) / 0.9 (male), α = −0.241 (female) / −0.302 (male); Scr in mg/dL, eGFR in mL/min/1.73 m².
"""
from __future__ import annotations

from edge.twin.equations import checks


def ckd_epi_2021(sex: str, age: float, creatinine_mg_dl: float) -> float:
    """eGFR in mL/min/1.73 m² (CKD-EPI 2021, race-free); creatinine ≤ 0, NaN or infinite is refused."""
    sex = checks.sex(sex)
    age = checks.number("age", age, positive=True)
    creatinine_mg_dl = checks.number("creatinine", creatinine_mg_dl, positive=True)
    kappa, alpha = (0.7, -0.241) if sex == "female" else (0.9, -0.302)
    ratio = creatinine_mg_dl / kappa
    egfr = 142.0 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938 ** age
    return egfr * 1.012 if sex == "female" else egfr
