"""Extraction of lab results and medications from OCR rows, including PP-OCR's dropped spaces."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.vision.scanner.ocr import TextBox
from edge.vision.scanner.parse import Line, extract, fix_digits, group_lines, parse_lab


def box(text: str, x: float = 0, y: float = 0, score: float = 0.99, w: float = 200, h: float = 30) -> TextBox:
    return TextBox(((x, y), (x + w, y), (x + w, y + h), (x, y + h)), text, score)


def row(*cells: str, y: float = 0) -> Line:
    return Line([box(c, x=i * 250, y=y) for i, c in enumerate(cells)])


@pytest.mark.parametrize(("cells", "metric", "value", "unit", "lo", "hi", "flag"), [
    (("Glucose126mg/dL70-99H",), "blood_glucose", 126, "mg/dL", 70, 99, "H"),
    (("Glucose, Fasting", "126", "mg/dL", "70-99", "H"), "blood_glucose", 126, "mg/dL", 70, 99, "H"),
    (("HDL Cholesterol", "38", "mg/dl", "40-60", "L"), "hdl_cholesterol", 38, "mg/dL", 40, 60, "L"),
    (("LDLCholesterol134mg/dL<100H",), "ldl_cholesterol", 134, "mg/dL", None, 100, "H"),
    (("Hemoglobin Alc", "6.4", "%", "4-5.6", "H"), "glycated_hemoglobin", 6.4, "%", 4, 5.6, "H"),
    (("HbA1c 5.2%4.0-5.6",), "glycated_hemoglobin", 5.2, "%", 4.0, 5.6, None),
    (("Hemoglobin", "13.5", "g/dL", "12.0-17.5"), "hemoglobin", 13.5, "g/dL", 12.0, 17.5, None),
    (("Triglycerides", "210", "mg/dL", "<150", "H"), "triglycerides", 210, "mg/dL", None, 150, "H"),
    (("Creatinine", "1.O6", "mg/dL", "0.6-1.3"), "creatinine", 1.06, "mg/dL", 0.6, 1.3, None),
    (("Cholesterol", "6.8", "mmol/L", "3.2-5.2", "H"), "total_cholesterol", 6.8, "mmol/L", 3.2, 5.2, "H"),
])
def test_lab_rows(cells, metric, value, unit, lo, hi, flag):
    r = parse_lab(row(*cells))
    assert r is not None
    assert (r.analyte.value, r.value.value, r.unit.value) == (metric, pytest.approx(value), unit)
    assert (r.ref_low and r.ref_low.value) == lo and (r.ref_high and r.ref_high.value) == hi
    assert (r.flag and r.flag.value) == flag


@pytest.mark.parametrize(("cells", "metric", "mg_dl"), [
    # ADA Standards of Care: fasting glucose 126 mg/dL = 7.0 mmol/L (diagnostic threshold for diabetes).
    (("Glucose", "7.0", "mmol/L"), "blood_glucose", 126.1),
    # NCEP ATP III: total cholesterol 200 mg/dL ≈ 5.17 mmol/L ("desirable" limit, printed as 5.2 in SI labs).
    (("Total Cholesterol", "5.17", "mmol/L"), "total_cholesterol", 199.9),
    # NCEP ATP III: triglycerides 150 mg/dL = 1.7 mmol/L.
    (("Triglycerides", "1.7", "mmol/L"), "triglycerides", 150.6),
])
def test_si_units_are_converted_to_the_canonical_unit(cells, metric, mg_dl):
    r = parse_lab(row(*cells))
    assert r.analyte.value == metric and r.canonical_unit == "mg/dL"
    assert r.canonical_value == pytest.approx(mg_dl, abs=0.2)


def test_confidence_follows_ocr_and_consistency():
    shaky = Line([box("Glucose", 0), box("126", 250, score=0.6), box("mg/dL", 500), box("70-99", 750),
                  box("H", 1000)])
    r = parse_lab(shaky)
    assert r.value.confidence == pytest.approx(0.6) and r.analyte.confidence == pytest.approx(0.99)
    no_unit = parse_lab(row("Glucose", "126", "70-99", "H"))
    assert no_unit.unit.value == "mg/dL" and no_unit.unit.confidence < 0.5  # assumed, and says so
    implausible = parse_lab(row("Glucose", "9999", "mg/dL"))
    assert implausible.value.confidence < 0.5
    contradicting = parse_lab(row("Glucose", "85", "mg/dL", "70-99", "H"))
    assert contradicting.flag.value == "H" and contradicting.flag.confidence < 0.7


def test_rows_that_are_not_results_are_ignored():
    assert parse_lab(row("CITYMEDICALLABORATORY")) is None
    assert parse_lab(row("TEST", "RESULT", "UNITS")) is None
    assert parse_lab(row("Glucose", "see note")) is None


def test_medication_label_with_squashed_directions():
    lines = [row("HEALTHPHARMACYRX#8922960", y=0), row("METFORMIN HCL 500MGTABLET", y=60),
             row("TAKE1TABLETBYMOUTHTWICEDAILY", y=120), row("QTY:60REFILLS:2", y=180)]
    labs, [med] = extract(lines)
    assert labs == []
    assert (med.name.value, med.strength.value, med.unit.value) == ("metformin", 500.0, "mg")
    assert (med.frequency.value, med.route.value) == ("BID", "oral")


@pytest.mark.parametrize(("directions", "code"), [
    ("TAKE 1 TABLET BY MOUTH ONCE DAILY", "QD"), ("TAKE1CAPSULEBYMOUTHEVERY8HOURS", "Q8H"),
    ("TAKE 2 TABLETS BY MOUTH AT BEDTIME", "QHS"), ("TAKE 1 TABLET BY MOUTH THREE TIMES DAILY", "TID"),
    ("TAKE 1 TABLET BY MOUTH FOUR TIMES A DAY", "QID"), ("TAKE 1 TABLET BY MOUTH AS NEEDED", "PRN"),
])
def test_frequencies(directions, code):
    _, [med] = extract([row("LEVOTHYROXINE 5O MCG TABLET", y=0), row(directions, y=60)])
    assert med.frequency.value == code and med.strength.value == 50.0 and med.unit.value == "mcg"


def test_fix_digits_only_touches_letters_beside_digits():
    assert fix_digits("1OO MG") == "100 MG"
    assert fix_digits("REFILLS:O DOSE") == "REFILLS:O DOSE"
    assert fix_digits("1l5") == "115"


def test_boxes_on_one_baseline_form_one_row_left_to_right():
    lines = group_lines([box("mg/dL", 500, 103), box("Glucose", 0, 100), box("126", 250, 98),
                         box("Creatinine", 0, 160)])
    assert [ln.text for ln in lines] == ["Glucose 126 mg/dL", "Creatinine"]


def test_flag_after_an_unreadable_range_is_still_read():
    r = parse_lab(row("HemoglobinAlc", "6.5", "%", "45.6", "H"))  # "4-5.6" lost its hyphen
    assert r.flag.value == "H" and r.ref_low is None and r.ref_high is None
    assert parse_lab(row("Glucose", "5.1", "mmol/L")).flag is None  # the L of mmol/L is no flag


LABELS = {"blood_glucose": ("Glucose", "mg/dL"), "total_cholesterol": ("Total Cholesterol", "mg/dL"),
          "triglycerides": ("Triglycerides", "mg/dL"), "creatinine": ("Creatinine", "mg/dL"),
          "hemoglobin": ("Hemoglobin", "g/dL"), "glycated_hemoglobin": ("HbA1c", "%")}


@settings(max_examples=150, deadline=None)
@given(metric=st.sampled_from(sorted(LABELS)), value=st.decimals("0.5", "400", places=1),
       lo=st.decimals("0.1", "50", places=1), width=st.decimals("0.5", "200", places=1),
       flag=st.sampled_from(["", "H", "L"]), squash=st.booleans())
def test_any_row_reads_the_same_with_or_without_spaces(metric, value, lo, width, flag, squash):
    label, unit = LABELS[metric]
    hi = lo + width
    cells = [label, str(value), unit, f"{lo}-{hi}", flag]
    text = "".join(cells) if squash else " ".join(c for c in cells if c)
    r = parse_lab(row(text))
    assert r is not None and r.analyte.value == metric
    assert r.value.value == pytest.approx(float(value)) and r.unit.value == unit
    assert r.ref_low.value == pytest.approx(float(lo)) and r.ref_high.value == pytest.approx(float(hi))
    expected = "H" if value > hi else "L" if value < lo else None
    if expected:  # the printed range decides, whether or not (and whatever) flag was read
        assert r.flag.value == expected
    else:  # inside the range a printed flag is kept, never invented
        assert (r.flag and r.flag.value) == (flag or None)
    if flag and flag != expected:
        assert r.flag.confidence < 0.7  # the lab's flag and its range disagree: doubted


@pytest.mark.parametrize("cells", [
    ("Triglycerides", "180", "mg/dL", "<150", "H"),  # everything read
    ("Triglycerides", "180", "mg/dL", "<150"),  # the flag column lost (JPEG artefacts, faint print)
    ("Triglycerides180mg/dL<150",),  # spaces lost
    ("Triglycerides", "180", "mg/dL", "<150", "L"),  # the flag misread
])
def test_one_flag_rule_however_the_row_was_read(cells):
    # NCEP ATP III: triglycerides ≥ 150 mg/dL are high; the report prints the normal range as "<150".
    assert parse_lab(row(*cells)).flag.value == "H"


def test_strict_and_inclusive_range_ends():
    # "<150" excludes 150 (ATP III: 150–199 is borderline high); "≤150" and "70-99" include their ends.
    assert parse_lab(row("Triglycerides", "150", "mg/dL", "<150")).flag.value == "H"
    assert parse_lab(row("Triglycerides", "150", "mg/dL", "≤150")).flag is None
    assert parse_lab(row("Glucose", "99", "mg/dL", "70-99")).flag is None
    assert parse_lab(row("HDL Cholesterol", "40", "mg/dL", ">40")).flag.value == "L"
    assert parse_lab(row("HDL Cholesterol", "41", "mg/dL", ">40")).flag is None
