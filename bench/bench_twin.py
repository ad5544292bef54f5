"""Benchmark: the full risk panel (all equations + all ONNX models) for one patient and for 10,000 patients,
against the same models run through scikit-learn in the same process. Run: python bench/bench_twin.py [--quick]."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.twin import models  # noqa: E402
from edge.twin.inputs import PatientInputs  # noqa: E402
from edge.twin.panel import EQUATIONS, risk_panel, run_equation  # noqa: E402

PATIENT = PatientInputs(age=52, sex="female", race="white", total_cholesterol=210, hdl_cholesterol=48,
                        systolic_bp=138, diastolic_bp=84, blood_glucose=150, weight=82, height=165,
                        waist_circumference=91, creatinine=0.9, smoker=True, diabetes=False, bp_treated=False,
                        on_statin=False,
                        physically_active=False, daily_vegetables=True, high_glucose_history=False,
                        # QRISK3's answers, so the panel scores it rather than naming what is missing
                        ethnicity="white_or_not_stated", townsend=0.5, sbp_sd=8, cigarettes_per_day=12,
                        family_chd_under_60=False, atrial_fibrillation=False, atypical_antipsychotics=False,
                        corticosteroids=False, migraine=False, rheumatoid_arthritis=False, ckd_3_5=False,
                        severe_mental_illness=False, sle=False)


def per_call(fn, repeats: int) -> float:
    """Median seconds per call over `repeats` timed blocks of 20 calls (after a warm-up)."""
    for _ in range(20):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(20):
            fn()
        samples.append((time.perf_counter() - t0) / 20)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and a 1,000-patient batch")
    args = parser.parse_args()
    repeats, batch = (15, 1_000) if args.quick else (100, 10_000)

    from models import pima, training

    split = pima.load()
    onnx_models = models.load_all()
    skl_models = {m.name: training.train(m.name, split.x_train, split.y_train) for m in onnx_models}

    def panel_onnx():
        return risk_panel(PATIENT)

    def panel_sklearn():
        out = [run_equation(name, PATIENT) for name in EQUATIONS]
        for m in onnx_models:
            row = np.asarray([models.feature_row(m, PATIENT)], dtype=np.float32)
            out.append(float(skl_models[m.name].predict_proba(row)[0, 1]))
        return out

    def equations_only():
        return [run_equation(name, PATIENT) for name in EQUATIONS]

    # Same answers before timing anything: the comparison is only fair if both sides compute the same thing.
    onnx_p = [r.probability for r in panel_onnx()[len(EQUATIONS):]]
    skl_p = panel_sklearn()[len(EQUATIONS):]
    assert max(abs(a - b) for a, b in zip(onnx_p, skl_p, strict=True)) <= 1e-5

    t_onnx = per_call(panel_onnx, repeats)
    t_skl = per_call(panel_sklearn, repeats)
    t_eq = per_call(equations_only, repeats)

    rng = np.random.default_rng(0)
    rows = split.x_test[rng.integers(0, len(split.x_test), batch)]
    patients = [PATIENT.replace(age=float(a), systolic_bp=float(100 + (i % 80))) for i, a in
                enumerate(rng.integers(40, 75, batch))]
    t0 = time.perf_counter()
    for p in patients:
        for name in EQUATIONS:
            run_equation(name, p)
    b_eq = time.perf_counter() - t0
    t0 = time.perf_counter()
    for m in onnx_models:
        m.predict(rows)
    b_onnx = time.perf_counter() - t0
    t0 = time.perf_counter()
    for m in onnx_models:
        skl_models[m.name].predict_proba(rows)
    b_skl = time.perf_counter() - t0

    print(f"risk panel, one patient ({len(EQUATIONS)} equations + {len(onnx_models)} models), median of {repeats}:")
    print(f"  equations only                 {t_eq * 1e6:9.1f} µs")
    print(f"  panel with ONNX Runtime        {t_onnx * 1e6:9.1f} µs   target ≤ 2000 µs: "
          f"{'met' if t_onnx <= 2e-3 else 'NOT met'}")
    print(f"  panel with scikit-learn        {t_skl * 1e6:9.1f} µs")
    print(f"  speed-up ONNX vs scikit-learn  {t_skl / t_onnx:9.1f}×   target ≥ 20×: "
          f"{'met' if t_skl / t_onnx >= 20 else 'NOT met'}")
    print(f"batch of {batch:,} patients:")
    print(f"  equations (Python loop)        {b_eq * 1e3:9.1f} ms")
    print(f"  models, ONNX Runtime           {b_onnx * 1e3:9.1f} ms")
    print(f"  models, scikit-learn           {b_skl * 1e3:9.1f} ms   ratio {b_skl / b_onnx:.1f}×")
    print(f"  whole panel, ONNX              {(b_eq + b_onnx) * 1e3:9.1f} ms "
          f"({(b_eq + b_onnx) / batch * 1e6:.1f} µs/patient)")


if __name__ == "__main__":
    main()
