"""Triage accuracy on the committed test sets: red-flag recall, false alarms and urgency agreement on three parts,
and the triage's own time per utterance.

- dev: two thirds of tests/data/voice/triage_cases.jsonl, the part the rules were tuned on;
- holdout: its other third, no rule tuned on it;
- new_holdout: tests/data/voice/triage_holdout_new.jsonl, written later and committed on its own before any further
  rule change, so that the old hold-out's figures, once seen, are not the only check.

    .venv/bin/python bench/eval_triage.py            # all three parts
    .venv/bin/python bench/eval_triage.py --show dev # also list the dev cases it gets wrong (only dev can be shown)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.voice.triage import triage  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "voice"
CASES = DATA / "triage_cases.jsonl"
NEW_HOLDOUT = DATA / "triage_holdout_new.jsonl"
PARTS = ("dev", "holdout", "new_holdout")
TARGETS = {"recall": 1.0, "false_alarms": 0.05, "urgency": 0.90}  # issue 15, on the hold-out half


def load_cases(path: Path = CASES) -> list[dict]:
    """The labelled utterances, one JSON object a line."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def new_holdout(dev: list[dict]) -> list[dict]:
    """The new hold-out without any utterance that is word for word on the dev side (one coincided with a dev case:
    the rules were tuned on it, so it cannot count as held out). The file itself is never edited."""
    seen = {c["text"] for c in dev}
    return [c for c in load_cases(NEW_HOLDOUT) if c["text"] not in seen]


def score(cases: list[dict], predict=triage) -> dict:
    """Recall of red flags, false-alarm rate, urgency agreement, and the cases that missed."""
    flagged = [c for c in cases if c["red_flag"]]
    calm = [c for c in cases if not c["red_flag"]]
    misses, alarms, disagree = [], [], []
    times = []
    for c in cases:
        t = time.perf_counter()
        r = predict(c["text"])
        times.append(time.perf_counter() - t)
        if c["red_flag"] and not r.red_flags:
            misses.append((c, r))
        if not c["red_flag"] and r.red_flags:
            alarms.append((c, r))
        if r.urgency != c["urgency"]:
            disagree.append((c, r))
    return {"n": len(cases), "red_flags": len(flagged), "recall": 1 - len(misses) / max(1, len(flagged)),
            "false_alarms": len(alarms) / max(1, len(calm)), "urgency": 1 - len(disagree) / len(cases),
            "ms_per_utterance": 1000 * sum(times) / len(times), "misses": misses, "alarms": alarms,
            "disagree": disagree}


def main() -> None:
    """Print both halves' figures (and the wrong cases of one half with --show)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Only the dev half can be listed: a hold-out's failing texts, once read, would be tuned on.
    parser.add_argument("--show", choices=["dev"], help="list the dev cases it gets wrong")
    args = parser.parse_args()
    cases = load_cases()
    cases += new_holdout([c for c in cases if c["split"] == "dev"])
    triage("warm up the pipeline")
    for split in PARTS:
        s = score([c for c in cases if c["split"] == split])
        ok = (s["recall"] >= TARGETS["recall"] and s["false_alarms"] <= TARGETS["false_alarms"]
              and s["urgency"] >= TARGETS["urgency"])
        print(f"{split:11s} n={s['n']:3d} red flags={s['red_flags']:3d}  recall {s['recall']:.1%}  false alarms "
              f"{s['false_alarms']:.1%}  urgency agreement {s['urgency']:.1%}  triage {s['ms_per_utterance']:.1f} "
              f"ms/utterance" + ("" if split == "dev" else "  [hold-out targets: PASS]" if ok else
                                 "  [hold-out targets: FAIL]"))
        if args.show == split:
            for label, rows in (("MISSED", s["misses"]), ("FALSE ALARM", s["alarms"]), ("URGENCY", s["disagree"])):
                for c, r in rows:
                    print(f"  {label:11s} {c['id']} want {c['urgency']:9s} got {r.urgency:9s} "
                          f"{[f.id for f in r.red_flags]} {c['text']}")


if __name__ == "__main__":
    main()
