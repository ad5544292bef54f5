"""The whole scanner on generated photos with ground truth: real RapidOCR models, real encrypted store."""
from __future__ import annotations

import json

import pytest

from edge.vision.scanner import scan, synth

pytestmark = pytest.mark.heavy


def test_field_accuracy_on_moderately_degraded_photos():
    # 2 lab reports + 2 prescription labels (the bench runs a larger set); rotation ±2°, blur, noise, JPEG q70
    samples = synth.dataset(4, "moderate", seed=500)
    correct = total = 0
    misses = []
    for s in samples:
        result, _ = scan.scan(s.image)
        c, t, m = synth.score(s, result)
        correct, total, misses = correct + c, total + t, misses + m
    assert total >= 40
    assert correct / total >= 0.95, misses


def test_lab_values_become_scan_metrics_in_canonical_units(store, user_id):
    sample = synth.lab_report(7)  # clean photo, known content
    result, _ = scan.scan(sample.image)
    saved = scan.save(store, user_id, result)
    metrics = {m.metric_type: m for m in store.health_metrics.list(owner=user_id)}
    assert len(saved["metric_ids"]) == len(sample.labs) and saved["skipped"] == []
    for want in sample.labs:
        m = metrics[want["analyte"]]
        assert m.source == "scan"
        if want["unit"] == "mmol/L":  # glucose 18.016, cholesterol 38.67 mg/dL per mmol/L (protocol.schema.METRICS)
            factor = 18.016 if want["analyte"] == "blood_glucose" else 38.67
            assert m.unit == "mg/dL" and m.value == pytest.approx(want["value"] * factor, rel=1e-4)
        else:
            assert m.value == pytest.approx(want["value"])
    [event] = store.health_events.list(owner=user_id, event_type="scan")
    assert event.data["metric_ids"] == saved["metric_ids"]


def test_overlay_boxes_land_on_the_text_in_original_pixels():
    sample = synth.lab_report(3, synth.Degradation(rotation=3.0))
    result, _ = scan.scan(sample.image)
    ov = result.overlay
    assert ov["image_size"] == [1600, 1200] and len(ov["items"]) == len(sample.labs)
    for item in ov["items"]:
        xs = [p[0] for p in item["box"]]
        ys = [p[1] for p in item["box"]]
        assert 0 <= min(xs) < max(xs) <= 1600 and 0 <= min(ys) < max(ys) <= 1200
        assert item["kind"] == "lab" and item["label"].split()[0] in {s["analyte"] for s in sample.labs}
    json.dumps(result.to_dict())  # the CLI's --json output is plain JSON


def test_blank_photo_finds_nothing_and_says_so():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (800, 600), (250, 250, 250)).save(buf, "PNG")
    result, _ = scan.scan(buf.getvalue())
    assert result.labs == [] and result.medications == []
    assert result.warnings == ["no text found in the image"]
