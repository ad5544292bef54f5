"""Stage 4, triage: what the patient said → concepts (with negated, hypothetical, historical and someone-else
mentions told apart), red flags that must never be missed, urgency, severity, duration and the specialty to see.

The concepts come from the clinical NLP pipeline in edge/voice/nlp.py (spaCy + medspaCy's TargetMatcher and
ConText over edge/voice/vocab.py); the must-not-miss rules and their published sources are in
edge/voice/redflags.py. Safety first: a red-flag concept that is not clearly negated, hypothetical, historical or a
family history is flagged, and a red flag that depends on a word the recogniser was unsure of is raised and asked
about rather than dropped. Every finding names the words it came from, so a clinician can check why a rule fired.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from edge.voice import levels, nlp, redflags, second_opinion, vocab
from edge.voice.measures import DEFAULT_SEVERITY, duration_days, prepare, severity, temperature_c  # noqa: F401
from edge.voice.redflags import EMERGENCY  # noqa: F401  (kept importable from here)

ENGINE_VERSION = ("nlp-v6 (spaCy + medspaCy ConText; composed concepts, conditions of a question, requests asked; "
                  "a sentence classifier's second opinion)")
LEVELS = ("self_care", "soon", "urgent", "emergency")
LOW_WORD_PROBABILITY = 0.5  # a recognised word below this is marked unsure
DOUBTFUL_SHARE = 0.25  # an utterance with more unsure words than this is doubtful as a whole
DOUBTFUL_MEAN = 0.6
GUESSED_WORD_PROBABILITY = 0.35
HIGH_FEVER_C = 39.0  # NHS: 38 °C is a high temperature; 39 °C and more over days warrants same-day advice
# "blood pressure", "blood test", "giving blood": the word blood with no bleeding in it.
NOT_BLEEDING_AFTER = {"pressure", "test", "tests", "sugar", "sugars", "thinner", "thinners", "sample", "samples",
                      "result", "results", "count", "group", "type", "donor", "work", "glucose", "levels", "level"}
NOT_BLEEDING_BEFORE = {"giving", "give", "gave", "donate", "donated", "donating"}
# "chest pain after heavy meals", "a heavy bag pressing on my chest": the weight is a thing's, not a feeling's.
NOT_PRESSING = {"meal", "meals", "food", "dinner", "lunch", "breakfast", "lifting", "bag", "bags", "shopping",
                "weights", "drinking", "drinker", "cold", "period", "periods", "smoker"}
_SPECIALTY = {c.id: c.specialty for c in vocab.SYMPTOMS}
_LEVEL = {c.id: c.level for c in vocab.SYMPTOMS}
_PERSIST = {c.id: c.persist_days for c in vocab.SYMPTOMS}
_MODIFIERS = {c.id for c in levels.MODIFIERS}


@dataclass
class Word:
    """One recognised word and how sure the recogniser was, with its character span in the transcript."""

    text: str
    start: int
    end: int
    probability: float


@dataclass
class Finding:
    """One concept mention: its name, the words it came from, and its context (negated, hypothetical, …)."""

    name: str
    text: str
    negated: bool
    start: int
    status: str = "affirmed"  # affirmed | negated | hypothetical | historical
    experiencer: str = "patient"  # patient | other
    unsure_words: list[str] = field(default_factory=list)


@dataclass
class RedFlag:
    """A red-flag rule that fired, with the words that made it fire."""

    id: str
    title: str
    advice: str
    evidence: list[str]
    source: str
    confirm: bool = False  # raised on words the recogniser was unsure of: ask the patient to confirm


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
    urgency: str  # emergency | urgent | soon | self_care
    specialty: str
    advice: str
    not_current: list[str] = field(default_factory=list)  # hypothetical or historical mentions
    confidence: dict | None = None  # the recogniser's word confidence, when known
    engine: str = ENGINE_VERSION
    llm: dict | None = field(default=None)
    # The sentence classifier's second opinion (edge/voice/second_opinion.py): its score, threshold and whether it
    # raised a flag; or why it was not asked (a rule already fired, a red flag heard as not current, unavailable).
    second_opinion: dict | None = None

    @property
    def has_red_flags(self) -> bool:
        """True when any must-not-miss rule fired."""
        return bool(self.red_flags)

    def to_dict(self) -> dict:
        """Plain data for storage and JSON."""
        return asdict(self)


def _is_low(word: Word) -> bool:
    return word.probability < LOW_WORD_PROBABILITY


def _words_in(words: list[Word], start: int, end: int) -> list[Word]:
    return [w for w in words if w.start < end and w.end > start]


def _next_word(text: str, m: nlp.Mention) -> set[str]:
    return {w.strip(".,;:!?") for w in text[m.end:].lower().split()[:1]}


def _not_bleeding(text: str, m: nlp.Mention) -> bool:
    before = text[:m.start].lower().split()[-1:]
    return bool(_next_word(text, m) & NOT_BLEEDING_AFTER or set(before) & NOT_BLEEDING_BEFORE)


def _not_pressing(text: str, m: nlp.Mention) -> bool:
    return bool(({w.strip(".,;:!?") for w in m.text.split()} | _next_word(text, m)) & NOT_PRESSING)


def _meant(text: str, found: list[nlp.Mention]) -> list[nlp.Mention]:
    """Drop mentions that are not what they look like: "blood pressure", and a mention inside a longer one that
    hides it ("hay fever" is no fever)."""
    keep = []
    for m in found:
        if m.concept == "blood" and _not_bleeding(text, m) or m.concept == "chest_pressure" and _not_pressing(text, m):
            continue
        if any(m.concept in vocab.HIDES.get(o.concept, ()) and o.start <= m.start and m.end <= o.end
               and (o.end - o.start) >= (m.end - m.start) for o in found):
            continue
        keep.append(m)
    return keep


def _status(m: nlp.Mention, words: list[Word], cautious: bool) -> str:
    """The mention's status; `cautious` ignores any suppressing cue spoken in unsure words only."""
    if m.concept in levels.NOW_WHATEVER_HISTORY and m.status == "historical":
        return "affirmed"  # "I had a stroke years ago and need my clopidogrel": the request is now
    if m.concept in levels.ASKED_FOR and m.status == "hypothetical":
        return "affirmed"  # "how do I get my results?": a request, asked
    if not cautious or not words:
        return m.status
    kept = set(m.categories)
    for cat in nlp.SUPPRESSING:
        spans = m.cue_spans.get(cat, [])
        if spans and all(any(_is_low(w) for w in _words_in(words, s, e)) for s, e in spans):
            kept.discard(cat)
    if m.concept in levels.NOW_WHATEVER_HISTORY:
        kept.discard("HISTORICAL")
    return nlp.Mention(m.concept, m.text, m.start, m.end, m.sentence, kept).status


