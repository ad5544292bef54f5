"""What moves urgency: the modifiers said about a complaint (sudden, worst ever, a bit, getting worse, …), matched
like symptoms in the notation of edge/voice/vocab.py, and the tables with which edge/voice/triage.py combines the
present concepts into a level (requests, same-day combinations, what "a bit" lowers or keeps, step-downs, causes that
explain a symptom). The red-flag rules are in edge/voice/redflags.py.
"""
from __future__ import annotations

from edge.voice.vocab import Concept


def _m(id: str, *patterns: str) -> Concept:
    """A modifier: no specialty and no level of its own; it moves the level of the concepts it is said with."""
    return Concept(id, "", None, patterns)


# Modifiers: what makes a complaint more or less urgent. They are matched like symptoms, so ConText can negate
# them too ("nothing sudden").
MODIFIERS: tuple[Concept, ...] = (
    _m("sudden", "sudden", "suddenly", "all of a sudden", "out of nowhere", "out of the blue",
       "in a|an ~1 second|flash|instant|moment", "in|within seconds",
       "all at once", "come|came ~2 on ~1 fast|quickly|suddenly", "come|came ~2 on all at once",
       "just ~1 start|started",
       "explode", "exploded", "without warning"),
    _m("worst_ever", "=worst ~4 ever|life", "=worst headache", "=worst pain", "=worse than ~3 ever",
       "never ~2 had ~3 like ~1 this|it", "worst i've ever", "=worst of my life", "=worst i ~1 had|felt|experienced",
       "like nothing ~4 before", "nothing like ~1 it|this ~4 before"),
    _m("severe", "severe", "severely", "excruciating", "unbearable", "agony", "agonising", "agonizing",
       "horrendous", "terrible", "awful", "extreme", "extremely", "intense", "crippling", "so much",
       "really bad", "very bad", "blinding", "stabbing", "so bad", "so|really badly", "like a knife",
       # How a bystander sees severe pain, a child's especially: screaming with it, curled up with it.
       "scream|screaming|screamed|howl|howling ~2 with|in ~1 pain|agony", "curl|curled up ~3 screaming|crying|in|with",
       "@PAIN ~2 too much"),
    _m("not_stopping", "@NOT ~4 stop|stopping", "keep|keeps ~1 going|coming", "@NOT ~2 go ~1 away",
       "@NOT ~2 ease|easing|settle|settling|shift|shifting|budge|budging|improve|improving",
       "@NOT ~2 let|letting ~1 up", "@NOT ~2 go|going ~1 off"),
    # Vomit that is black, dark brown or grainy is altered blood (NHS "Vomiting blood": like coffee grounds); with
    # vomiting in the same sentence it is a red flag (redflags.py), alone ("gritty eyes") it is nothing.
    _m("altered_blood", "grainy", "gritty", "granular", "granules", "=black", "dark brown"),
    # A bleed described by how it flows; with blood or bleeding in the same sentence it is heavy (redflags.py).
    _m("torrent", "@TORRENT", "like ~1 a ~1 tap", "run|running|ran ~2 out ~3 like"),
    # Exertional chest pain that passes at rest, over weeks: stable angina, same day, not 999 (NICE CG95).
    _m("relieved_by_rest",
       "go|goes|went|ease|eases|eased|settle|settles|stop|stops|pass|passes|disappear|disappears ~2 "
       "when|if|after|once|as ~2 stop|rest|sit|sat|slow|calm"),
    # Said with thoughts of suicide: no plan and safe now (NHS: urgent mental health help the same day, 111; not 999).
    _m("safe_now", "@NOT ~3 plan|plans", "=\'m|=am ~1 safe", "feel|feeling ~1 safe",
       "never ~1 act", "@NOT ~2 act ~1 on ~1 it|them"),
    # ...unless not being safe is said too, which keeps the 999 flag ("no plans, but I'm not safe on my own").
    _m("unsafe_now", "@NOT ~2 safe", "@NOT ~3 keep ~1 myself ~1 safe"),
    # Where a rash is: by the eye, shingles needs seeing the same day (SAME_DAY_COMBOS).
    _m("near_eye", "near|around|round|towards|by|into ~1 my|his|her|the ~1 eye|eyes"),
    # A faint on standing up quickly (NHS "Fainting": see a GP, not urgent) and breathlessness that crept up over
    # months (NHS: see a GP) are a step lower than the same symptom out of the blue (STEP_DOWN).
    _m("on_standing", "stood|stand|standing|got|get|getting ~1 up ~2 too? ~1 quickly|fast|quick|suddenly"),
    _m("gradual", "creep|creeping|crept ~1 up", "gradually", "gradual", "slowly ~1 getting|got|get",
       "over ~1 the ~1 last|past ~1 year|months|few months|couple of years"),
    _m("mild", "mild", "mildly", "slight", "slightly", "a bit", "a little", "minor", "a touch", "the odd",
       "tiny|little|small ~1 bit|amount|drop|spot", "a tiny",
       "niggle", "niggling", "on and off",
       # The patient sizing it up: "it's itchy but that's all", "from the pharmacy".
       "that's all", "that is all", "nothing else", "from ~2 the ~1 pharmacy|chemist|pharmacist"),
    _m("worsening", "get|getting|got ~1 =worse", "=worse and =worse", "spreading",
       "much|even|far|lot ~1 =worse",
       "more ~1 frequent|often|regular", "keep|keeps ~1 getting|coming", "every day", "over and over",
       "again and again", "recurrent", "recurring", "coming back", "nothing ~1 help|helps|helping|works",
       # Recurring, or a treatment failing: worth seeing a GP.
       "@NOT ~2 work|working|help|helping|touch|touching",
       "=most ~1 night|nights|day|days|morning|mornings", "every ~1 night|nights|morning|mornings"),
)

