"""The clinical NLP pipeline under triage: a blank English spaCy pipeline with the lookup lemmatizer
(spacy-lookups-data), a sentencizer, medspaCy's TargetMatcher over the symptom vocabulary and medspaCy's ConText for
negated, hypothetical, historical and someone-else mentions. Built in code from edge/voice/vocab.py: nothing is
loaded from a hub or downloaded at run time."""
from __future__ import annotations

import functools
import re
import threading
import warnings
from dataclasses import dataclass, field

from edge.voice import cues, levels, vocab
from protocol.errors import MissingDependencyError

SPAN_GROUP = "triage"
GAP_BLOCK = ("not", "no", "never", "nor", "neither", "but", "and", "or", "because", "if", "although", "however")
# Which clause words end a cue's reach: negation stops at any new clause ("no fever and I have a cough"), a
# condition or a past-time cue only at a contrast ("if I get chest pain, should I…" keeps "I" in scope).
CLAUSE = ("so", "because", "which", "who", "i", "my", "she", "he", "it", "then", "just", "only", "now", "there")
CONTRAST = ("but", "however", "although", "though", "except", "apart", "yet")
PRESENT_PERFECT = ("has", "have", "'s", "'ve")  # before "had": the present perfect, still now
SUPPRESSING = ("NEGATED_EXISTENCE", "HYPOTHETICAL", "HISTORICAL", "HABITUAL", "PAST_EVENT", "PAST_OTHER")
# Which clause words end a cue of each category ("no fever and I have a cough": negation ends at any new clause; a
# condition or a past-time cue only at a contrast, "if I get chest pain, should I…" keeps "I" in scope).
TERMINATED_BY = {"NEGATED_EXISTENCE": ("CLAUSE", "CONTRAST", "AND"), "HYPOTHETICAL": ("CONTRAST",),
                 "HISTORICAL": ("CONTRAST", "AND"), "HABITUAL": ("CONTRAST",),
                 # "my uncle had TB and was coughing blood"; not past "…and his face is swelling".
                 "PAST_OTHER": ("CONTRAST", "CLAUSE"), "ACUTE": ("CONTRAST",)}


def _terminators(category: str, direction: str) -> set[str]:
    """A resolution said after the fact looks back across "but" ("I had chest pain but it's gone now")."""
    if category == "HISTORICAL" and direction == "BACKWARD":
        return {"AND"}
    return set(TERMINATED_BY.get(category, ()))


_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")
_lock = threading.Lock()  # spaCy pipelines are not documented as thread-safe; requests share one


@dataclass
class Mention:
    """One concept found in the text, with its ConText status and the character span it came from."""

    concept: str
    text: str
    start: int  # character offsets into the text triage was given
    end: int
    sentence: int
    categories: set[str] = field(default_factory=set)  # ConText categories that modify it
    cue_spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # category → cue character spans

    @property
    def status(self) -> str:
        """affirmed | negated | hypothetical | historical (the strongest suppressing cue wins, in that order)."""
        if "NEGATED_EXISTENCE" in self.categories:
            return "negated"
        if "HYPOTHETICAL" in self.categories:
            return "hypothetical"
        # Someone else's usual state ("my sister has fits sometimes") or past event ("my mum had heavy bleeding").
        habitual_other = bool({"HABITUAL", "PAST_OTHER"} & self.categories) and "FAMILY" in self.categories
        past = {"HISTORICAL", "PAST_EVENT"} & self.categories
        if (past or habitual_other) and "ACUTE" not in self.categories:
            return "historical"
        return "affirmed"

    @property
    def experiencer(self) -> str:
        """'patient' or 'other' (a relative, friend or anyone else named as having it)."""
        return "other" if "FAMILY" in self.categories else "patient"


def _lemma_table(nlp) -> dict[str, str]:
    return nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")


def _lemmas(nlp, word: str) -> list[str]:
    """The lemmas of a written word as the pipeline will see it (it may split: "can't" → ca, not)."""
    table = _lemma_table(nlp)
    return [table.get(t.text, t.text) for t in nlp.make_doc(lower_keep_offsets(word))]