def _present(found: list[nlp.Mention], statuses: list[str]) -> redflags.Present:
    by_sentence: dict[int, set[str]] = {}
    for m, status in zip(found, statuses, strict=True):
        if status == "affirmed":
            by_sentence.setdefault(m.sentence, set()).add(m.concept)
    return redflags.Present(by_sentence)


def extract_findings(text: str, words: list[Word] | None = None) -> list[Finding]:
    """Concept mentions (not modifiers) in reading order, each with its context and any unsure words in it."""
    found = _meant(text, nlp.mentions(text))
    statuses = [_status(m, [], cautious=False) for m in found]
    return [f for f in _findings(found, words or [], statuses) if f.name not in _MODIFIERS]


def _findings(found: list[nlp.Mention], words: list[Word], statuses: list[str]) -> list[Finding]:
    return [Finding(m.concept, m.text, status == "negated", m.start, status, m.experiencer,
                    [w.text for w in _words_in(words, m.start, m.end) if _is_low(w)])
            for m, status in zip(found, statuses, strict=True)]


def _confidence(words: list[Word]) -> dict:
    low = [w for w in words if _is_low(w)]
    mean = float(sum(w.probability for w in words) / len(words))
    # A guessed non-word is how a mis-heard symptom shows ("headache" came back as "Hannah Heirlik").
    guessed = [w for w in low if w.probability < GUESSED_WORD_PROBABILITY and not nlp.is_dictionary_word(w.text)]
    doubtful = len(low) / len(words) > DOUBTFUL_SHARE or mean < DOUBTFUL_MEAN or bool(guessed)
    return {"words": len(words), "mean_probability": round(mean, 3),
            "unsure_words": [{"word": w.text, "probability": round(w.probability, 3)} for w in low],
            "doubtful": bool(doubtful), "confirm": []}


