"""The NLP triage on patients' own words: the labelled sets' targets (issue 15: every dev part, and the seventh
hold-out, scored once), extra phrasings used while writing the vocabulary, context handling (negated,
hypothetical, historical, someone else), unsure recogniser words, and the safety nets (a red flag is never dropped on
an unsure "no").

Expected labels follow the NHS "When to call 999" list and the FAST stroke test (sources in edge/voice/redflags.py);
tests/data/voice/triage_cases.jsonl was written before the rules and is never edited to match them."""
import json
import sys
from pathlib import Path

import pytest

from edge.voice import redflags
from edge.voice.triage import Word, extract_findings, triage

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from eval_triage import TARGETS, main, score  # noqa: E402

from models.triage_sets import (  # noqa: E402
    DEV_PARTS,
    FIFTH_HOLDOUT,
    FOURTH_HOLDOUT,
    HOLDOUT_FILE,
    NEW_HOLDOUT,
    SIXTH_HOLDOUT,
    THIRD_HOLDOUT,
    dev_cases,
    holdout_cases,
    load_cases,
    new_holdout,
    phrasing_texts,
    phrasings,
)

CASES = load_cases()
NEW_CASES = new_holdout([c for c in CASES if c["split"] == "dev"])
DEV = dev_cases()
PHRASINGS = phrasings()


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


def _check_targets(cases: list[dict], show: bool) -> None:
    s = score(cases)
    missed = [c["text"] for c, _ in s["misses"]] if show else len(s["misses"])
    alarms = [c["text"] for c, _ in s["alarms"]] if show else len(s["alarms"])
    assert s["recall"] >= TARGETS["recall"], missed
    assert s["false_alarms"] <= TARGETS["false_alarms"], alarms
    assert s["urgency"] >= TARGETS["urgency"], s["urgency"]


def test_the_third_set_is_scored_whole_as_dev():
    """The third set (a hold-out until the fourth round) is dev now: 348 of its 351 rows are scored, the three that
    were word for word a dev case or phrasing when it was merged are not. A phrasing copied from it would drop a row
    from scoring, so the count is pinned."""
    third = [c for c in DEV if c["split"] == "third_holdout"]
    assert len(load_cases(THIRD_HOLDOUT)) == 351 and len(third) == 348


def test_the_fourth_set_is_scored_whole_as_dev():
    """The fourth set (a hold-out until the fifth round) is dev now; none of its rows was a dev case or phrasing."""
    fourth = [c for c in DEV if c["split"] == "fourth_holdout"]
    assert len(load_cases(FOURTH_HOLDOUT)) == 351 and len(fourth) == 351


def test_the_fifth_set_is_scored_whole_as_dev():
    """The fifth set (a hold-out until the sixth round) is dev now; none of its 440 rows was a dev case or phrasing."""
    fifth = [c for c in DEV if c["split"] == "fifth_holdout"]
    assert len(load_cases(FIFTH_HOLDOUT)) == 440 and len(fifth) == 440


def test_the_sixth_set_is_scored_as_dev():
    """The sixth set (a hold-out until the seventh round) is dev now; one of its 411 rows is word for word a fifth-set
    row (two writers, one sentence) and is counted once, with the fifth."""
    sixth = [c for c in DEV if c["split"] == "sixth_holdout"]
    assert len(load_cases(SIXTH_HOLDOUT)) == 411 and len(sixth) == 410


# Every set written before issue 15's seventh round is development data (their figures were measured and reported,
# so none is blind any more) and the second opinion is trained on all of them. The rules were tuned on the first
# four's failures, in the sixth round on the fifth's and in the seventh on the sixth's; the fourth, fifth and sixth
# miss the urgency target still (and the sixth one red flag).
LATER_SETS_AS_DEV = {
    "fourth_holdout": pytest.mark.xfail(strict=True, reason="dev since the fifth round: with the second opinion "
                                        "recall 100 %, false alarms 0.0 %, urgency 86.0 % (target 90 %); see "
                                        "docs/voice.md"),
    "fifth_holdout": pytest.mark.xfail(strict=True, reason="dev since the sixth round, which tuned the rules on it: "
                                       "recall 100 %, false alarms 0.0 %, urgency agreement 82.0 % (target 90 %); "
                                       "see docs/voice.md"),
    "sixth_holdout": pytest.mark.xfail(strict=True, reason="dev since the seventh round, which tuned the rules on "
                                       "it: recall 99.5 % (1 of 184 missed), false alarms 0.9 %, urgency agreement "
                                       "78.3 % (target 90 %); see docs/voice.md"),
}


