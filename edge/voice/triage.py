"""Stage 4, triage: a transparent offline rule engine over the transcript — symptoms (with negation, duration and
severity), red flags that must never be missed, urgency and the specialty to see.

Every finding names the words it came from, so a clinician can check why a rule fired. Red-flag rules follow the
public "call emergency services" lists: NHS "When to call 999", the AHA heart-attack warning signs, the Stroke
Association's FAST test, NICE CKS anaphylaxis, and the 988 Suicide & Crisis Lifeline guidance.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from edge.voice.textnorm import words_to_digits

ENGINE_VERSION = "rules-v1"

_BODY = r"(?:left |right )?"
_BE = r"(?:is |are |feels? |feeling |has |have |went |gone |got |getting |been |so |very |really |a bit |all )*"
_CANT = r"(?:can'?t|cannot|can not|could ?n'?t|unable to)"

# symptom name → (specialty, regex patterns). Longer matches win where patterns overlap ("crushing chest pain" is
# chest_pressure, not chest_pain).
LEXICON: dict[str, tuple[str, tuple[str, ...]]] = {
    "chest_pain": ("cardiology", (r"chest pains?", r"pain in (?:my |the )?chest", r"chest (?:hurts|is hurting|ache)",
                                  r"heart ?burn")),
    "chest_pressure": ("cardiology", (
        r"(?:crushing|squeezing|heavy|tight|pressing)(?: \w+)? (?:chest|in (?:my |the )?chest)(?: pains?)?",
        r"chest " + _BE + r"(?:tight|heavy|tightness|pressure)",
        r"(?:tightness|pressure|heaviness) (?:in|on) (?:my )?chest",
        r"pain (?:spreading|radiating|going|moving) (?:down |to |into )+(?:my )?(?:left )?(?:arm|jaw|neck|back)")),
    "shortness_of_breath": ("pulmonology", (
        r"short(?:ness)? of breath", r"out of breath", r"breathless(?:ness)?",
        r"(?:difficulty|trouble|problems?|hard|struggling) (?:to |with )?breath(?:e|ing)",
        r"breathing (?:is )?(?:hard|difficult)")),
    "cannot_breathe": ("pulmonology", (_CANT + r" (?:catch my )?breathe?", r"gasping(?: for air)?", r"choking",
                                       r"lips " + _BE + r"(?:turning )?blue")),
    "wheezing": ("pulmonology", (r"wheez\w*",)),
    "cough": ("pulmonology", (r"cough\w*",)),
    "coughing_blood": ("pulmonology", (r"cough\w* (?:up )?blood",)),
    "palpitations": ("cardiology", (r"palpitations?", r"heart (?:is )?(?:racing|pounding|fluttering|skipping)")),
    "sweating": ("general practice", (r"sweat\w*", r"clammy")),
    "fainting": ("cardiology", (r"faint(?:ed|ing)?", r"passed out", r"blacked out", r"lost consciousness",
                                r"unconscious", r"collapsed")),
    "fever": ("general practice", (r"fevers?", r"feverish", r"high temperature", r"temperature of \d+", r"chills")),
    "headache": ("neurology", (r"head ?aches?", r"migraines?", r"(?:my )?head (?:hurts|is pounding|is killing me)",
                               r"pain in (?:my )?head")),
    "thunderclap_headache": ("neurology", (r"worst headache (?:of|in) my life", r"thunderclap",
                                           r"sudden(?:ly)? (?:a )?(?:severe|terrible|very bad) headache")),
    "stiff_neck": ("neurology", (r"stiff neck", r"neck (?:is )?stiff", r"can'?t (?:bend|move) my neck")),
    "dizziness": ("neurology", (r"dizz\w*", r"light ?headed\w*", r"vertigo", r"room (?:is )?spinning")),
    "facial_droop": ("neurology", (r"face " + _BE + r"(?:droop\w*|drop\w*|numb|crooked|lopsided)",
                                   r"droop\w*(?: face| mouth| on one side)?", r"crooked smile",
                                   r"one side of my face")),
    "limb_weakness": ("neurology", (
        _BODY + r"(?:arm|leg|hand)s? " + _BE + r"(?:weak|numb|heavy|limp|paralys\w*)",
        r"(?:weakness|numbness) (?:in|of) (?:my )?" + _BODY + r"(?:arm|leg|hand|side)s?",
        _CANT + r" (?:lift|raise|move|feel) my " + _BODY + r"(?:arm|leg|hand)s?",
        r"one side of my body")),
    # "blurred" is how speech-to-text often hears "slurred"; "my speech is blurred" means the same to a triage nurse.
    "speech_difficulty": ("neurology", (r"slurr\w*", r"speech " + _BE + r"(?:blurr\w*|garbled|jumbled|strange)",
                                        _CANT + r" (?:speak|talk|get (?:my |the )?words out)",
                                        r"(?:trouble|difficulty|problems?) (?:speaking|talking|finding words)",
                                        r"words (?:are|come out) (?:jumbled|wrong|garbled)")),
    "vision_loss": ("ophthalmology", (r"(?:lost|losing|loss of) (?:my )?(?:vision|sight)", _CANT + r" see",
                                      r"sudden(?:ly)? blind\w*")),
    "blurred_vision": ("ophthalmology", (r"blurr?(?:ed|y) vision", r"vision (?:is )?blurr?(?:ed|y)")),
    "confusion": ("neurology", (r"confus\w*", r"disoriented")),
    "numbness": ("neurology", (r"numb(?:ness)?", r"tingl\w*", r"pins and needles")),
    "seizure": ("neurology", (r"seizures?", r"convuls\w*", r"fitting")),
    "nausea": ("gastroenterology", (r"nause\w*", r"feel(?:ing)? sick", r"queasy")),
    "vomiting": ("gastroenterology", (r"vomit\w*", r"throw(?:ing|n)? up", r"threw up")),
    "vomiting_blood": ("gastroenterology", (r"(?:vomit\w*|throw\w* up|threw up) blood",)),
    "diarrhea": ("gastroenterology", (r"diarrh?o?ea",)),
    "abdominal_pain": ("gastroenterology", (r"(?:stomach|abdominal|belly|tummy) (?:pain|ache|cramps?)",
                                            r"stomach ?ache", r"(?:stomach|belly|tummy) (?:hurts|is hurting)",
                                            r"pain in (?:my )?(?:stomach|abdomen|belly)")),
    "blood_in_stool": ("gastroenterology", (r"blood in (?:my )?(?:stool|poo|urine)", r"black stools?")),
    "back_pain": ("orthopedics", (r"back (?:pain|ache|hurts)", r"backache", r"pain in (?:my )?(?:lower )?back")),
    "joint_pain": ("rheumatology", (r"joint (?:pain|ache)s?", r"(?:knee|hip|shoulder|ankle|wrist|elbow)s? "
                                    r"(?:pain|hurts?|is hurting|aches?)")),
    "rash": ("dermatology", (r"rash\w*", r"itch\w*", r"spots")),
    "hives": ("dermatology", (r"hives", r"welts")),
    "allergic_trigger": ("allergy and immunology", (r"allergic reaction", r"(?:bee |wasp )?st(?:ung|ing)",
                                                    r"(?:ate|eat|eating|eaten) (?:some )?(?:peanuts?|nuts|shellfish)",
                                                    r"anaphyla\w*")),
    "airway_swelling": ("allergy and immunology", (
        r"(?:throat|tongue|lips?|mouth) " + _BE + r"(?:swell\w*|swollen|closing(?: up)?)",
        r"swell\w* (?:of|in) (?:my )?(?:throat|tongue|lips?|mouth|face)", r"throat (?:is )?closing")),
    "sore_throat": ("ENT", (r"sore throat", r"throat (?:is )?(?:sore|hurts|scratchy)")),
    "runny_nose": ("ENT", (r"runny nose", r"blocked nose", r"stuffy nose", r"congest\w*", r"sneez\w*")),
    "ear_pain": ("ENT", (r"ear ?aches?", r"ear (?:pain|hurts)")),
    "fatigue": ("general practice", (r"tired\w*", r"fatigue\w*", r"exhaust\w*", r"no energy")),
    "insomnia": ("psychiatry", (r"insomnia", _CANT + r" sleep", r"trouble sleeping")),
    "anxiety": ("psychiatry", (r"anxi\w*", r"panic\w*", r"worried all the time")),
    "low_mood": ("psychiatry", (r"depress\w*", r"hopeless\w*", r"low mood", r"feel(?:ing)? down")),
    "suicidal_ideation": ("psychiatry", (
        r"suicid\w*", r"kill(?:ing)? myself", r"end(?:ing)? (?:it all|my (?:own )?life)", r"take my (?:own )?life",
        r"want(?:ed)? to die", r"wish(?:ed)? i (?:was|were) dead", r"better off dead", r"hurt(?:ing)? myself",
        r"self[- ]?harm\w*", r"no reason to live", r"(?:don'?t|do not) want to (?:live|be alive)")),
    "severe_bleeding": ("emergency medicine", (
        r"(?:won'?t|will not|doesn'?t|does not|can'?t|cannot|not) stop(?:ping)? (?:the )?bleeding",
        r"bleed\w* (?:heavily|a lot|badly|profusely|everywhere|non ?stop)", r"heavy bleeding",
        r"(?:losing|lost) a lot of blood", r"blood (?:is )?(?:spurting|pouring|everywhere)")),
    "bleeding": ("general practice", (r"bleed\w*", r"blood")),
    "urinary_burning": ("urology", (r"burn\w* (?:when|while) (?:i )?(?:pee|urinat\w*)", r"painful urination")),
    "frequent_urination": ("endocrinology", (r"(?:pee|urinat\w*) (?:a lot|all the time|frequently|often)",
                                             r"frequent urination")),
    "thirst": ("endocrinology", (r"(?:very |always |really )?thirsty", r"excessive thirst")),
    "high_blood_sugar": ("endocrinology", (r"(?:blood )?sugars? (?:is |are )?(?:high|up)", r"hyperglyc\w*")),
    "swollen_legs": ("cardiology", (r"(?:legs?|ankles?|feet) " + _BE + r"swollen", r"swollen (?:legs?|ankles?|feet)")),
}

NEGATIONS = (r"no", r"not", r"never", r"without", r"denies", r"deny", r"denied", r"denying", r"none", r"nor",
             r"neither", r"free of", r"negative for", r"no signs? of", r"don'?t have", r"do not have",
             r"doesn'?t have", r"does not have", r"haven'?t (?:had|got)", r"have not (?:had|got)", r"hasn'?t",
             r"didn'?t have", r"no longer (?:have|has)", r"not having", r"ruled out", r"not any", r"don'?t feel",
             r"do not feel", r"am not", r"i'?m not", r"isn'?t", r"aren'?t")
# Words that end a negation's reach: "no fever but a bad cough", "no chest pain, just a cough".
TERMINATORS = (r"but", r"however", r"although", r"though", r"except", r"apart from", r"just", r"only", r"yet",
               r"still", r"now", r"and (?:i|my|it)", r"i (?:have|am|feel|get|got|think)", r"i'?ve", r"i'?m", r"my",
               r"which", r"who", r"since", r"because")
NEGATION_WINDOW = 6  # words; NegEx's scope (Chapman et al. 2001) is five to six words

_NEG_RE = re.compile(r"\b(?:" + "|".join(NEGATIONS) + r")\b")
_TERM_RE = re.compile(r"\b(?:" + "|".join(TERMINATORS) + r")\b")
_PATTERNS = [(name, re.compile(r"\b" + p + r"\b")) for name, (_, pats) in LEXICON.items() for p in pats]

SEVERITY_WORDS = (
    (8, r"severe(?:ly)?|excruciating|unbearable|terrible|agoni[sz]ing|horrible|worst|crushing|really bad|very bad"
        r"|extreme(?:ly)?"),
    (5, r"moderate|quite bad|bad|pretty bad|getting worse"),
    (2, r"mild(?:ly)?|slight(?:ly)?|a little|a bit|minor"),
)
_MILD_NEGATED_RE = re.compile(r"\b(?:not|isn'?t|wasn'?t|never) (?:too |that |so |very |really )?"
                              r"(?:bad|severe|terrible|painful|serious)\b")
DEFAULT_SEVERITY = 4  # symptoms reported without a stated severity
RED_FLAG_SEVERITY = 8  # a red flag without a stated severity is recorded as severe

MAX_DURATION_DAYS = 36_500  # the symptoms.duration_days bound
_UNIT_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "night": 1, "week": 7, "fortnight": 14, "month": 30,
              "year": 365}
_COUNT = r"(\d+(?:\.\d+)?|a|an|one|a few|few|several|a couple of|a couple|couple of)"
_DURATION_RE = re.compile(r"\b(?:for|past|last|about|almost|over|nearly) (?:the )?(?:past |last )?" + _COUNT
                          + r" (minute|hour|day|night|week|fortnight|month|year)s?\b")
_AGO_RE = re.compile(r"\b" + _COUNT + r" (minute|hour|day|night|week|fortnight|month|year)s? ago\b")
_SINCE = {"this morning": 0.25, "last night": 0.5, "yesterday": 1, "the day before yesterday": 2,
          "last week": 7, "last month": 30, "last year": 365, "this afternoon": 0.1, "today": 0.25}
_SINCE_RE = re.compile(r"\b(?:since|started|began|from) (" + "|".join(sorted(_SINCE, key=len, reverse=True)) + r")\b")
_SCORE_RE = re.compile(r"\b(\d+(?:\.\d+)?) ?(?:out of|/|on a scale of|over) ?10\b")


@dataclass(frozen=True)
class RedFlagRule:
    """A must-not-miss pattern: it fires when `all_of` are all present and, if given, any of `any_of` is."""

    id: str
    title: str
    advice: str
    any_of: tuple[str, ...]
    all_of: tuple[str, ...] = ()
    source: str = ""


EMERGENCY = "Call emergency services now (911 in the US, 112 in the EU, 999 in the UK)."
RED_FLAGS: tuple[RedFlagRule, ...] = (
    RedFlagRule("cardiac_chest_pain", "Chest pain with heart-attack warning signs",
                EMERGENCY + " Sit down and rest; chew 300 mg aspirin unless allergic.",
                ("shortness_of_breath", "cannot_breathe", "sweating", "nausea", "vomiting", "fainting", "dizziness",
                 "chest_pressure"), ("chest_pain",), "AHA heart attack warning signs; NHS chest pain"),
    RedFlagRule("cardiac_chest_pain", "Crushing or radiating chest pain", EMERGENCY
                + " Sit down and rest; chew 300 mg aspirin unless allergic.", ("chest_pressure",), (),
                "NHS: chest pain that feels heavy or tight or spreads to the arm, jaw, neck or back"),
    RedFlagRule("stroke_fast", "Possible stroke (FAST: face, arms, speech)",
                EMERGENCY + " Note the time the symptoms started; do not eat or drink.",
                ("facial_droop", "limb_weakness", "speech_difficulty", "vision_loss"), (),
                "Stroke Association / NHS FAST test"),
    RedFlagRule("suicidal_ideation", "Thoughts of suicide or self-harm",
                "You do not have to face this alone: call or text 988 (US) or your local crisis line now; call "
                "emergency services if you might act on these thoughts.", ("suicidal_ideation",), (),
                "988 Suicide & Crisis Lifeline; NICE NG225"),
    RedFlagRule("anaphylaxis", "Possible anaphylaxis (airway swelling)",
                EMERGENCY + " Use an adrenaline auto-injector if you have one.", ("airway_swelling",), (),
                "NICE CKS angio-oedema and anaphylaxis"),
    RedFlagRule("anaphylaxis", "Possible anaphylaxis (allergic reaction with breathing problems)",
                EMERGENCY + " Use an adrenaline auto-injector if you have one.",
                ("shortness_of_breath", "cannot_breathe", "wheezing", "fainting"), ("hives",),
                "NICE CKS angio-oedema and anaphylaxis"),
    RedFlagRule("anaphylaxis", "Possible anaphylaxis (allergic reaction with breathing problems)",
                EMERGENCY + " Use an adrenaline auto-injector if you have one.",
                ("shortness_of_breath", "cannot_breathe", "wheezing", "fainting"), ("allergic_trigger",),
                "NICE CKS angio-oedema and anaphylaxis"),
    RedFlagRule("severe_bleeding", "Severe bleeding", EMERGENCY + " Press firmly on the wound with a clean cloth.",
                ("severe_bleeding", "vomiting_blood", "coughing_blood"), (), "NHS: when to call 999"),
    RedFlagRule("severe_breathing_difficulty", "Severe difficulty breathing", EMERGENCY, ("cannot_breathe",), (),
                "NHS: when to call 999"),
    RedFlagRule("thunderclap_headache", "Sudden, worst-ever headache", EMERGENCY, ("thunderclap_headache",), (),
                "NICE CG150 headaches: thunderclap headache"),
    RedFlagRule("meningitis_signs", "Fever with a stiff neck", EMERGENCY, ("stiff_neck",), ("fever",),
                "NHS meningitis symptoms"),
    RedFlagRule("seizure", "Seizure", EMERGENCY, ("seizure",), (), "NHS: when to call 999"),
)
# Same-day care without a red flag (NHS 111 "get help today").
URGENT_ALONE = {"chest_pain", "shortness_of_breath", "palpitations", "fainting", "confusion", "blood_in_stool",
                "high_blood_sugar", "blurred_vision", "bleeding", "numbness"}
SELF_CARE = {"runny_nose", "sore_throat", "cough", "fatigue", "headache", "ear_pain", "rash"}


@dataclass
class Finding:
    """One symptom mention: its canonical name, the words it came from, and whether it was negated."""

    name: str
    text: str
    negated: bool
    start: int


@dataclass
class RedFlag:
    """A red-flag rule that fired, with the findings that made it fire."""

    id: str
    title: str
    advice: str
    evidence: list[str]
    source: str


@dataclass
class TriageResult:
    """The outcome of triage: present and negated symptoms, severity, duration, red flags, urgency, specialty."""

    symptoms: list[str]
    negated: list[str]
    findings: list[Finding]
    severity: int
    severity_source: str
    duration_days: float | None
    red_flags: list[RedFlag]
    urgency: str  # emergency | urgent | routine | self_care | none
    specialty: str
    advice: str
    engine: str = ENGINE_VERSION
    llm: dict | None = field(default=None)

    @property
    def has_red_flags(self) -> bool:
        """True when any must-not-miss rule fired."""
        return bool(self.red_flags)

    def to_dict(self) -> dict:
        """Plain data for storage and JSON."""
        return asdict(self)


def prepare(text: str) -> str:
    """Lower-case, spelled numbers as digits, curly quotes straightened, whitespace collapsed."""
    text = text.lower().replace("\u2019", "'").replace("-", " ")
    return " ".join(words_to_digits(text).split())


def extract_findings(text: str) -> list[Finding]:
    """Symptom mentions in reading order, longest match first where patterns overlap, with negation (NegEx-style:
    a trigger up to NEGATION_WINDOW words before the mention, in the same clause, with no terminator between)."""
    text = prepare(text)
    matches = sorted(((m.start(), m.end(), name) for name, rx in _PATTERNS for m in rx.finditer(text)),
                     key=lambda m: (-(m[1] - m[0]), m[0]))
    taken: list[tuple[int, int, str]] = []
    for s, e, name in matches:
        if all(e <= ts or s >= te for ts, te, _ in taken):
            taken.append((s, e, name))
    findings = []
    for s, e, name in sorted(taken):
        findings.append(Finding(name, text[s:e], _negated(text, s), s))
    return findings


def _negated(text: str, start: int) -> bool:
    clause_start = max(text.rfind(c, 0, start) for c in ".;!?") + 1
    before = text[clause_start:start]
    negs = list(_NEG_RE.finditer(before))
    if not negs:
        return False
    last = negs[-1]
    between = before[last.end():]
    if _TERM_RE.search(between):
        return False
    return len(between.split()) <= NEGATION_WINDOW


def _severity(text: str, present: bool) -> tuple[int, str]:
    text = prepare(text)
    score = _SCORE_RE.search(text)
    if score and 0 <= float(score.group(1)) <= 10:
        return round(float(score.group(1))), "stated"
    if _MILD_NEGATED_RE.search(text):  # "not too bad", "not severe": said to play it down
        return 2, "described"
    for value, words in SEVERITY_WORDS:
        if re.search(r"\b(?:" + words + r")\b", text):
            return value, "described"
    return (DEFAULT_SEVERITY, "default") if present else (0, "none")


def _count(word: str) -> float:
    word = word.removeprefix("a ").removesuffix(" of") if word not in ("a", "an") else word
    return {"a": 1, "an": 1, "one": 1, "few": 3, "several": 3, "couple": 2}.get(word) or float(word)


def duration_days(text: str) -> float | None:
    """How long the symptoms have lasted, in days, from phrases like "for three days" or "since yesterday"."""
    text = prepare(text)
    m = _DURATION_RE.search(text) or _AGO_RE.search(text)
    if m:
        days = round(_count(m.group(1)) * _UNIT_DAYS[m.group(2)], 4)
        return days if days <= MAX_DURATION_DAYS else None  # "for 500 years" is a figure of speech
    m = _SINCE_RE.search(text)
    return float(_SINCE[m.group(1)]) if m else None


def triage(text: str) -> TriageResult:
    """Run the offline rules over a transcript."""
    findings = extract_findings(text)
    present = list(dict.fromkeys(f.name for f in findings if not f.negated))
    negated = list(dict.fromkeys(f.name for f in findings if f.negated and f.name not in present))
    flags: dict[str, RedFlag] = {}
    for rule in RED_FLAGS:
        if rule.id in flags or not all(n in present for n in rule.all_of):
            continue
        hits = [n for n in rule.any_of if n in present]
        if hits:
            evidence = [f.text for f in findings if not f.negated and f.name in (*rule.all_of, *hits)]
            flags[rule.id] = RedFlag(rule.id, rule.title, rule.advice, evidence, rule.source)
    severity, source = _severity(text, bool(present))
    if flags and source == "default":
        severity, source = RED_FLAG_SEVERITY, "red_flag"
    if flags:
        urgency = "emergency"
    elif not present:
        urgency = "none"
    elif severity >= 8 or any(n in URGENT_ALONE for n in present):
        urgency = "urgent"
    elif all(n in SELF_CARE for n in present) and severity <= 3:
        urgency = "self_care"
    else:
        urgency = "routine"
    return TriageResult(
        symptoms=present, negated=negated, findings=findings, severity=severity, severity_source=source,
        duration_days=duration_days(text), red_flags=list(flags.values()), urgency=urgency,
        specialty=_specialty(present, bool(flags)), advice=_advice(urgency, list(flags.values())),
    )


def _specialty(present: list[str], emergency: bool) -> str:
    if emergency:
        return "emergency medicine"
    votes: dict[str, int] = {}
    for name in present:
        spec = LEXICON[name][0]
        votes[spec] = votes.get(spec, 0) + 1
    if not votes:
        return "general practice"
    # Most symptoms wins; ties go to the first mentioned (dicts keep insertion order).
    return max(votes, key=lambda s: votes[s])


def _advice(urgency: str, flags: list[RedFlag]) -> str:
    if flags:
        return " ".join(dict.fromkeys(f.advice for f in flags))
    return {
        "urgent": "Get medical help today: see a doctor or call your local urgent-care line (NHS 111 in the UK).",
        "routine": "Book an appointment with a doctor; seek help sooner if it gets worse.",
        "self_care": "This usually gets better with rest and self-care; see a doctor if it lasts over a week or "
                     "gets worse.",
        "none": "No symptoms were recognised; describe what you feel, or see a doctor if you are worried.",
    }[urgency]