def _concept_level(c: str, mild: bool, stepped: set[str], explained: dict[str, str]) -> str:
    """One concept's own level: a named cause sets it ("a tummy bug"'s vomiting is self-care); "a bit" (for the
    MILD_LOWERS concepts) or a step-down modifier ("when I stood up too fast") takes a same-day one to "soon"."""
    if c in explained:
        return explained[c]
    if _LEVEL[c] == "urgent" and (mild and c in levels.MILD_LOWERS or c in stepped):
        return "soon"
    return _LEVEL[c]


def _level(present: set[str], sev: int, source: str, days: float | None, modifiers: set[str],
           temp: float | None) -> str:
    """Urgency without a red flag: the highest level of the present concepts, moved by what was said about them."""
    mild = "mild" in modifiers and not present & (levels.REQUESTS | levels.MEASURED | levels.MILD_KEEPS)
    stepped = {c for m in modifiers for c in levels.STEP_DOWN.get(m, ())}
    explained = {c: _LEVEL[e] for e in present for c in levels.EXPLAINS.get(e, ())}
    own = [_concept_level(c, mild, stepped, explained) for c in present if _LEVEL.get(c)]
    if not own:
        return "self_care"
    level = max(own, key=LEVELS.index)
    persists = any(_PERSIST.get(c) and days is not None and days >= _PERSIST[c] for c in present)
    if level == "self_care" and (persists or "worsening" in modifiers):
        level = "soon"
    if level == "soon" and mild and not persists and (days is None or days < 7):
        level = "self_care"  # "a bit stiff", "bleeds a little"
    said = present | modifiers  # a combination may name a modifier ("palpitations that won't settle")
    if any(required <= said and said & any_of for required, any_of in levels.SAME_DAY_COMBOS):
        level = "urgent"
    if "fever" in present and temp is not None and temp >= HIGH_FEVER_C:
        level = max(level, "urgent", key=LEVELS.index)
    if sev >= 8 and level != "self_care" and (source == "stated" or present & levels.PAINS):
        level = "urgent"  # "nine out of ten", "terrible toothache"; not "my sleep is terrible"
    return level


POSSIBLE_EMERGENCY = "possible_emergency"


def warm_up() -> None:
    """Build the NLP pipeline and load the second opinion on other threads, so the first result does not wait."""
    nlp.warm_up()
    second_opinion.warm_up()


def triage(text: str, words: list[Word] | None = None, ask_second_opinion: bool = True) -> TriageResult:
    """Triage a transcript; `words`, when the recogniser gave them, carry its per-word confidence.
    `ask_second_opinion=False` gives the rules alone (evaluation)."""
    words = words or []
    found = _meant(text, nlp.mentions(text))
    strict = [_status(m, words, cautious=False) for m in found]
    fired = redflags.evaluate(_present(found, strict))
    cautious = redflags.evaluate(_present(found, [_status(m, words, cautious=True) for m in found]))
    flags = [_flag(rule, hits, found, strict, words, confirm=False) for rule, hits in fired]
    known = {f.id for f in flags}
    # Lean to caution: a red flag that only an unsure "no"/"if"/"years ago" kept away is raised, to be confirmed.
    flags += [_flag(rule, hits, found, strict, words, confirm=True) for rule, hits in cautious if rule.id not in known]
    findings = _findings(found, words, strict)
    opinion = _second_opinion(text, flags, findings) if ask_second_opinion else None
    if opinion and opinion.get("raised"):
        flags.append(RedFlag(POSSIBLE_EMERGENCY, "Possible emergency (no rule recognised the words)",
                             "This may be an emergency. If you are not sure, call 999 (or your local emergency "
                             "number) now.", [text], f"sentence classifier {opinion['model']} (issue 15)",
                             confirm=True))

    present = [f.name for f in findings if f.status == "affirmed" and f.name not in _MODIFIERS]
    present = list(dict.fromkeys(present))
    negated = list(dict.fromkeys(f.name for f in findings if f.status == "negated" and f.name not in _MODIFIERS
                                 and f.name not in present))
    not_current = list(dict.fromkeys(f.name for f in findings if f.status in ("hypothetical", "historical")
                                     and f.name not in _MODIFIERS and f.name not in present))
    modifiers = {f.name for f in findings if f.status == "affirmed" and f.name in _MODIFIERS}
    sev, source = severity(text, bool(present))
    if flags and source == "default":
        sev, source = levels.RED_FLAG_SEVERITY, "red_flag"
    days = duration_days(text)
    urgency = "emergency" if flags else _level(set(present), sev if present else 0, source, days, modifiers,
                                                temperature_c(text))
    confidence = _confidence(words) if words else None
    if confidence is not None:
        confidence["confirm"] = _questions(flags, findings, confidence)
    return TriageResult(
        symptoms=present, negated=negated, findings=findings, severity=sev, severity_source=source,
        duration_days=days, red_flags=flags, urgency=urgency,
        specialty=_specialty(present, any(f.id != POSSIBLE_EMERGENCY for f in flags)),
        advice=_advice(urgency, flags, bool(present)), not_current=not_current, confidence=confidence,
        second_opinion=opinion)