REQUESTS = frozenset({"refill", "appointment", "admin", "out_of_critical_med"})  # asked for now, whatever the history
# A request for the practice's work is asked as a question ("how do I get my results?", "should my son be tested?"):
# the question does not make it hypothetical.
ASKED_FOR = frozenset({"appointment", "admin"})
# Now whatever the history: a request, and a wound still open ("a deep cut, it's stopped bleeding").
NOW_WHATEVER_HISTORY = REQUESTS | {"deep_cut"}
# Severity words ("terrible", "really bad") move these; "my sleep is terrible" is no 8 out of 10.
PAINS = frozenset({"abdominal_pain", "back_pain", "headache", "joint_pain", "toothache", "ear_pain", "chest_pain",
                   "arm_jaw_pain", "sore_throat", "flank_pain", "testicular_pain", "periods"})
# Same-day care for a combination (NHS 111 "get help today"): (all of these, and any of those).
SAME_DAY_COMBOS: tuple[tuple[frozenset[str], frozenset[str]], ...] = (
    # NHS palpitations: with dizziness, fainting, chest pain or breathlessness.
    (frozenset({"palpitations"}), frozenset({"dizziness", "fainting", "chest_pain", "shortness_of_breath"})),
    (frozenset({"fever"}), frozenset({"flank_pain"})),  # NHS: a high temperature with pain in the side (kidney)
    # NHS kidney infection: a urine infection with a temperature and pain in the back or side, 111 the same day.
    (frozenset({"urinary_burning", "fever"}), frozenset({"back_pain", "flank_pain"})),
    # NHS head injury: headache, vomiting, dizziness or drowsiness afterwards.
    (frozenset({"head_injury"}), frozenset({"headache", "vomiting", "dizziness", "drowsy", "fainting", "nausea"})),
    (frozenset({"young_infant"}), frozenset({"fever"})),  # NICE NG143: under 3 months with 38 °C or more is red
    # UKONS / NHS: a temperature during chemotherapy, the chemotherapy helpline now; a fever after travel (malaria)
    # or with a hot, swollen joint (septic arthritis), same day.
    (frozenset({"chemotherapy"}), frozenset({"fever", "high_fever", "rigors"})),
    (frozenset({"recent_travel"}), frozenset({"fever", "high_fever"})),
    (frozenset({"hot_swollen_joint"}), frozenset({"fever", "high_fever"})),
    # NHS: in pregnancy a urine infection, fever, tummy pain or bleeding needs the GP or maternity unit today.
    (frozenset({"pregnant"}), frozenset({"fever", "urinary_burning", "abdominal_pain", "bleeding", "blood"})),
    (frozenset({"vomiting"}), frozenset({"dizziness", "fainting", "no_urine", "poor_intake"})),  # dehydration
    (frozenset({"eye_pain"}), frozenset({"photophobia", "blurred_vision"})),  # NHS: a painful red eye, same day
    (frozenset({"photophobia"}), frozenset({"eye_irritation"})),
    # NICE NG143 amber: a fever with a child unusually sleepy; NHS palpitations that do not settle.
    (frozenset({"fever"}), frozenset({"drowsy"})), (frozenset({"high_fever"}), frozenset({"drowsy"})),
    (frozenset({"palpitations"}), frozenset({"not_stopping"})),
    (frozenset({"hearing_loss"}), frozenset({"sudden"})),  # NHS: sudden hearing loss, 111 the same day
    (frozenset({"shingles"}), frozenset({"near_eye", "eye_pain", "blurred_vision"})),  # NHS: shingles by the eye
)
# Same-day alone, but "a bit breathless", "a mild burn" or "a slight reaction" can wait: mild lowers them a step.
MILD_LOWERS = frozenset({"shortness_of_breath", "burn", "allergic_reaction", "wound_infection"})
# "A bit" does not make these wait: any bleeding from the bottom needs a GP (NHS), however little.
MILD_KEEPS = frozenset({"rectal_bleeding"})
# A modifier that lowers these concepts a step (urgent → soon): a faint on standing, breathlessness over months.
STEP_DOWN: dict[str, frozenset[str]] = {"on_standing": frozenset({"fainting"}),
                                        "gradual": frozenset({"shortness_of_breath"})}
# A cause named that explains a symptom sets its level: a stomach bug's vomiting is self-care.
# A chest sore where it is pressed is the chest wall's (NICE CKS), seen within days (sore from coughing is not
# lowered: vocab.cough_chest_pain keeps chest pain's own level).
EXPLAINS: dict[str, frozenset[str]] = {"tummy_bug": frozenset({"vomiting", "nausea"}),
                                       "chest_wall": frozenset({"chest_pain"})}
MEASURED = frozenset({"high_blood_pressure", "high_blood_sugar"})  # "a bit high" is still worth a check

RED_FLAG_SEVERITY = 8  # a red flag without a stated severity is recorded as severe
