"""The NLP triage on patients' own words: the labelled set's hold-out targets (issue 15), extra phrasings used while
writing the vocabulary, context handling (negated, hypothetical, historical, someone else), unsure recogniser words,
and the safety nets (a red flag is never dropped on an unsure "no").

Expected labels follow the NHS "When to call 999" list and the FAST stroke test (sources in edge/voice/redflags.py);
tests/data/voice/triage_cases.jsonl was written before the rules and is never edited to match them."""
import json
import sys
from pathlib import Path

import pytest

from edge.voice import redflags
from edge.voice.triage import Word, extract_findings, triage

DATA = Path(__file__).parents[1] / "data" / "voice"
sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from eval_triage import NEW_HOLDOUT, TARGETS, load_cases, new_holdout, score  # noqa: E402

CASES = load_cases()
NEW_CASES = new_holdout([c for c in CASES if c["split"] == "dev"])
PHRASINGS = [line.split("|", 1) for line in (DATA / "triage_phrasings.txt").read_text().splitlines() if line]


def test_the_set_is_what_the_issue_asks_for():
    assert len(CASES) >= 300
    holdout = [c for c in CASES if c["split"] == "holdout"]
    assert len(holdout) >= len(CASES) // 3 - 1
    flagged = {}
    for c in CASES:
        if c["red_flag"]:
            flagged[c["concept"]] = flagged.get(c["concept"], 0) + 1
    assert len(flagged) >= 12 and min(flagged.values()) >= 6  # every red flag in at least six phrasings
    forms = {(c["concept"], c["form"]) for c in CASES}
    for concept in flagged:
        for form in ("negated", "hypothetical", "historical", "family"):
            assert (concept, form) in forms, (concept, form)
    assert all(c["red_flag"] == (c["urgency"] == "emergency") for c in CASES)


def test_the_new_holdout_is_independent_and_covers_every_red_flag():
    """Written after the first rules and before any later change (its own commit), in patients' words."""
    assert len(NEW_CASES) >= 150 and {c["split"] for c in NEW_CASES} == {"new_holdout"}
    assert len(load_cases(NEW_HOLDOUT)) - len(NEW_CASES) == 1  # one coincided with a dev case: not scored
    assert not {c["text"] for c in NEW_CASES} & {c["text"] for c in CASES}
    assert not {c["text"] for c in NEW_CASES} & {text for _, text in PHRASINGS}  # never copied into the dev side
    flagged = {}
    for c in NEW_CASES:
        if c["red_flag"]:
            flagged[c["concept"]] = flagged.get(c["concept"], 0) + 1
    # every red flag of the first set, in several phrasings, plus sepsis, DKA and pulmonary embolism
    assert {c["concept"] for c in CASES if c["red_flag"]} <= set(flagged)
    assert min(n for concept, n in flagged.items() if concept not in ("sepsis", "dka", "pe")) >= 4
    forms = {c["form"] for c in NEW_CASES}
    assert forms == {"affirmed", "negated", "hypothetical", "historical", "family", "everyday"}
    assert sum(c["concept"] == "refill" for c in NEW_CASES) >= 5
    assert all(c["red_flag"] == (c["urgency"] == "emergency") for c in NEW_CASES)


def _check_targets(split: str, show: bool) -> None:
    s = score([c for c in CASES + NEW_CASES if c["split"] == split])
    missed = [c["text"] for c, _ in s["misses"]] if show else len(s["misses"])
    alarms = [c["text"] for c, _ in s["alarms"]] if show else len(s["alarms"])
    assert s["recall"] >= TARGETS["recall"], missed
    assert s["false_alarms"] <= TARGETS["false_alarms"], alarms
    assert s["urgency"] >= TARGETS["urgency"], s["urgency"]


def test_targets_on_the_dev_half():
    _check_targets("dev", show=True)


# Measured (docs/voice.md): recall 97.0 % (1 of 33 missed), false alarms 6.9 %, urgency agreement 90.5 % (93.9 %,
# 8.3 %, 84.8 % before the second round of rules). Strict: the day the rules meet the targets this must be turned
# into a plain test. The hold-outs' texts are not printed, so that no rule is tuned on them.
@pytest.mark.xfail(strict=True, reason="hold-out targets (issue 15) not met yet: see docs/voice.md")
def test_targets_on_the_holdout_half():
    _check_targets("holdout", show=False)


