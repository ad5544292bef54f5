"""The labelled triage utterances of issue 15 (tests/data/voice): which are development data and which is the
hold-out, loaded the same way by the evaluation (bench/eval_triage.py) and by the red-flag classifier's training
(exporters/triage_classifier.py).

Every set scored so far is development data (its figures have been measured and reported, so it can no longer be
blind):
- dev: the first two thirds of triage_cases.jsonl, tuned on from the start;
- holdout: its other third (a hold-out until the second round);
- new_holdout: triage_holdout_new.jsonl (a hold-out until the third round);
- third_holdout: triage_holdout_third.jsonl (written by another engineer; a hold-out until the fourth round);
- fourth_holdout: triage_holdout_fourth.jsonl (written independently; a hold-out until the fifth round, scored once
  by the lead before it became dev);
- fifth_holdout: triage_holdout_fifth.jsonl (written independently; a hold-out until the sixth round, scored once by
  the lead before it became dev);
- sixth_holdout: triage_holdout_sixth.jsonl (written independently; a hold-out until the seventh round, scored once
  by the lead before it became dev).
The only hold-out is seventh_holdout, triage_holdout_seventh.jsonl, written independently by someone who never saw
the rules, the classifier, the other sets or their failures; it was committed unscored and unread before the round
that tuned on the sixth set, and is scored once, by the lead. Its failures can never be listed, and nothing is
trained on it.
"""
from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "voice"
CASES = DATA / "triage_cases.jsonl"
NEW_HOLDOUT = DATA / "triage_holdout_new.jsonl"
THIRD_HOLDOUT = DATA / "triage_holdout_third.jsonl"
FOURTH_HOLDOUT = DATA / "triage_holdout_fourth.jsonl"
FIFTH_HOLDOUT = DATA / "triage_holdout_fifth.jsonl"
SIXTH_HOLDOUT = DATA / "triage_holdout_sixth.jsonl"
# Written independently on 2026-12-07 (by a writer who read nothing of the project's triage) and committed
# unscored: no rule or training reads it; only the evaluation does, when the lead scores it once, after the round
# that tuned on the sixth set.
SEVENTH_HOLDOUT = DATA / "triage_holdout_seventh.jsonl"
PHRASINGS = DATA / "triage_phrasings.txt"
# What a kiosk hears besides symptoms (greetings, names, errands, garbled speech): calm examples for the classifier,
# which otherwise has nothing like them and scores them near its boundary.
CHATTER = DATA / "triage_chatter.txt"
DEV_PARTS = ("dev", "holdout", "new_holdout", "third_holdout", "fourth_holdout",
             "fifth_holdout", "sixth_holdout")  # the dev sets' `split` labels
HOLDOUT = "seventh_holdout"
HOLDOUT_FILE = SEVENTH_HOLDOUT


def load_cases(path: Path = CASES) -> list[dict]:
    """The labelled utterances, one JSON object a line."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def new_holdout(dev: list[dict]) -> list[dict]:
    """The second set without any utterance that is word for word on the dev side (one coincided with a dev case:
    the rules were tuned on it, so it could not count as held out). The file itself is never edited."""
    seen = {c["text"] for c in dev}
    return [c for c in load_cases(NEW_HOLDOUT) if c["text"] not in seen]


def phrasings() -> list[tuple[str, str]]:
    """(urgency, text) of triage_phrasings.txt (written while building the rules: dev side)."""
    return [tuple(line.split("|", 1)) for line in PHRASINGS.read_text().splitlines() if line]


def chatter() -> list[str]:
    """Kiosk small talk and errands, none of them a symptom (classifier training only)."""
    return [line for line in CHATTER.read_text().splitlines() if line]


def phrasing_texts() -> set[str]:
    """The texts of triage_phrasings.txt."""
    return {text for _, text in phrasings()}


def _unseen(path: Path, split: str, dev: list[dict]) -> list[dict]:
    """The rows of a later set less any that is word for word a dev case or a dev phrasing (the rules were tuned on
    those, so they cannot count as unseen), each labelled `split` whatever it says. The file is never edited."""
    seen = {normalized_text(c["text"]) for c in dev} | {normalized_text(t) for t in phrasing_texts()}
    return [{**c, "split": split} for c in load_cases(path) if normalized_text(c["text"]) not in seen]


def normalized_text(text: str) -> str:
    """A text as compared across sets: two writers' same sentence may differ only in case or spacing."""
    return " ".join(text.lower().split())


def third_holdout(dev: list[dict]) -> list[dict]:
    """The third set (a hold-out until the fourth round, dev since), less the rows already on the dev side."""
    return _unseen(THIRD_HOLDOUT, "third_holdout", dev)


def fourth_holdout(dev: list[dict]) -> list[dict]:
    """The fourth set (a hold-out until the fifth round, dev since), less the rows already on the dev side."""
    return _unseen(FOURTH_HOLDOUT, "fourth_holdout", dev)


def fifth_holdout(dev: list[dict]) -> list[dict]:
    """The fifth set (a hold-out until the sixth round, dev since), less the rows already on the dev side."""
    return _unseen(FIFTH_HOLDOUT, "fifth_holdout", dev)


def sixth_holdout(dev: list[dict]) -> list[dict]:
    """The sixth set (a hold-out until the seventh round, dev since), less the rows already on the dev side (one of
    its rows is word for word a fifth-set row)."""
    return _unseen(SIXTH_HOLDOUT, "sixth_holdout", dev)


def dev_cases() -> list[dict]:
    """Every development utterance, each with its part in `split`."""
    cases = load_cases()
    earlier = cases + new_holdout([c for c in cases if c["split"] == "dev"])
    earlier += third_holdout(earlier)
    earlier += fourth_holdout(earlier)
    earlier += fifth_holdout(earlier)
    return earlier + sixth_holdout(earlier)


def holdout_cases(dev: list[dict]) -> list[dict] | None:
    """The hold-out (None while its file is not merged), less any row already on the dev side."""
    if not HOLDOUT_FILE.exists():
        return None
    return _unseen(HOLDOUT_FILE, HOLDOUT, dev)
