"""Must-not-miss rules: which combinations of present (affirmed) concepts mean "call emergency services now".

Sources, as published:
- NHS, "When to call 999" (nhs.uk/nhs-services/urgent-and-emergency-care-services/when-to-call-999): signs of a heart
  attack (chest pain, pressure, heaviness, tightness or squeezing across the chest), signs of a stroke, sudden
  confusion, suicide attempt, severe difficulty breathing (not being able to get words out, choking or gasping),
  heavy bleeding (spraying, pouring or enough to make a puddle), seizure, unconscious and cannot be woken, sudden
  rapid swelling of the lips, mouth, throat or tongue; South Western Ambulance Service "When to call 999" (loss of
  consciousness, an acute confused state, fits that are not stopping).
- Stroke Association / NHS FAST test: Face dropped, Arms cannot be raised, Speech slurred, Time to call 999; NHS
  Wales BCUHB adds sudden loss or blurring of vision and sudden numbness on one side.
- NHS "Vomiting blood" and "Coughing up blood" (call 999 / go to A&E), NHS "Bleeding from the bottom" (black or dark
  red poo: A&E), NHS "Stomach ache" (sudden, severe pain: call 999), NHS "Headaches" (sudden, agonising headache:
  call 999; NICE CG150 thunderclap headache), NHS "Meningitis" (fever with a stiff neck, dislike of bright light, a
  rash that does not fade under a glass), NICE CKS angio-oedema and anaphylaxis, AHA heart-attack warning signs
  (pain spreading to the arm or jaw, cold sweat, nausea, light-headedness), 988 Suicide & Crisis Lifeline / NICE
  NG225 (self-harm).
- UK Sepsis Trust "SEPSIS" signs (Slurred speech or confusion, Extreme shivering or muscle pain, Passing no urine in
  a day, Severe breathlessness, "It feels like I'm going to die", Skin mottled or discoloured) and NHS "Sepsis"
  (call 999: blue, grey, pale or blotchy skin, lips or tongue; breathing very fast); NHS "Diabetic ketoacidosis"
  (go to A&E: being sick, tummy pain, fruity-smelling breath, deep or fast breathing, very sleepy; high ketones).
- NHS "Ectopic pregnancy" (call 999 or go to A&E: sharp, sudden, intense tummy pain, feeling very dizzy or fainting,
  looking very pale); NHS "Intussusception" and NICE NG143 (green, bile-stained vomit; poo like redcurrant jelly);
  NHS "Head injury" (A&E: knocked out, vomiting since the injury); NHS "Get urgent help for mental health" (not in
  immediate danger: the urgent mental health helpline or 111 the same day, rather than 999).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

EMERGENCY = "Call emergency services now (911 in the US, 112 in the EU, 999 in the UK)."


class Present:
    """The affirmed concepts of one utterance, by name and by sentence, for the rules to test."""

    def __init__(self, by_sentence: dict[int, set[str]]):
        self.by_sentence = by_sentence
        self.all = set().union(*by_sentence.values()) if by_sentence else set()

    def any(self, *names: str) -> list[str]:
        """Which of these concepts are present anywhere in the utterance."""
        return [n for n in names if n in self.all]

    def together(self, first: tuple[str, ...], second: tuple[str, ...]) -> list[str]:
        """Concepts of `first` and `second` said in one sentence ("I threw up and it was full of blood")."""
        for names in self.by_sentence.values():
            a, b = [n for n in first if n in names], [n for n in second if n in names]
            if a and b:
                return a + b
        return []


def _all_of(required: tuple[str, ...], any_of: tuple[str, ...]) -> Callable[[Present], list[str]]:
    def test(p: Present) -> list[str]:
        hits = p.any(*any_of)
        return [*required, *hits] if hits and all(r in p.all for r in required) else []
    return test


def _any(*names: str) -> Callable[[Present], list[str]]:
    return lambda p: p.any(*names)


def _either(*tests: Callable[[Present], list[str]]) -> Callable[[Present], list[str]]:
    def test(p: Present) -> list[str]:
        for t in tests:
            if hit := t(p):
                return hit
        return []
    return test


@dataclass(frozen=True)
class RedFlagRule:
    """A must-not-miss combination: `test` returns the concepts that made it fire, or nothing."""

    id: str
    title: str
    advice: str
    test: Callable[[Present], list[str]]
    source: str


_ASPIRIN = " Sit down and rest; chew 300 mg aspirin unless allergic."
_HEART_SIGNS = ("spreading_pain", "sweating", "shortness_of_breath", "cannot_breathe", "nausea", "vomiting",
                "fainting", "dizziness", "sudden", "worst_ever", "severe", "chest_pressure", "shock_signs",
                "impending_doom", "not_stopping", "arm_jaw_pain", "numbness")
# AHA: a cold sweat, light-headedness, pallor, impending doom, discomfort in one or both arms;
# NHS: chest pain that does not go away, or feels like indigestion with sweating or spreading


_STRONG_HEART_SIGNS = ("spreading_pain", "sweating", "cannot_breathe", "fainting", "shock_signs", "impending_doom",
                       "arm_jaw_pain")


def _heart_signs(p: Present) -> tuple[str, ...]:
    """The heart-attack signs for this utterance: with asthma, a tight chest is the asthma's; one that comes on
    exertion and passes at rest is angina (see a doctor today, NICE CG95) unless another sign comes with it. A chest
    sore where it is pressed or from coughing is the chest wall's (NICE CKS): only a strong sign makes it cardiac."""
    if p.any("chest_wall", "cough_chest_pain"):
        return _STRONG_HEART_SIGNS
    return tuple(s for s in _HEART_SIGNS if s != "chest_pressure" or not _pressure_explained(p))