def _unit(nlp, unit: str) -> list[dict]:
    optional = unit.endswith("?") and len(unit) > 1
    unit = unit.rstrip("?") if optional else unit
    if unit.startswith("~"):
        n = int(unit[1:] or 3)
        return [{"IS_PUNCT": False, "LEMMA": {"NOT_IN": list(GAP_BLOCK)}, "OP": f"{{0,{n}}}"}]
    if "|=" in unit and not unit.startswith("="):
        # "high|=reading" would look for a lemma "=reading": every alternative is exact, or none is.
        raise ValueError(f"vocabulary unit {unit!r} mixes exact (=) and lemma alternatives")
    if set(unit) == {"d"}:
        tokens = [{"SHAPE": unit}]
    elif unit.startswith("="):
        tokens = [{"LOWER": {"IN": [w.lstrip("=") for w in unit[1:].split("|")]}}]  # "=went|=gone": each exact
    else:
        words = [w for alt in unit.split("|") for w in (vocab.CLASSES[alt[1:]] if alt.startswith("@") else (alt,))]
        split = [_lemmas(nlp, w) for w in words]
        if len(split) == 1:  # one written word, which the tokenizer may split ("can't" → ca, n't)
            tokens = [{"LEMMA": lem} for lem in split[0]]
        else:
            tokens = [{"LEMMA": {"IN": sorted({parts[0] for parts in split})}}]
    if optional:
        tokens[0]["OP"] = "?"
    return tokens


def compile_pattern(nlp, phrase: str) -> list[dict]:
    """A vocabulary phrase (see edge/voice/vocab.py) as a spaCy Matcher token pattern."""
    pattern: list[dict] = []
    for unit in phrase.split():
        pattern += _unit(nlp, unit)
    return pattern


_build_lock = threading.Lock()


def pipeline():
    """The spaCy + medspaCy pipeline, built once per process (importing medspaCy takes seconds: it imports NLTK)."""
    with _build_lock:  # a warm-up thread and a request may ask at once: build it once
        return _build()


def warm_up() -> None:
    """Start building the pipeline in the background (while the patient is still speaking)."""
    if _build.cache_info().currsize:
        return
    threading.Thread(target=pipeline, name="triage-nlp-warm-up", daemon=True).start()


@functools.lru_cache(maxsize=1)
def _build():
    try:
        with warnings.catch_warnings():
            # spaCy's CLI helpers (weasel, typer) import click's deprecated parser API: not ours to fix.
            warnings.simplefilter("ignore", DeprecationWarning)
            import spacy
            from medspacy.context import ConText, ConTextRule  # noqa: F401  (registers the factory)
            from medspacy.target_matcher import TargetMatcher, TargetRule  # noqa: F401
    except ImportError:
        raise MissingDependencyError("spacy / medspacy", "voice") from None
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("sentencizer")
    nlp.initialize()  # loads the lemma table from the spacy-lookups-data package (a local file)
    matcher = nlp.add_pipe("medspacy_target_matcher", config={"result_type": "group", "span_group_name": SPAN_GROUP,
                                                             "prune": False})
    rules = [TargetRule(f"{c.id}:{p}", c.id, pattern=compile_pattern(nlp, p))
             for c in (*vocab.SYMPTOMS, *levels.MODIFIERS) for p in c.patterns]
    matcher.add(rules)
    context = nlp.add_pipe("medspacy_context", config={
        "rules": None, "input_span_type": "group", "span_group_name": SPAN_GROUP, "span_attrs": None,
        "prune_on_target_overlap": True})
    # Each rule carries its own terminators. (medspaCy's `terminating_types` setting reaches only the first rule of
    # each category: spaCy's config hands the lists over as iterators, which the first rule uses up — so "history
    # of heart trouble, but my chest is crushing" once kept the chest in the past.)
    context_rules = [ConTextRule(lit, cat, pattern=compile_pattern(nlp, lit), direction=direction, max_scope=scope,
                        allowed_types=set(only[0]) if only else None, terminated_by=_terminators(cat, direction))
            for lit, cat, direction, scope, *only in cues.CONTEXT_CUES]
    # Clause words are PSEUDO cues with a one-word scope: medspaCy limits a cue's scope by another only when their
    # scopes overlap at an end, so a sentence-wide scope would never cut anything.
    context_rules += [ConTextRule(w, "CLAUSE", pattern=compile_pattern(nlp, w), direction="PSEUDO", max_scope=1)
              for w in CLAUSE]
    context_rules += [ConTextRule("and", "AND", pattern=compile_pattern(nlp, "and"), direction="PSEUDO", max_scope=1)]
    context_rules += [ConTextRule(w, "CONTRAST", pattern=compile_pattern(nlp, w), direction="PSEUDO",
                         max_scope=1) for w in CONTRAST]
    context.add(context_rules)
    return nlp