def not_current_red_flag(findings: list[Finding]) -> str | None:
    """The first red-flag concept heard as negated, hypothetical, historical or someone else's, if any."""
    return next((f.name for f in findings if f.name in redflags.RED_FLAG_CONCEPTS
                 and (f.status != "affirmed" or f.experiencer != "patient")), None)


def second_opinion_withheld(flags: list[RedFlag], findings: list[Finding]) -> str | None:
    """Why the classifier is not asked, or None when it is (the one gate, also used by its training's figures): it
    is asked only when the rules found nothing and heard no red flag as not current or not the patient's, since
    sentence embeddings barely tell "I had chest pain years ago" from "I have chest pain"; ConText does."""
    if flags:
        return "a rule raised a red flag"
    context = not_current_red_flag(findings)
    return f"red-flag words heard as not current or someone else's: {context}" if context else None


def _second_opinion(text: str, flags: list[RedFlag], findings: list[Finding]) -> dict:
    withheld = second_opinion_withheld(flags, findings)
    if withheld:
        return {"asked": False, "reason": withheld}
    model = second_opinion.load()
    if model is None:
        return {"asked": False, "available": False, "reason": second_opinion.unavailable_reason()}
    return {"asked": True} | asdict(model.opinion(text))


def _flag(rule: redflags.RedFlagRule, hits: list[str], found: list[nlp.Mention], statuses: list[str],
          words: list[Word], confirm: bool) -> RedFlag:
    spans = [m for m in found if m.concept in hits]
    evidence = list(dict.fromkeys(m.text for m in spans))
    unsure = any(_is_low(w) for m in spans for w in _words_in(words, m.start, m.end))
    return RedFlag(rule.id, rule.title, rule.advice, evidence, rule.source, confirm or unsure)


def _questions(flags: list[RedFlag], findings: list[Finding], confidence: dict) -> list[str]:
    """What the app should ask the patient to confirm: unsure red flags first, then a doubtful utterance."""
    asks = [f"Did you say \"{' / '.join(f.evidence)}\"? If so, this may be an emergency: {f.title.lower()}."
            for f in flags if f.confirm and f.id != POSSIBLE_EMERGENCY]
    asks += ["This sounds like it could be an emergency: is it happening now? If you are not sure, call 999."
             for f in flags if f.id == POSSIBLE_EMERGENCY]
    unsure_red = [f for f in findings if f.unsure_words and f.name in redflags.RED_FLAG_CONCEPTS
                  and f.status != "affirmed"]
    asks += [f"I was not sure I heard \"{f.text}\" right: please say it again." for f in unsure_red]
    if confidence["doubtful"]:
        asks.append("I could not hear all of that clearly: please say it again, or type it.")
    return asks


def _specialty(present: list[str], emergency: bool) -> str:
    # A possible emergency that only the classifier raised keeps the rules' specialty until the patient confirms it.
    if emergency:
        return "emergency medicine"
    votes: dict[str, int] = {}
    for name in present:
        spec = _SPECIALTY.get(name)
        if spec:
            votes[spec] = votes.get(spec, 0) + 1
    if not votes:
        return "general practice"
    # Most concepts wins; ties go to the first mentioned (dicts keep insertion order).
    return max(votes, key=lambda s: votes[s])


def _advice(urgency: str, flags: list[RedFlag], present: bool) -> str:
    if flags:
        return " ".join(dict.fromkeys(f.advice for f in flags))
    if urgency == "self_care" and not present:
        return "No symptoms were recognised; describe what you feel, or see a doctor if you are worried."
    return {
        "urgent": "Get medical help today: see a doctor or call your local urgent-care line (NHS 111 in the UK).",
        "soon": "Book an appointment with a doctor or pharmacist in the next few days; seek help sooner if it gets "
                "worse.",
        "self_care": "This usually gets better with rest and self-care; see a doctor if it lasts over a week or "
                     "gets worse.",
    }[urgency]
