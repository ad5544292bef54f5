"""Numbers said in a complaint: severity ("eight out of ten", "severe"), duration ("for three days", "since
yesterday") and a stated body temperature, read with regular expressions from the normalised transcript."""
from __future__ import annotations

import re

from edge.voice.textnorm import words_to_digits


def prepare(text: str) -> str:
    """Lower-case, spelled numbers as digits, curly quotes straightened, whitespace collapsed."""
    text = text.lower().replace("\u2019", "'").replace("-", " ")
    return " ".join(words_to_digits(text).split())


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
# "been there four weeks", "been going on six weeks": how long, without a "for".
_DURATION_RE = re.compile(r"\b(?:for|past|last|about|almost|over|nearly|been|lasted|lasting) "
                          r"(?:there |going on |like (?:this|that) )?(?:the )?(?:past |last )?"
                          r"(?:over |about |nearly |almost |around |more than |at least )?" + _COUNT
                          + r" (minute|hour|day|night|week|fortnight|month|year)s?\b")
_AGO_RE = re.compile(r"\b" + _COUNT + r" (minute|hour|day|night|week|fortnight|month|year)s? ago\b")
_SINCE = {"this morning": 0.25, "last night": 0.5, "yesterday": 1, "the day before yesterday": 2,
          "last week": 7, "last month": 30, "last year": 365, "this afternoon": 0.1, "today": 0.25}
_SINCE_RE = re.compile(r"\b(?:since|started|began|from) (" + "|".join(sorted(_SINCE, key=len, reverse=True)) + r")\b")
_SCORE_RE = re.compile(r"\b(\d+(?:\.\d+)?) ?(?:out of|/|on a scale of|over) ?10\b")
# "a temperature of 39.5", "thirty nine point five", "102 degrees": NHS counts 38 °C or more as a high temperature.
_TEMP_RE = re.compile(r"\b(3[5-9]|4[0-3]|9[5-9]|10[0-9])(?:(?:\.| point )(\d))?(?: ?(?:degrees|°|c\b|f\b))?")


def severity(text: str, present: bool) -> tuple[int, str]:
    """(0–10, how it was known: stated | described | default | none) from the words of the complaint."""
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



def temperature_c(text: str) -> float | None:
    """A body temperature the patient stated, in °C (Fahrenheit converted), when near the word temperature/fever."""
    text = prepare(text)
    if not re.search(r"\b(?:temperature|temp|fever|thermometer)\b", text):
        return None
    for m in _TEMP_RE.finditer(text):
        value = float(m.group(1) + "." + (m.group(2) or "0"))
        return round((value - 32) * 5 / 9, 1) if value >= 95 else value
    return None