@pytest.mark.parametrize("part", [pytest.param(p, marks=LATER_SETS_AS_DEV[p]) if p in LATER_SETS_AS_DEV else p
                                  for p in DEV_PARTS])
def test_targets_on_each_dev_part(part):
    _check_targets([c for c in DEV if c["split"] == part], show=True)


# The only hold-out: written by someone who never saw the rules, the classifier, the other sets or their failures,
# committed unscored (3c0bea1) before the round that tuned on the sixth set, and scored once by the lead after it,
# who then sets this test (a strict xfail if the targets are not met). Its texts are never printed, so that nothing
# is tuned or trained on them. Scored once on 2026-12-08 (4c45af0 committed the round before the scoring): recall
# 91.5 % (16 of 189 missed; the rules alone 77.8 %), false alarms 4.0 % (9 of 226), urgency agreement 79.0 %.
@pytest.mark.xfail(strict=True, reason="issue 15's seventh hold-out, scored once: recall 91.5 % (16 of 189 missed), "
                   "false alarms 4.0 %, urgency agreement 79.0 %; targets 100 %, <= 5 %, >= 90 %: not met")
def test_targets_on_the_seventh_holdout():
    _check_targets(holdout_cases(DEV), show=False)


def test_the_seventh_holdout_shares_no_scored_utterance_with_anything_tuned_or_trained_on():
    """None of its scored texts may be a dev utterance, a phrasing or a chatter line (the classifier trains on all
    of those), or it would not be blind. One of its 416 rows is a dev sentence but for case (two writers, one
    sentence): it is left out of the score like every row already on the dev side. Counts only: a failure must not
    print the hold-out's texts."""
    from models import triage_sets
    from models.triage_sets import normalized_text as norm

    earlier = {norm(c["text"]) for c in DEV} | {norm(t) for t in phrasing_texts() | set(triage_sets.chatter())}
    scored = holdout_cases(DEV)
    assert len(load_cases(HOLDOUT_FILE)) == 416 and len(scored) == 415
    assert sum(norm(c["text"]) in earlier for c in scored) == 0


def test_the_holdout_failures_cannot_be_listed(capsys, monkeypatch):
    """`eval_triage.py --show` lists only dev parts: a hold-out's failing texts, once read, would be tuned on."""
    monkeypatch.setattr(sys, "argv", ["eval_triage.py", "--show", "seventh_holdout"])
    with pytest.raises(SystemExit):
        main()
    assert "invalid choice" in capsys.readouterr().err


def test_a_holdout_row_already_on_the_dev_side_is_not_scored(tmp_path, monkeypatch):
    from models import triage_sets

    fifth_text = next(c["text"] for c in DEV if c["split"] == "fifth_holdout")
    dev_text, phrasing = CASES[0]["text"], PHRASINGS[0][1]
    rows = [{"text": t, "red_flag": False, "urgency": "self_care", "split": "x"} for t in
            (dev_text, fifth_text, phrasing, "A sentence nobody tuned on.")]
    path = tmp_path / "seventh.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    monkeypatch.setattr(triage_sets, "HOLDOUT_FILE", path)
    assert [(c["text"], c["split"]) for c in triage_sets.holdout_cases(DEV)] == [
        ("A sentence nobody tuned on.", "seventh_holdout")]
    monkeypatch.setattr(triage_sets, "HOLDOUT_FILE", tmp_path / "absent.jsonl")
    assert triage_sets.holdout_cases(DEV) is None


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
    # Thoughts of suicide with no plan and safe now are same-day (NHS urgent mental health line), not 999 — unless
    # not being safe is said too.
    ("I think about not waking up, but I've no plans and I'm safe tonight.", False),
    ("I've no plans, but I'm not safe on my own and I want to die.", True),
    # A question's condition is hypothetical to its end, however long; the same words said now are not.
    ("What should I do if my son ever has a bad asthma attack and his inhaler doesn't help?", False),
    ("My son is having a bad asthma attack and his inhaler doesn't help, what should I do?", True),
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


