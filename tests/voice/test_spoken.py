"""A handful of test-set utterances spoken by espeak-ng through the whole pipeline with the bundled tiny.en: the
red flag survives speech → text → triage, and a negated one does not fire. The full spoken set (WER, recall, both
models) is bench/spoken_triage.py, not a test."""
import os
import shutil
import sys
from pathlib import Path

import pytest

from edge.voice import pipeline

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from spoken_triage import render  # noqa: E402

pytestmark = pytest.mark.heavy


@pytest.fixture(scope="module", autouse=True)
def espeak():
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is missing in CI: .ci/run installs it (apt-get install -y espeak-ng)")
        pytest.skip("espeak-ng is not installed (apt-get install -y espeak-ng); CI installs it")


@pytest.mark.parametrize("index, text, flag", [
    (0, "I can't breathe and my lips are going blue.", "severe_breathing_difficulty"),
    (1, "My face has dropped on one side and I can't lift my arm.", "stroke_fast"),
    (2, "I have been vomiting blood since last night.", "vomiting_blood"),
    (6, "I have no chest pain, just a runny nose.", None),
])
def test_spoken_red_flags_end_to_end(store, user_id, tmp_path, index, text, flag):
    clip = tmp_path / "clip.wav"
    render(text, index, clip)
    result = pipeline.analyze_file(store, clip, user_id)
    ids = [f["id"] for f in result.triage["red_flags"]]
    confidence = result.triage["confidence"]
    assert confidence["words"] > 2
    if flag:
        # Never a silent miss: the red flag is found, or the recogniser's doubt makes the app ask again
        # (tiny.en hears the Scottish voice's "vomiting blood" as "vomiting, lud, sertraline").
        assert flag in ids or (confidence["doubtful"] and confidence["confirm"]), result.transcript.text
    else:
        assert ids == [], result.transcript.text