def is_dictionary_word(word: str) -> bool:
    """Whether English knows the word: the lemma table's forms and lemmas, and spaCy's function words (a guessed
    non-word like "Heirlik" is in neither)."""
    w = word.strip(".,;:!?\"'()").lower()
    return not w.isalpha() or w in _lemma_table(pipeline()) or w in _dictionary()


@functools.lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(_lemma_table(pipeline()).values()) | STOP_WORDS  # the table's keys are hashes


QUESTION_OPENERS = {"could", "can", "does", "do", "is", "are", "should", "would", "will", "what", "how", "why",
                    "when", "which", "might", "may"}
PERSONS = {"i", "me", "my", "mine", "myself", "he", "she", "him", "his", "her", "hers", "they", "them", "their",
           "we", "us", "our", "someone", "somebody", *vocab.CLASSES["KIN"]}


_REPORTING_NOW = re.compile(r"\bto be \w+ing\b|\bthis (?:much|many|amount)\b")


def _general_question(sent) -> bool:
    """A question about illness in general ("Is coughing up blood always serious?"): it opens like a question, ends
    with a question mark and names no person — a patient asking about themselves or someone beside them names them
    ("Is it normal that I'm coughing up blood?")."""
    words = [t.lower_ for t in sent if not t.is_punct]
    if _REPORTING_NOW.search(sent.text):  # "is it normal to be coughing up this much blood?" reports it
        return False
    return (bool(words) and sent[-1].text == "?" and words[0] in QUESTION_OPENERS
            and not PERSONS & {t.lower_ for t in sent} and not any(t.lemma_ in PERSONS for t in sent))


_NOW_WORDS = re.compile(r"\b(?:now|today|tonight|this (?:morning|afternoon|evening)|at the moment)\b")


def _condition_start(sent) -> int | None:
    """Where a question's condition starts ("What should I do if my daughter ever has an asthma attack and her
    inhaler doesn't help?", "If one of the kids cut themselves badly, how hard should I press?"): every mention from
    its "if" to the question mark is hypothetical, however long the condition (the "if" cue alone reaches ten
    words). None when the sentence is no question, has no "if", or says something is happening now."""
    words = [t for t in sent if not t.is_punct]
    if not words or sent[-1].text != "?" or _NOW_WORDS.search(sent.text):
        return None
    if words[0].lower_ == "if":
        return words[0].idx
    if words[0].lower_ in QUESTION_OPENERS:
        return next((t.idx for t in words if t.lower_ == "if"), None)
    return None


def lower_keep_offsets(text: str) -> str:
    """Lower-case and straighten quotes without changing any character offset (so ASR word spans still align)."""
    text = "".join(c.lower() if len(c.lower()) == 1 else c for c in text).replace("\u2019", "'")
    # A hyphen between letters as a space ("vice-like pain", "light-headed"): a gap never crosses punctuation.
    return _HYPHEN.sub(" ", text)


def mentions(text: str) -> list[Mention]:
    """Every concept and modifier mention in the text, in reading order, with its ConText categories."""
    nlp = pipeline()
    with _lock:
        doc = nlp(lower_keep_offsets(text))
    sents = list(doc.sents)
    sent_index = {s.start: i for i, s in enumerate(sents)}
    general = {i for i, s in enumerate(sents) if _general_question(s)}
    conditions = {i: start for i, s in enumerate(sents) if (start := _condition_start(s)) is not None}
    found: dict[tuple[str, int, int], Mention] = {}
    for span in doc.spans[SPAN_GROUP]:
        key = (span.label_, span.start_char, span.end_char)
        if key in found:
            continue
        m = Mention(span.label_, span.text, span.start_char, span.end_char, sent_index.get(span.sent.start, 0))
        for mod in span._.modifiers:
            cat = mod.category.upper()
            s, e = mod.modifier_span
            if cat == "PAST_OTHER" and s and doc[s - 1].lower_ in PRESENT_PERFECT:
                continue  # "my toddler has had a cough for three weeks": still has it
            if cat == "PAST_OTHER" and s and doc[s - 1].lower_ == "i":
                continue  # "I had my baby ten days ago and the stitches…": the patient's own "had" stays current
            m.categories.add(cat)
            m.cue_spans.setdefault(cat, []).append((doc[s].idx, doc[e - 1].idx + len(doc[e - 1])))
        if m.sentence in general or m.start >= conditions.get(m.sentence, len(text)):
            m.categories.add("HYPOTHETICAL")
        found[key] = m
    return sorted(found.values(), key=lambda m: (m.start, -m.end))
