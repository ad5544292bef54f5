"""Triage's statistical second opinion (edge/voice/second_opinion.py): the numpy MiniLM encoder against
sentence-transformers itself, the integrity checks, the gate (never asked about a red flag heard as not current), the
safety net it adds (an emergency no rule has words for is raised, to be confirmed), rules-only behaviour when the
model cannot load, and the shipped ONNX head against a fresh training run."""
import json
import shutil

import numpy as np
import pytest

from edge.voice import second_opinion
from edge.voice.sentence_encoder import EncoderUnavailable, SentenceEncoder, package_dir
from edge.voice.triage import POSSIBLE_EMERGENCY, Word, triage

# Emergencies in words no rule of edge/voice/redflags.py recognises (checked below with the rules alone), written
# for this test: a FAST stroke sign told as a loss of control, and coffee-ground vomit (NHS: vomiting blood) said
# as a likeness.
UNRULED_EMERGENCIES = [
    "Everything went dark on one side and now my hand won't do what I tell it",
    "My baby's gone really quiet and won't feed and her hands and feet are freezing",
]
SENTENCES = ["My chest feels like an elephant is sitting on it", "um", "Can I have my repeat prescription please? " * 8]


@pytest.fixture(scope="module")
def encoder():
    return SentenceEncoder()


def test_the_encoder_gives_sentence_transformers_own_embeddings(encoder):
    """The reference is the library itself (transformers + torch), on the same published weights."""
    st = pytest.importorskip("sentence_transformers")
    reference = st.SentenceTransformer(str(package_dir()), device="cpu").encode(SENTENCES, normalize_embeddings=True)
    ours = np.vstack([encoder.encode(s) for s in SENTENCES])
    assert np.abs(ours - reference).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_a_model_folder_that_is_not_the_published_one_is_refused(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(package_dir(), folder)
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    tokenizer["model"]["vocab"]["[UNK]"] = 1  # a one-entry change to the vocabulary
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    with pytest.raises(EncoderUnavailable, match="SHA-256"):
        SentenceEncoder(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(EncoderUnavailable, match="missing"):
        SentenceEncoder(folder)


@pytest.mark.parametrize("text", UNRULED_EMERGENCIES)
def test_an_emergency_no_rule_recognises_is_raised_to_be_confirmed(text):
    assert triage(text, ask_second_opinion=False).red_flags == []  # the rules alone miss it: the net is needed
    r = triage(text)
    assert [f.id for f in r.red_flags] == [POSSIBLE_EMERGENCY]
    assert r.red_flags[0].confirm and r.urgency == "emergency"
    assert r.second_opinion["asked"] and r.second_opinion["raised"]
    assert r.second_opinion["score"] > r.second_opinion["threshold"]


def test_the_patient_is_asked_to_confirm_a_possible_emergency():
    text = UNRULED_EMERGENCIES[0]
    words = [Word(w, 0, 0, 0.95) for w in text.split()]
    asks = triage(text, words).confidence["confirm"]
    assert any("emergency" in a and "999" in a for a in asks)


@pytest.mark.parametrize("text", [
    "Can I get a repeat of my blood pressure tablets please",
    "Honestly it's nothing, just a cold and a runny nose",
    "My little one has had a runny nose and a bit of a cough for two days but she's eating fine",
])
def test_everyday_requests_are_not_raised(text):
    r = triage(text)
    assert r.red_flags == [] and r.second_opinion["asked"] and not r.second_opinion["raised"]


@pytest.mark.parametrize("text, concept", [
    ("I don't have any chest pain at all, it's my knee", "chest_pain"),
    ("My dad had a stroke ten years ago, should I get my blood pressure checked?", "stroke"),
])
def test_a_red_flag_heard_as_not_current_is_never_sent_to_the_classifier(text, concept, monkeypatch):
    """Embeddings barely tell negated or past mentions from present ones: ConText decides, the classifier is not
    asked (if it were, this test's stand-in would raise every utterance)."""
    monkeypatch.setattr(second_opinion.SecondOpinion, "score", lambda self, t: 99.0)
    r = triage(text)
    assert r.red_flags == [] and r.second_opinion["asked"] is False
    assert "not current" in r.second_opinion["reason"]


def test_a_rule_flag_is_not_second_guessed():
    r = triage("I've got crushing chest pain going down my left arm and I'm sweating")
    assert POSSIBLE_EMERGENCY not in [f.id for f in r.red_flags]
    assert r.second_opinion == {"asked": False, "reason": "a rule raised a red flag"}


def test_without_the_model_the_rules_work_alone_and_say_so(tmp_path, monkeypatch):
    monkeypatch.setattr(second_opinion, "META", tmp_path / "absent.json")
    second_opinion.reset()
    try:
        r = triage(UNRULED_EMERGENCIES[0])
        assert r.red_flags == [] and r.second_opinion["available"] is False
        assert "absent.json" in r.second_opinion["reason"]
        assert triage("I've got crushing chest pain and I'm sweating").red_flags  # the rules still work
    finally:
        second_opinion.reset()


def test_warm_up_loads_the_model_before_the_first_utterance():
    """The pipeline warms triage up while the patient speaks: the result must not wait ~0.6 s for the model."""
    import threading

    from edge.voice.triage import warm_up

    second_opinion.reset()
    warm_up()
    loader = next(t for t in threading.enumerate() if t.name == "triage-second-opinion-warm-up")
    loader.join(timeout=60)
    assert second_opinion._loaded is not None


def test_a_head_that_does_not_match_its_manifest_is_refused(tmp_path):
    meta = json.loads(second_opinion.META.read_text())
    (tmp_path / meta["file"]).write_bytes(b"not the trained model")
    (tmp_path / "head.json").write_text(json.dumps(meta))
    with pytest.raises(EncoderUnavailable, match="SHA-256"):
        second_opinion.SecondOpinion(tmp_path / "head.json")


@pytest.mark.heavy
def test_the_shipped_head_is_what_training_on_the_dev_sets_gives(tmp_path):
    """A dev set edited, or a hold-out trained on, without re-exporting would show here: the shipped ONNX head must
    give the decision values of a fresh `healthsync export triage-classifier`, and report the same figures."""
    from exporters.triage_classifier import export_triage_classifier

    fresh = export_triage_classifier(tmp_path, lambda m: None)
    shipped = json.loads(second_opinion.META.read_text())
    assert fresh["trained_on"] == shipped["trained_on"]
    assert fresh["leave_one_set_out"] == shipped["leave_one_set_out"]
    a, b = second_opinion.SecondOpinion(), second_opinion.SecondOpinion(tmp_path / "triage_redflag_svm.json")
    for text in UNRULED_EMERGENCIES + SENTENCES:
        # libsvm's solver on another CPU (its float order) moves decision values by ~1e-4 (an edited training set
        # shows exactly in trained_on's digest above); the threshold decision must not move at all.
        assert abs(a.score(text) - b.score(text)) < 1e-3
        assert a.opinion(text).raised == b.opinion(text).raised
    # The classifier adds what the rules miss on a set it was not trained on, and the training set never contains
    # the hold-out (the seventh set); the sixth, dev since the seventh round, is.
    fourth = fresh["leave_one_set_out"]["fourth_holdout"]
    assert fourth["recall"] > fourth["rules_recall"]
    assert "seventh_holdout" not in fresh["trained_on"]["parts"] and "sixth_holdout" in fresh["trained_on"]["parts"]
