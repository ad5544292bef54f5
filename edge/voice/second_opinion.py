"""A statistical second opinion on red flags, for the emergencies the rules have no words for.

Four rounds of lexicon and rule work still missed one emergency in six on a set written by someone who never saw
the rules (issue 15): patients find phrasings faster than a lexicon grows. The second opinion is a sentence
classifier: all-MiniLM-L6-v2 embeddings (edge/voice/sentence_encoder.py) and an RBF support-vector machine trained
on every development utterance, shipped as ONNX (models/triage_redflag_svm.onnx; trained and exported by
`healthsync export triage-classifier`, its figures in models/triage_redflag_svm.json).

How triage uses it (edge/voice/triage.py): only when the rules raised no red flag, and never when the rules heard a
red-flag concept as negated, hypothetical, historical or someone else's (sentence embeddings barely tell "I have
chest pain" from "I had chest pain years ago": ConText does). If the score crosses the threshold the utterance is
raised as a possible emergency *to be confirmed*: the app asks the patient, and a clinician sees that it was the
classifier, not a rule. Safety first: a false alarm costs a question, a miss can cost a life.

When the model package is missing or its files are not the published ones the rules work alone, and every result
says so (`second_opinion.available` is false with the reason), rather than failing triage.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.voice.sentence_encoder import EncoderUnavailable, SentenceEncoder

log = logging.getLogger(__name__)
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
META = MODELS_DIR / "triage_redflag_svm.json"


@dataclass
class Opinion:
    """The classifier's score for one utterance, the threshold it was compared with, and whether it raised a flag."""

    score: float
    threshold: float
    raised: bool
    model: str


class SecondOpinion:
    """The encoder and the ONNX head, with the threshold and version from the model's manifest."""

    def __init__(self, meta_path: Path = META):
        import hashlib

        import onnxruntime as ort

        meta = json.loads(meta_path.read_text())
        head = meta_path.parent / meta["file"]
        if hashlib.sha256(head.read_bytes()).hexdigest() != meta["sha256"]:
            raise EncoderUnavailable(f"{head} does not match the SHA-256 in {meta_path.name}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one short vector: threads cost more than they save
        self._session = ort.InferenceSession(str(head), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._column = meta["score_column"]
        self.threshold = float(meta["threshold"])
        self.version = f"{meta['name']} {meta['version']}"
        self.encoder = SentenceEncoder()

    def score(self, text: str) -> float:
        """The SVM's decision value for the utterance: above the threshold, it sounds like an emergency."""
        vector = self.encoder.encode(text)[None, :]
        return float(self._session.run(["probabilities"], {self._input: vector})[0][0, self._column])

    def opinion(self, text: str) -> Opinion:
        s = self.score(text)
        return Opinion(score=round(s, 4), threshold=self.threshold, raised=s > self.threshold, model=self.version)


_lock = threading.Lock()
_loaded: SecondOpinion | None = None
_unavailable: str | None = None


def load() -> SecondOpinion | None:
    """The shared second opinion (loaded once, ~1 s), or None with `unavailable_reason()` saying why."""
    global _loaded, _unavailable
    if _loaded is not None or _unavailable is not None:
        return _loaded
    with _lock:
        if _loaded is None and _unavailable is None:
            try:
                _loaded = SecondOpinion(META)  # read at call time: tests point it elsewhere
            except (EncoderUnavailable, OSError, KeyError, ValueError, ImportError) as exc:
                _unavailable = str(exc)
                log.warning("triage second opinion unavailable, rules only: %s", exc)
    return _loaded


def warm_up() -> None:
    """Start loading the model in the background (while the patient is still speaking): ~0.6 s off the result."""
    if _loaded is None and _unavailable is None:
        threading.Thread(target=load, name="triage-second-opinion-warm-up", daemon=True).start()


def unavailable_reason() -> str | None:
    """Why the second opinion could not be loaded (None when it is loaded or not tried yet)."""
    return _unavailable


def reset() -> None:
    """Forget the loaded model (tests)."""
    global _loaded, _unavailable
    with _lock:
        _loaded, _unavailable = None, None


def as_vector(texts: list[str], encoder: SentenceEncoder) -> np.ndarray:
    """Embeddings of many utterances, one row each (training and evaluation)."""
    return np.vstack([encoder.encode(t) for t in texts]).astype(np.float32)
