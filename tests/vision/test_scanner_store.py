"""Scans stored whole: medications in their own synced table, repeats recognised, labs dated by collection."""
from __future__ import annotations

import datetime as dt

import pytest

from edge import migrations
from edge.store import Store
from edge.vision.scanner import scan as scanner
from edge.vision.scanner import synth
from edge.vision.scanner.dates import collection_date, parse_date
from edge.vision.scanner.ocr import TextBox
from edge.vision.scanner.parse import Line, extract
from tests.conftest import wind_back


def _result(rows: list[str], image_sha256: str = "ab" * 32) -> scanner.ScanResult:
    """A ScanResult from text rows (one OCR box per row), as the pipeline builds it after OCR."""
    lines = [Line([TextBox(((0, 40 * i), (900, 40 * i), (900, 40 * i + 30), (0, 40 * i + 30)), text, 0.99)])
             for i, text in enumerate(rows)]
    labs, meds = extract(lines)
    collected, _ = collection_date([ln.text for ln in lines])
    return scanner.ScanResult(labs, meds, {}, {}, [ln.text for ln in lines], 0.0, image_sha256=image_sha256,
                              collected_on=collected)


LABEL = ["HEALTH PHARMACY Rx# 1234567", "METFORMIN 500 MG TABLET", "TAKE 1 TABLET BY MOUTH TWICE DAILY"]
REPORT = ["CITY MEDICAL LABORATORY", "Patient ID: 123456 Collected: 2026-03-14", "Triglycerides 180 mg/dL <150 H",
          "Glucose, Fasting 126 mg/dL 70-99 H"]


def test_medications_from_a_label_are_stored_in_their_synced_table(store, user_id):
    saved = scanner.save(store, user_id, _result(LABEL))
    [med] = store.medications.list(owner=user_id)
    assert (med.name, med.strength, med.unit, med.frequency, med.route) == ("metformin", 500.0, "mg", "BID", "oral")
    assert str(med.source_scan_id) == saved["event_id"] and saved["medication_ids"] == [str(med.id)]
    queued = store.query("SELECT count(*) FROM outbox WHERE tbl = 'medications'")[0][0]
    assert queued == 1  # synced like every other observation


def test_scanning_the_same_image_twice_stores_it_once(store, user_id):
    first = scanner.save(store, user_id, _result(REPORT))
    again = scanner.save(store, user_id, _result(REPORT))
    assert again["repeat_of"]["event_id"] == first["event_id"] and "same image" in again["repeat_of"]["why"]
    assert store.health_metrics.count() == 2 and store.health_events.count() == 1


def test_a_photo_of_the_same_page_is_a_repeat_by_its_values(store, user_id):
    scanner.save(store, user_id, _result(REPORT, image_sha256="11" * 32))
    again = scanner.save(store, user_id, _result(REPORT, image_sha256="22" * 32))
    assert "same values" in again["repeat_of"]["why"] and store.health_metrics.count() == 2


def test_same_values_on_another_collection_date_are_a_new_report(store, user_id):
    scanner.save(store, user_id, _result(REPORT, image_sha256="11" * 32))
    later = [r.replace("2026-03-14", "2026-06-14") for r in REPORT]
    saved = scanner.save(store, user_id, _result(later, image_sha256="22" * 32))
    assert saved["repeat_of"] is None and store.health_metrics.count() == 4


def test_lab_values_are_dated_by_the_printed_collection_date(store, user_id):
    scanner.save(store, user_id, _result(REPORT))
    dates = {m.recorded_at.date() for m in store.health_metrics.list(owner=user_id)}
    assert dates == {dt.date(2026, 3, 14)}


@pytest.mark.parametrize("text", ["2026-03-14", "14/03/2026", "03/14/2026", "14.03.2026", "14 Mar 2026",
                                  "March 14, 2026"])
def test_printed_dates(text):
    assert parse_date(text) == (dt.date(2026, 3, 14), None)


def test_ambiguous_or_future_collection_dates_are_not_used():
    assert collection_date(["Collected: 03/04/2026"])[0] is None
    assert "day/month" in collection_date(["Collected: 03/04/2026"])[1]
    assert collection_date(["Collected: 2099-01-01"])[0] is None
    assert collection_date(["Reported: 2026-03-14"]) == (None, None)  # a report date is not the collection date


def test_store_v1_is_frozen_and_medications_arrive_by_migration(tmp_path, store_key):
    assert "medications" not in migrations.MIGRATIONS[0]  # v1 means the same schema for every store
    path = tmp_path / "edge.db"
    Store.open(path, store_key, create=True).close()
    wind_back(path, 2)  # as the previous release left it
    with Store.open(path, store_key) as s:
        assert s.schema_version == migrations.LATEST
        assert s.query("SELECT count(*) FROM medications") == [(0,)]


@pytest.mark.heavy
def test_png_then_jpeg_of_one_report_flag_alike_and_store_once(store, user_id):
    png = synth.lab_report(3, fmt="PNG", values={"Triglycerides": 180})
    jpeg = synth.lab_report(3, synth.Degradation.level("moderate"), values={"Triglycerides": 180})
    a, _ = scanner.scan(png.image)
    b, _ = scanner.scan(jpeg.image)
    flags = [{r.analyte.value: r.flag and r.flag.value for r in x.labs} for x in (a, b)]
    assert flags[0] == flags[1] and flags[0]["triglycerides"] == "H"
    assert a.collected_on == b.collected_on == dt.date.fromisoformat(png.collected)
    first = scanner.save(store, user_id, a)
    assert first["repeat_of"] is None and len(first["metric_ids"]) == len(png.labs)
    assert scanner.save(store, user_id, b)["repeat_of"]["event_id"] == first["event_id"]
