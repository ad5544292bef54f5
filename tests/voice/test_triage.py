"""Offline triage rules on text: symptoms, negation, duration, severity, red flags, urgency, specialty.

Red-flag expectations follow the public emergency lists the rules cite: NHS "When to call 999", AHA heart-attack
warning signs, the FAST stroke test, NICE CKS anaphylaxis, 988 Lifeline; negation follows NegEx (Chapman 2001)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.voice.triage import extract_findings, triage


def flags(text: str) -> set[str]:
    return {f.id for f in triage(text).red_flags}


@pytest.mark.parametrize("text, expected", [
    ("I have crushing chest pain and I am short of breath.", {"cardiac_chest_pain"}),
    ("I've got chest pain and I feel sweaty and sick.", {"cardiac_chest_pain"}),
    ("There is a pain spreading down my left arm.", {"cardiac_chest_pain"}),
    ("My chest feels tight and heavy.", {"cardiac_chest_pain"}),
    ("My face is drooping on one side.", {"stroke_fast"}),
    ("My speech is slurred and I can't find my words.", {"stroke_fast"}),
    ("My left arm is weak and numb since this morning.", {"stroke_fast"}),
    ("I can't lift my right arm.", {"stroke_fast"}),
    ("I have been having thoughts of suicide.", {"suicidal_ideation"}),
    ("Sometimes I want to kill myself.", {"suicidal_ideation"}),
    ("I feel like I'd be better off dead.", {"suicidal_ideation"}),
    ("I don't want to live anymore.", {"suicidal_ideation"}),
    ("My throat is swelling after I ate peanuts and I have hives.", {"anaphylaxis"}),
    ("I was stung by a bee and now I am wheezing.", {"anaphylaxis"}),
    ("My tongue is swollen.", {"anaphylaxis"}),
    ("I cut my hand and it will not stop bleeding.", {"severe_bleeding"}),
    ("I have been vomiting blood since last night.", {"severe_bleeding"}),
    ("I can't breathe.", {"severe_breathing_difficulty"}),
    ("It was the worst headache of my life, it came on suddenly.", {"thunderclap_headache"}),
    ("I have a fever and a stiff neck.", {"meningitis_signs"}),
    ("My son had a seizure this morning.", {"seizure"}),
])
def test_red_flags_fire(text, expected):
    assert flags(text) == expected
    assert triage(text).urgency == "emergency"
    assert triage(text).red_flags[0].advice


@pytest.mark.parametrize("text", [
    "I have no chest pain and no shortness of breath, just a mild cough.",
    "I deny any chest pain, but my stomach hurts after meals.",
    "I am not suicidal, I just feel tired.",
    "No thoughts of suicide or self harm.",
    "My face is not drooping and my speech is fine.",
    "Denies chest pain.",
    "I have a headache but no stiff neck.",
    "There is no bleeding at the moment.",
    "I don't have any swelling of my throat.",
    "I have a runny nose and a sore throat.",
    "I take metformin for diabetes.",
])
def test_red_flags_do_not_fire_when_negated_or_absent(text):
    assert flags(text) == set()
    assert triage(text).urgency != "emergency"


def test_chest_pain_alone_is_urgent_not_emergency():
    result = triage("I have some chest pain.")
    assert result.red_flags == []
    assert result.urgency == "urgent"


@pytest.mark.parametrize("text, present, negated", [
    ("No fever, but a bad cough.", ["cough"], ["fever"]),
    ("I have no fever and no cough.", [], ["fever", "cough"]),
    ("She denies nausea or vomiting.", [], ["nausea", "vomiting"]),
    ("Without any headache. My back hurts.", ["back_pain"], ["headache"]),
    ("I don't have a fever but my throat is sore.", ["sore_throat"], ["fever"]),
    ("I have a headache and a fever.", ["headache", "fever"], []),
])
def test_negation_scope(text, present, negated):
    result = triage(text)
    assert result.symptoms == present
    assert result.negated == negated


def test_negation_window_is_limited():
    # NegEx's scope is about five words: a trigger far before the mention does not negate it.
    result = triage("Not that it matters much to anybody here at all, the dizziness is awful.")
    assert "dizziness" in result.symptoms


def test_longest_match_wins_and_findings_keep_their_words():
    found = extract_findings("I have crushing chest pain.")
    assert [(f.name, f.text) for f in found] == [("chest_pressure", "crushing chest pain")]


@pytest.mark.parametrize("text, days", [
    ("I have had a headache for three days.", 3),
    ("Coughing for 2 weeks now.", 14),
    ("It started yesterday, well, since yesterday.", 1),
    ("Since last week my knee hurts.", 7),
    ("I've had this rash for a month.", 30),
    ("for a few days", 3),
    ("The pain started five hours ago.", 5 / 24),
    ("It began this morning.", 0.25),
    ("I have a headache.", None),
])
def test_duration(text, days):
    got = triage(text).duration_days
    assert got == (None if days is None else pytest.approx(days, rel=1e-3))


@pytest.mark.parametrize("text, severity, source", [
    ("My back pain is eight out of ten.", 8, "stated"),
    ("The pain is 7/10.", 7, "stated"),
    ("I'd say 3 on a scale of 10.", 3, "stated"),
    ("I have a severe headache.", 8, "described"),
    ("I have a mild cough.", 2, "described"),
    ("The headache is not too bad.", 2, "described"),
    ("My back pain isn't severe.", 2, "described"),
    ("I have a headache.", 4, "default"),
    ("Nothing is wrong with me.", 0, "none"),
])
def test_severity(text, severity, source):
    result = triage(text)
    assert (result.severity, result.severity_source) == (severity, source)


def test_red_flag_without_stated_severity_is_recorded_severe():
    result = triage("My face is drooping.")
    assert (result.severity, result.severity_source) == (8, "red_flag")


@pytest.mark.parametrize("text, specialty", [
    ("I have palpitations and my ankles are swollen.", "cardiology"),
    ("I have a headache and feel dizzy.", "neurology"),
    ("My stomach hurts and I have diarrhoea and nausea.", "gastroenterology"),
    ("I have a rash that itches.", "dermatology"),
    ("I feel anxious and can't sleep and I'm depressed.", "psychiatry"),
    ("My lower back pain is bad.", "orthopedics"),
    ("I have an earache and a sore throat.", "ENT"),
    ("My face is drooping.", "emergency medicine"),
    ("Hello doctor.", "general practice"),
])
def test_specialty(text, specialty):
    assert triage(text).specialty == specialty


@pytest.mark.parametrize("text, urgency", [
    ("I have a mild sore throat and a runny nose.", "self_care"),
    ("I have had diarrhoea for three days.", "routine"),
    ("My back pain is nine out of ten.", "urgent"),
    ("Hello, I am fine.", "none"),
])
def test_urgency(text, urgency):
    assert triage(text).urgency == urgency


def test_result_is_plain_data():
    doc = triage("I have chest pain and I'm short of breath for two hours.").to_dict()
    assert doc["red_flags"][0]["id"] == "cardiac_chest_pain"
    assert doc["red_flags"][0]["evidence"] == ["chest pain", "short of breath"]
    assert doc["engine"] == "rules-v1"
    assert doc["duration_days"] == pytest.approx(2 / 24, rel=1e-3)


def test_implausible_duration_is_dropped_not_stored():
    assert triage("I've had this cough for 500 years.").duration_days is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_text_gives_a_storable_result(text):
    from protocol.schema import validate

    result = triage(text)
    assert 0 <= result.severity <= 10
    assert result.urgency in {"emergency", "urgent", "routine", "self_care", "none"}
    assert (result.urgency == "emergency") == bool(result.red_flags)
    # Whatever was said, the result fits a symptoms row.
    validate("symptoms", {"user_id": "00000000-0000-0000-0000-000000000001", "description": text.strip() or "x",
                          "severity": result.severity, "duration_days": result.duration_days,
                          "triage": result.to_dict()})