# The second, independent hold-out (tests/data/voice/triage_holdout_new.jsonl, 213 scored): recall 89.9 % (9 of 89
# missed), false alarms 5.6 % (7 of 124), urgency agreement 84.5 % (80.9 %, 9.7 %, 79.3 % with the rules it was
# written against).
@pytest.mark.xfail(strict=True, reason="new hold-out targets (issue 15) not met yet: see docs/voice.md")
def test_targets_on_the_new_holdout():
    _check_targets("new_holdout", show=False)


@pytest.mark.parametrize("urgency, text", PHRASINGS)
def test_phrasings(urgency, text):
    assert triage(text).urgency == urgency


@pytest.mark.parametrize("text, status, experiencer", [
    ("I have no chest pain.", "negated", "patient"),
    ("What should I do if I ever get chest pain?", "hypothetical", "patient"),
    ("I had chest pain last year but it's gone now.", "historical", "patient"),
    ("My dad had chest pain years ago.", "historical", "other"),
    ("My husband has chest pain right now.", "affirmed", "other"),
])
def test_context_of_a_mention(text, status, experiencer):
    (f,) = [f for f in extract_findings(text) if f.name == "chest_pain"]
    assert (f.status, f.experiencer) == (status, experiencer)


def test_a_carer_reporting_an_emergency_now_is_flagged():
    # Someone else, but now: a kiosk user may be speaking for the person beside them.
    assert [f.id for f in triage("My wife's face has dropped and she can't lift her arm.").red_flags] == ["stroke_fast"]
    assert triage("My mother had a stroke when she was seventy.").red_flags == []


def test_refill_and_resolved_symptoms_are_not_urgent():
    assert triage("Can I get a repeat prescription for my blood pressure tablets please?").urgency == "soon"
    assert triage("I had chest pain last year but it's gone now and the tests were all fine.").urgency == "self_care"
    assert triage("What should I do if I ever get chest pain?").urgency == "self_care"
    assert triage("I've completely run out of my insulin.").urgency == "urgent"


def words_for(text: str, unsure: dict[str, float]) -> list[Word]:
    """Recogniser words for a text, each sure (0.95) unless named in `unsure`."""
    out, pos = [], 0
    for w in text.split():
        start = text.index(w, pos)
        pos = start + len(w)
        bare = w.strip(".,?!").lower()
        out.append(Word(w, start, pos, unsure.get(bare, 0.95)))
    return out


def test_an_unsure_negation_does_not_drop_a_red_flag():
    text = "I have no chest pain and I am sweating."
    assert triage(text).red_flags == []
    result = triage(text, words_for(text, {"no": 0.2}))
    (flag,) = result.red_flags
    assert flag.id == "cardiac_chest_pain" and flag.confirm
    assert result.urgency == "emergency"
    assert any("chest pain" in q for q in result.confidence["confirm"])


def test_a_sure_negation_still_counts():
    text = "I have no chest pain and I am sweating."
    result = triage(text, words_for(text, {}))
    assert result.red_flags == [] and result.confidence["doubtful"] is False


def test_a_red_flag_heard_on_unsure_words_is_kept_and_asked_about():
    text = "My face is drooping on one side."
    result = triage(text, words_for(text, {"drooping": 0.3}))
    (flag,) = result.red_flags
    assert flag.id == "stroke_fast" and flag.confirm
    assert result.confidence["unsure_words"] == [{"word": "drooping.", "probability": 0.3}] or \
        result.confidence["unsure_words"][0]["probability"] == 0.3


def test_a_doubtful_utterance_asks_to_repeat():
    text = "I am Hannah Heirlik."
    result = triage(text, words_for(text, {"hannah": 0.2, "heirlik": 0.1}))
    assert result.confidence["doubtful"]
    assert result.confidence["confirm"] == ["I could not hear all of that clearly: please say it again, or type it."]


def test_every_rule_cites_a_source_and_gives_advice():
    assert {r.id for r in redflags.RULES} >= {
        "cardiac_chest_pain", "stroke_fast", "severe_breathing_difficulty", "seizure", "unresponsive",
        "severe_bleeding", "coughing_blood", "vomiting_blood", "internal_bleeding", "sudden_confusion",
        "thunderclap_headache", "acute_abdomen", "anaphylaxis", "suicidal_ideation", "meningitis_signs"}
    assert all(r.source and r.advice for r in redflags.RULES)


def test_result_carries_the_new_fields_as_plain_data():
    doc = triage("No fever but my chest hurts.").to_dict()
    assert doc["urgency"] == "urgent" and doc["negated"] == ["fever"]
    json.dumps(doc)