def _pressure_explained(p: Present) -> bool:
    return bool(p.any("asthma", "wheezing", "relieved_by_rest"))


_ALLERGY_SIGNS = ("cannot_breathe", "shortness_of_breath", "wheezing", "fainting", "face_swelling", "throat_tight",
                  "dizziness", "shock_signs", "voice_change")  # NICE CKS: feeling faint or light-headed
# A racing heart is a sign of shock too (NHS sepsis and blood-loss signs: a fast heartbeat).
_BLEEDING_SHOCK = ("fainting", "dizziness", "shock_signs", "heavy_bleeding", "unresponsive", "palpitations")
_SEPSIS_SIGNS = ("skin_mottled", "rigors", "no_urine", "impending_doom", "fast_breathing", "cannot_stay_awake")


def _two_of(names: tuple[str, ...]) -> Callable[[Present], list[str]]:
    """At least two different concepts of `names`."""
    def test(p: Present) -> list[str]:
        hits = p.any(*names)
        return hits if len(hits) >= 2 else []
    return test
_DKA_SIGNS = ("vomiting", "nausea", "abdominal_pain", "fast_breathing", "drowsy", "cannot_stay_awake",
              "high_blood_sugar")
_BREATHING_OR_SLEEPY = ("fast_breathing", "shortness_of_breath", "drowsy", "cannot_stay_awake")


def _both(*tests: Callable[[Present], list[str]]) -> Callable[[Present], list[str]]:
    """Every test fires; their concepts together."""
    def test(p: Present) -> list[str]:
        hits = [t(p) for t in tests]
        return [n for h in hits for n in h] if all(hits) else []
    return test


def _with_any(first: tuple[str, ...], second: tuple[str, ...]) -> Callable[[Present], list[str]]:
    """One concept of `first` and one of `second`, anywhere in the utterance."""
    def test(p: Present) -> list[str]:
        a, b = p.any(*first), p.any(*second)
        return a + b if a and b else []
    return test