@pytest.mark.parametrize("text, status, experiencer", [
    # Someone else "had" it: their past, unless a now-cue says otherwise; "has had" is still now.
    ("My aunt had a bleed on the brain after a fall.", "historical", "other"),
    ("My son had a seizure an hour ago.", "affirmed", "other"),
    ("My son has had seizures all morning.", "affirmed", "other"),
    ("I had a seizure in the car park.", "affirmed", "patient"),  # said of oneself: safety first
    # Onset is not history: "it started three weeks ago" is still there.
    ("The headache started three weeks ago and it's every day.", "affirmed", "patient"),
    ("I had a headache three weeks ago.", "historical", "patient"),
    # Lemmas merge "had" and "'s": "when I cough there's…" is not "when I had…".
    ("When I sneeze there's blood on the tissue.", "affirmed", "patient"),
])
def test_context_cues_of_the_third_round(text, status, experiencer):
    names = {"seizure", "headache", "blood", "internal_bleeding"}
    found = [f for f in extract_findings(text) if f.name in names]
    assert found and {(f.status, f.experiencer) for f in found} == {(status, experiencer)}


@pytest.mark.parametrize("text, flag", [
    # Composition: convulsive movements together, on the floor, or stiffening then jerking (any filler, any order).
    ("My flatmate is twitching and thrashing about.", "seizure"),
    ("Grandad went rigid and then his arms started shaking.", "seizure"),
    ("She's jerking about on the floor.", "seizure"),
    # A bleed and how it flows, anywhere in the sentence.
    ("My finger's bleeding and the blood is spurting out.", "severe_bleeding"),
    # Pressure-type chest words and arm heaviness (AHA).
    ("There's a gripping feeling across my chest.", "cardiac_chest_pain"),
    ("My chest hurts and my left arm has gone heavy.", "cardiac_chest_pain"),
    # Means of suicide said with a reflexive.
    ("I keep thinking I should drown myself.", "suicidal_ideation"),
    # Sepsis: an infection with sudden drowsiness or cold, clammy skin.
    ("He has a kidney infection and he's gone cold and clammy.", "sepsis_signs"),
])
def test_concepts_compose(text, flag):
    assert flag in [f.id for f in triage(text).red_flags]


@pytest.mark.parametrize("text", [
    "Can I have more of my seizure tablets?",
    "My brother has a bleeding disorder.",
    "I almost had a heart attack when I saw the bill.",
    "I'm drowning in paperwork this month.",
    "My chest gets tight when I run for the bus but it goes when I stop.",  # angina: same day, not 999
    "There's no black poo, I just haven't been for three days.",  # a negation a longer concept once swallowed
])
def test_not_an_emergency(text):
    assert triage(text).red_flags == []


def test_every_context_cue_has_its_terminators():
    """medspaCy's `terminating_types` setting once reached only the first cue of each category (spaCy hands the
    lists over as iterators): "history of heart trouble, but my chest is crushing" kept the chest in the past."""
    from edge.voice.nlp import TERMINATED_BY, pipeline

    rules = pipeline().get_pipe("medspacy_context").rules
    for category, terminators in TERMINATED_BY.items():
        cues = [r for r in rules if r.category == category and r.direction.upper() != "BACKWARD"]
        assert cues and all(r.terminated_by == set(terminators) for r in cues), category
    assert "chest_pain" in triage("History of heart trouble, but my chest is crushing.").symptoms
    # A resolution said after the fact still looks back across "but".
    assert triage("I had a nosebleed at the weekend but it's gone now.").urgency == "self_care"
