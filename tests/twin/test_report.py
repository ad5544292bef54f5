"""The two HTML reports: the clinician's (inputs, sources, versions, validity) and the patient's (plain language)."""
from __future__ import annotations

import datetime as dt
import stat

from tests.twin.conftest import run


def test_report_and_simulate_write_different_reports(tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHSYNC_HOME", str(tmp_path))
    monkeypatch.setenv("HEALTHSYNC_KEY", "cd" * 32)
    monkeypatch.delenv("HEALTHSYNC_PASSPHRASE", raising=False)
    assert run("edge", "init").exit_code == 0
    from edge import config

    with config.open_store() as store:
        store.users.update(config.primary_user(store), full_name="Ada Example")
    run("edge", "twin", "factors", "--dob", "1972-05-01", "--sex", "female", "--race", "white", "--smoker",
        "--no-diabetes", "--no-bp-treated", "--no-statin", "--active", "--vegetables", "--no-high-glucose")
    for args in (["total_cholesterol", "213"], ["hdl_cholesterol", "50"], ["systolic_bp", "140"],
                 ["diastolic_bp", "85"], ["weight", "80"], ["height", "165"], ["waist_circumference", "90"],
                 ["blood_glucose", "150"]):
        assert run("edge", "metrics", "add", *args).exit_code == 0
    clinician, patient = tmp_path / "clinician.html", tmp_path / "patient.html"
    assert run("edge", "twin", "report", "--html", str(clinician)).exit_code == 0
    assert run("edge", "twin", "simulate", "--html", str(patient)).exit_code == 0
    doc, plain = clinician.read_text(), patient.read_text()
    assert doc != plain
    # The clinician's: name, date, every input with its source, equation versions and validity, model versions.
    assert "Ada Example" in doc and dt.date.today().isoformat() in doc
    assert "systolic_bp, recorded" in doc and "(manual)" in doc and "risk-factor answers of" in doc
    assert "goff2013-full-precision" in doc and "Valid for ages 40–79" in doc  # the PCE's version and validity range
    assert "pima_diabetes_gbm 2.0.0" in doc and "sha256" in doc and "Pima" in doc
    # The patient's: plain language, no hashes or tables of inputs.
    assert "Your health twin" in plain and "sha256" not in plain and "recorded" not in plain
    for path in (clinician, patient):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_overlapping_scenarios_get_distinct_line_styles():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from edge.twin import report

    sim = {"scenarios": {name: {"label": name, "risks": {"x": [{"years": 0, "probability": 0.1},
                                                               {"years": 5, "probability": 0.2}]}}
                         for name in ("as_is", "start_statin", "quit_smoking")}}
    seen = []
    real_close = plt.close

    def capture(fig=None):
        if fig is not None and hasattr(fig, "axes") and fig.axes:
            seen.extend((ln.get_linestyle(), ln.get_marker(), ln.get_linewidth()) for ln in fig.axes[0].lines)
        real_close(fig)

    plt.close = capture
    try:
        assert report._plot("x", sim)
    finally:
        plt.close = real_close
    assert len(seen) == 3 and len(set(seen)) == 3  # three identical lines, three different looks