def test_numpy_probabilities_give_a_storable_result():
    """faster-whisper hands numpy floats; a doubtful verdict computed from them must still store (it once did not)."""
    import numpy as np

    from protocol.schema import validate

    text = "I am Hannah Heirlik."
    words = [Word(w.text, w.start, w.end, np.float64(0.2)) for w in words_for(text, {})]
    result = triage(text, words)
    assert result.confidence["doubtful"] is True
    json.dumps(result.to_dict())  # numpy.bool_ is not JSON
    validate("symptoms", {"user_id": "00000000-0000-0000-0000-000000000001", "description": text,
                          "severity": result.severity, "duration_days": result.duration_days,
                          "triage": result.to_dict()})


@pytest.mark.parametrize("text, flagged", [
    # A request is now, whatever history comes with it.
    ("I had a stroke three years ago and I need my clopidogrel repeated.", False),
    # "blood pressure" has no blood in it; "hay fever" no fever.
    ("I've got a cough and my blood pressure is high.", False),
    # A general question is about illness in general; the same question about oneself is a symptom.
    ("Is coughing up blood always serious?", False),
    ("Is it normal that I'm coughing up blood?", True),
    # Now outweighs a past-time cue in the same sentence.
    ("I had a stroke years ago and this morning my face started drooping again.", True),
    ("My sister is epileptic and has seizures sometimes.", False),
    ("Sometimes I want to kill myself.", True),  # habitual said of oneself is not history
])
def test_safety_nets_and_their_limits(text, flagged):
    assert bool(triage(text).red_flags) == flagged


def test_hay_fever_is_no_fever_and_a_request_keeps_its_level():
    assert "fever" not in triage("My eyes are itchy, it's hay fever season.").symptoms
    assert triage("I had a stroke three years ago and I need my clopidogrel repeated.").urgency == "soon"


def test_exact_alternatives_are_each_exact():
    """"=went|=gone" means either exact word (it once compared "=gone" with the text, so never matched)."""
    from edge.voice.nlp import compile_pattern, pipeline

    (unit,) = compile_pattern(pipeline(), "=wee|=pee")
    assert unit == {"LOWER": {"IN": ["wee", "pee"]}}
    assert "no_urine" in triage("I can't pee at all.").symptoms


@pytest.mark.parametrize("text, absent", [
    # The lookup lemma table merges words: "number" → numb, "wound" → wind, "going" → go (as in "gone").
    ("What number do I ring if someone collapses in the street?", "numbness"),
    ("My wound is healing well.", "indigestion"),
    ("My joints ache every morning and it's been going on for months.", None),
])
def test_lemma_collisions_do_not_change_the_meaning(text, absent):
    result = triage(text)
    if absent:
        assert absent not in result.symptoms + result.negated + result.not_current
    else:
        assert result.symptoms == ["joint_pain"] and result.urgency == "soon"


def test_a_hyphenated_word_is_two_words_in_text_and_patterns():
    # "vice-like" would otherwise put punctuation in the gap between "vice" and "chest".
    assert [f.id for f in triage("It's a vice-like pain across my chest.").red_flags] == ["cardiac_chest_pain"]
    assert "dizziness" in triage("I feel light-headed.").symptoms


@pytest.mark.parametrize("text, flagged", [
    # A named condition worried about is a worry; a symptom worried about is a symptom.
    ("Should I be worried about a heart attack at my age?", False),
    ("I'm worried about this crushing pain in my chest and I'm sweating.", True),
    # Asthma explains a tight chest; a heart sign with it still counts.
    ("My chest is a bit tight with my asthma, the inhaler helps.", False),
    ("My chest is tight with my asthma and the pain is going down my left arm.", True),
    # A memory complaint over months is not sudden confusion; sudden confusion is.
    ("I keep forgetting things and getting muddled with my bills.", False),
    ("He keeps forgetting things and today he's suddenly confused and doesn't know me.", True),
    # Figures of speech.
    ("I just need a fit note for work.", False),
    ("I'm sick and tired of my back.", False),
    ("I keep being sick and it's got blood in it.", True),
])
def test_context_safety_nets(text, flagged):
    assert bool(triage(text).red_flags) == flagged


def test_a_unit_mixing_exact_and_lemma_alternatives_is_refused():
    from edge.voice.nlp import compile_pattern, pipeline

    with pytest.raises(ValueError, match="mixes exact"):
        compile_pattern(pipeline(), "blood pressure ~4 high|=reading")