RULES: tuple[RedFlagRule, ...] = (
    RedFlagRule("cardiac_chest_pain", "Chest pain with heart-attack warning signs", EMERGENCY + _ASPIRIN,
                # A tight chest that asthma explains needs a heart sign too (NHS asthma: chest tightness).
                _either(_any("heart_attack", "spreading_pain"),
                        lambda p: [] if _pressure_explained(p) else p.any("chest_pressure"),
                        lambda p: _all_of(("chest_pain",), _heart_signs(p))(p),
                        _all_of(("arm_jaw_pain",), ("sweating", "nausea", "shortness_of_breath", "fainting")),
                        _all_of(("indigestion",), ("sweating", "shock_signs", "spreading_pain", "fainting"))),
                "NHS: when to call 999 (heart attack); AHA heart attack warning signs (pain spreading to the arm, "
                "jaw or neck)"),
    RedFlagRule("stroke_fast", "Possible stroke (FAST: face, arms, speech)",
                EMERGENCY + " Note the time the symptoms started; do not eat or drink.",
                _either(_any("facial_droop", "limb_weakness", "speech_difficulty", "vision_loss", "stroke"),
                        _all_of(("numbness",), ("sudden",)), _all_of(("balance_loss",), ("sudden",)),
                        _all_of(("double_vision",), ("sudden",))),
                "Stroke Association / NHS FAST test; NHS Wales: sudden vision loss or one-sided numbness; BE-FAST "
                "(Aroor et al., Stroke 2017): sudden loss of balance or of vision"),
    RedFlagRule("severe_breathing_difficulty", "Severe difficulty breathing", EMERGENCY,
                _either(_any("cannot_breathe"), _all_of(("shortness_of_breath",), ("severe", "sudden", "worst_ever")),
                        _with_any(("wheezing", "shortness_of_breath", "chest_pressure", "asthma"),
                                  ("speech_struggle",))),
                "NHS: when to call 999 (not able to get words out, choking or gasping)"),
    RedFlagRule("seizure", "Seizure (fit)", EMERGENCY + " Move things away that could hurt them; do not hold them "
                "down; time the fit.", _any("seizure"), "NHS: when to call 999 (seizure)"),
    RedFlagRule("unresponsive", "Unconscious or cannot be woken",
                EMERGENCY + " Check breathing; if breathing, put them in the recovery position.",
                _either(_any("unresponsive", "floppy"), _all_of(("head_injury",), ("cannot_stay_awake",))),
                "NHS: when to call 999 (unconscious, cannot be woken; a baby or child limp or floppy); NHS head "
                "injury (A&E: problems staying awake)"),
    RedFlagRule("serious_injury", "Serious injury", EMERGENCY + " Do not move them if the neck or back may be hurt.",
                _either(_with_any(("major_trauma",), ("abdominal_pain", "belly_swelling", "shock_signs", "bleeding",
                                                      "heavy_bleeding", "fainting", "dizziness", "chest_pain",
                                                      "shortness_of_breath", "headache", "confusion", "fracture",
                                                      "numbness", "limb_weakness", "broken_leg")),
                        # Stabbed or shot; a leg broken (NHS broken leg: call 999, do not move it).
                        _any("penetrating_injury", "broken_leg"),
                        _all_of(("head_injury",), ("vomiting", "seizure", "confusion", "unresponsive")),
                        # NHS broken arm or leg: 999 for a bone through the skin, or a limb cold or pale below it.
                        _any("open_fracture"), _all_of(("fracture",), ("limb_cold", "heavy_bleeding")),
                        # NHS burns: A&E for a deep burn (white, charred or leathery skin).
                        _all_of(("burn",), ("burn_severe", "shock_signs"))),
                "NHS: when to call 999 (severe injuries after a serious accident or assault); NHS head injury (go "
                "to A&E: vomiting, a fit, confusion after a head injury)"),
    RedFlagRule("severe_bleeding", "Heavy bleeding that will not stop",
                EMERGENCY + " Press firmly on the wound with a clean cloth.",
                _either(_any("heavy_bleeding"),
                        lambda p: p.together(("blood", "bleeding"), ("not_stopping", "torrent")),
                        # On a blood thinner, a bleed that goes on (NHS nosebleeds: A&E over 10-15 minutes).
                        _all_of(("anticoagulated", "bleeding"), ("not_stopping", "torrent"))),
                "NHS: when to call 999 (heavy bleeding)"),
    RedFlagRule("coughing_blood", "Coughing up blood", EMERGENCY,
                _either(_any("coughing_blood"), lambda p: p.together(("cough",), ("blood",))),
                "NHS: coughing up blood"),
    RedFlagRule("vomiting_blood", "Vomiting blood", EMERGENCY,
                _either(_any("vomiting_blood"), lambda p: p.together(("vomiting",), ("blood", "altered_blood"))),
                "NHS: vomiting blood (bright red, or dark brown, black or grainy like coffee grounds)"),
    RedFlagRule("internal_bleeding", "Signs of internal bleeding", EMERGENCY + " Lie down and do not eat or drink.",
                _either(_any("internal_bleeding", "black_stool"),
                        _all_of(("belly_swelling",), ("trauma", *_BLEEDING_SHOCK)),
                        # A limb swelling after an injury, with faintness: bleeding into it (a thigh holds litres).
                        _both(_all_of(("swollen_legs",), ("major_trauma", "trauma", "fracture")),
                              _all_of(("swollen_legs",), _BLEEDING_SHOCK)),
                        _all_of(("rectal_bleeding",), _BLEEDING_SHOCK), _all_of(("haematuria",), _BLEEDING_SHOCK),
                        # A blow to the belly, then faint or pale; a spreading bruise on a blood thinner or with
                        # faintness (NHS anticoagulants and internal bleeding).
                        _all_of(("abdominal_trauma",), _BLEEDING_SHOCK),
                        _all_of(("bruise_spreading",), ("anticoagulated", *_BLEEDING_SHOCK))),
                "NHS: bleeding from the bottom (black or dark red poo); NHS: when to call 999"),
    RedFlagRule("ectopic_pregnancy", "Possible ectopic pregnancy (bleeding inside)",
                EMERGENCY + " Lie down and do not eat or drink.",
                _both(_any("pregnant"), _any("abdominal_pain", "flank_pain", "ectopic"),
                      _any("fainting", "shock_signs", "dizziness")),
                "NHS: ectopic pregnancy (call 999 or go to A&E: sharp, sudden, intense tummy pain, feeling very "
                "dizzy or fainting, looking very pale)"),
    RedFlagRule("pulmonary_embolism", "Possible blood clot in the lung (pulmonary embolism)", EMERGENCY,
                _either(_with_any(("pleuritic_pain", "chest_pain", "coughing_blood"), ("clot_risk",)),
                        _all_of(("shortness_of_breath", "clot_risk"), ("sudden", "severe"))),
                "NHS: pulmonary embolism (call 999: sudden chest pain worse when breathing in, sudden breathlessness, "
                "coughing up blood; after surgery, a long journey or with a swollen calf); NICE NG158"),
    RedFlagRule("sudden_confusion", "Sudden confusion", EMERGENCY,
                _either(_any("disoriented"), lambda p: [] if "memory_problem" in p.all and "sudden" not in p.all
                        else p.any("confusion")),
                "NHS: when to call 999 (suddenly confused or disorientated)"),
    RedFlagRule("thunderclap_headache", "Sudden, severe (worst-ever) headache", EMERGENCY,
                _either(_any("thunderclap"), _all_of(("headache",), ("sudden", "worst_ever", "stiff_neck"))),
                "NHS: headaches (sudden, agonising headache: call 999); NICE CG150 thunderclap headache"),
    RedFlagRule("acute_abdomen", "Sudden, severe abdominal pain",
                EMERGENCY + " Do not eat or drink until you have been seen.",
                _either(_all_of(("abdominal_pain",), ("severe", "sudden", "worst_ever", "rigid_abdomen")),
                        _all_of(("rigid_belly",), ("severe", "sudden", "worst_ever", "vomiting", "fainting", "fever",
                                                   "shock_signs")),  # a hard belly with sickness or fever
                        _all_of(("belly_swelling",), ("severe", "worst_ever")),
                        # Green (bile) vomit with tummy pain or blood from the bottom: a blocked or twisted bowel.
                        _all_of(("bilious_vomit",), ("abdominal_pain", "rigid_abdomen", "rectal_bleeding",
                                                     "redcurrant_stool", "blood", "belly_swelling"))),
                "NHS: stomach ache (sudden, severe pain: call 999); NHS intussusception (green vomit, poo like "
                "redcurrant jelly: A&E); NICE NG143 (bile-stained vomiting, red)"),
    RedFlagRule("anaphylaxis", "Possible anaphylaxis", EMERGENCY + " Use an adrenaline auto-injector if you have one.",
                # A swollen throat with tonsillitis or glands over days, breathing and swallowing well, is an infection.
                _either(_any("adrenaline_used"),
                        lambda p: [] if p.any("tonsillitis", "sore_throat", "swollen_glands") and not p.any(
                            *_ALLERGY_SIGNS, "allergen", "allergic_reaction") else p.any("airway_swelling"),
                        _all_of(("allergic_reaction",), _ALLERGY_SIGNS), _all_of(("allergen",), _ALLERGY_SIGNS),
                        _all_of(("face_swelling",), ("cannot_breathe", "shortness_of_breath", "wheezing",
                                                     "voice_change"))),
                "NHS: when to call 999 (sudden swelling of lips, mouth, throat or tongue); NICE CKS anaphylaxis"),
    RedFlagRule("suicidal_ideation", "Thoughts of suicide or self-harm",
                "You do not have to face this alone: call or text 988 (US), Samaritans 116 123 (UK) or your local "
                "crisis line now; call emergency services if you might act on these thoughts or have taken "
                "something.",
                # Thoughts said with no plan and safe now are same-day (NHS urgent mental health line, 111),
                # not 999; the concept's own level (urgent) then applies.
                # Goodbyes (letters left for the family, things given away) with "I can't go on" are a plan.
                lambda p: [] if p.any("safe_now") and not p.any("unsafe_now") else (
                    p.any("suicidal") or _with_any(("giving_up",), ("farewell",))(p)
                    or _with_any(("jump_intent",), ("jump_place",))(p)
                    or _with_any(("farewell", "giving_up"), ("suicide_means",))(p)),
                "NHS: when to call 999 (suicide attempt); NHS: urgent mental health helpline (not in immediate "
                "danger); 988 Lifeline; NICE NG225"),
    RedFlagRule("meningitis_signs", "Possible meningitis or sepsis", EMERGENCY,
                _either(_any("nonblanching_rash"),
                        _all_of(("fever",), ("stiff_neck", "photophobia", "floppy", "cannot_stay_awake"))),
                "NHS: meningitis symptoms (rash that does not fade under a glass, stiff neck, dislike of light)"),
    RedFlagRule("sepsis_signs", "Possible sepsis", EMERGENCY,
                # NHS sepsis: an infection with sudden drowsiness, or with cold, clammy, pale skin.
                _either(_any("sepsis"), _with_any(("fever", "infection"), _SEPSIS_SIGNS),
                        lambda p: _with_any(("infection",), ("shock_signs",))(p) or (
                            _with_any(("fever", "infection"), ("drowsy",))(p) and p.any("sudden", "shock_signs")),
                        # NHS sepsis lists mottled or blotchy skin and no wee in 12 hours as 999 signs by
                        # themselves (a baby or child especially): two of the signs together, infection or not.
                        _two_of(_SEPSIS_SIGNS),
                        _with_any(("skin_mottled",), ("cannot_breathe", "drowsy", "confusion", "floppy")),
                        # NICE CG151: a temperature or shivering on chemotherapy is neutropenic sepsis.
                        _all_of(("chemotherapy",), ("fever", "high_fever", "rigors"))),
                "UK Sepsis Trust: the SEPSIS signs; NHS: sepsis (call 999); NICE CG151 neutropenic sepsis"),
    RedFlagRule("diabetic_ketoacidosis", "Possible diabetic ketoacidosis (DKA)", EMERGENCY +
                " If you have type 1 diabetes, check your ketones; keep taking your insulin.",
                _either(_with_any(("ketones",), ("diabetes", *_DKA_SIGNS)),
                        _all_of(("diabetes",), ("fast_breathing", "drowsy", "cannot_stay_awake")),
                        _all_of(("diabetes", "vomiting"), ("abdominal_pain", "high_blood_sugar", "out_of_critical_med",
                                                           "shortness_of_breath")),
                        # Type 1 not yet known: thirst and weeing with sickness and deep breathing or drowsiness.
                        _both(_any("thirst_polyuria"), _any("vomiting", "abdominal_pain"),
                              _any(*_BREATHING_OR_SLEEPY)),
                        # NHS DKA: high blood sugar with being sick, tummy pain, fast breathing or sleepiness.
                        _all_of(("high_blood_sugar",), ("vomiting", "abdominal_pain", "fast_breathing", "drowsy",
                                                        "cannot_stay_awake"))),
                "NHS: diabetic ketoacidosis (go to A&E)"),
)

# Concepts that matter to a red-flag rule: an unsure word in or around one of them is worth a question.
RED_FLAG_CONCEPTS = frozenset({
    "heart_attack", "chest_pressure", "chest_pain", "facial_droop", "limb_weakness", "speech_difficulty",
    "vision_loss", "stroke", "cannot_breathe", "seizure", "unresponsive", "heavy_bleeding", "coughing_blood",
    "vomiting_blood", "internal_bleeding", "black_stool", "confusion", "thunderclap", "headache", "abdominal_pain",
    "airway_swelling", "suicidal", "nonblanching_rash", "stiff_neck", "blood", "rectal_bleeding", "haematuria",
    "shortness_of_breath", "sepsis", "skin_mottled", "ketones", "fast_breathing", "impending_doom", "disoriented",
    "adrenaline_used", "open_fracture", "farewell"})


def evaluate(present: Present) -> list[tuple[RedFlagRule, list[str]]]:
    """Every rule that fires, once per id, with the concepts that made it fire."""
    fired: dict[str, tuple[RedFlagRule, list[str]]] = {}
    for rule in RULES:
        if rule.id not in fired and (hits := rule.test(present)):
            fired[rule.id] = (rule, list(dict.fromkeys(hits)))
    return list(fired.values())
