"""Text normalisation shared by triage and scoring: case, punctuation, spelled-out numbers; and word error rate."""
from __future__ import annotations

import re

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
NUMBER_WORDS: dict[str, int] = {w: i for i, w in enumerate(_UNITS)} | {w: 10 * i for i, w in enumerate(_TENS) if w}
NUMBER_WORDS |= {"a couple of": 2, "a couple": 2, "a few": 3, "several": 3, "a dozen": 12, "half a": 0.5}
_WORD_RE = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")


def words_to_digits(text: str) -> str:
    """Rewrite spelled-out numbers up to ninety-nine as digits ("twenty one" → "21", "eight" → "8")."""
    out: list[str] = []
    tokens = text.split()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        bare = tok.strip(",.;:!?").lower()
        if bare in NUMBER_WORDS and " " not in bare:
            value = NUMBER_WORDS[bare]
            nxt = tokens[i + 1].strip(",.;:!?").lower() if i + 1 < len(tokens) else ""
            # "twenty one" / "twenty-one" become one number; a plain unit stays alone.
            if value >= 20 and value % 10 == 0 and nxt in NUMBER_WORDS and 0 < NUMBER_WORDS[nxt] < 10:
                value += NUMBER_WORDS[nxt]
                tok = tokens[i + 1]
                i += 1
            out.append(str(value) + tok[len(tok.rstrip(",.;:!?")):])
        elif "-" in bare and all(p in NUMBER_WORDS for p in bare.split("-")):
            parts = [NUMBER_WORDS[p] for p in bare.split("-")]
            out.append(str(sum(parts)) + tok[len(tok.rstrip(",.;:!?")):])
        else:
            out.append(tok)
        i += 1
    return " ".join(out)


def normalize(text: str) -> str:
    """Lower-case, numbers as digits, punctuation dropped, whitespace collapsed (the form WER is scored on)."""
    text = words_to_digits(text.lower().replace("-", " "))
    return " ".join(_WORD_RE.findall(text.replace("'", "")))


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length) after normalisation: substitutions + deletions + insertions."""
    ref, hyp = normalize(reference).split(), normalize(hypothesis).split()
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1], len(ref)


def wer(references: list[str], hypotheses: list[str]) -> float:
    """Corpus word error rate: total word edits over total reference words."""
    if len(references) != len(hypotheses):
        raise ValueError("references and hypotheses differ in length")
    edits = words = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        e, n = word_errors(ref, hyp)
        edits += e
        words += n
    return edits / words if words else 0.0
