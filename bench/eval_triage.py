"""Triage accuracy on the committed test sets: red-flag recall, false alarms and urgency agreement per part, and
the triage's own time per utterance.

Which sets are development data and which is the hold-out is said in models/triage_sets.py: since issue 15's sixth
round the earlier sets are dev ("dev (all)" is them together; the red-flag classifier is trained on them, so
their figures are training figures) and the only hold-out is the latest set (models.triage_sets.HOLDOUT), written
independently by someone who never saw the rules, the classifier or their failures. The lead scores it once, when
a round's tuning is done, with --score-holdout (so that no tuning run sees its figures); its failures can never be
listed.

    .venv/bin/python bench/eval_triage.py                 # every dev part
    .venv/bin/python bench/eval_triage.py --show all      # also list the dev cases it gets wrong (or one dev part)
    .venv/bin/python bench/eval_triage.py --rules-only    # the rules without the classifier's second opinion
    .venv/bin/python bench/eval_triage.py --score-holdout # the hold-out too (once a round, by the lead)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.voice.triage import triage  # noqa: E402
from models.triage_sets import DATA, DEV_PARTS, HOLDOUT, HOLDOUT_FILE, dev_cases, holdout_cases  # noqa: E402

TARGETS = {"recall": 1.0, "false_alarms": 0.05, "urgency": 0.90}  # issue 15, on the hold-out


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
            "false_alarms": len(alarms) / max(1, len(calm)), "urgency": 1 - len(disagree) / max(1, len(cases)),
            "ms_per_utterance": 1000 * sum(times) / max(1, len(times)), "misses": misses, "alarms": alarms,
            "disagree": disagree, "calm": len(calm)}


def meets_targets(s: dict) -> bool:
    """Whether a part's figures meet issue 15's targets."""
    return (s["recall"] >= TARGETS["recall"] and s["false_alarms"] <= TARGETS["false_alarms"]
            and s["urgency"] >= TARGETS["urgency"])


def _line(name: str, s: dict) -> str:
    return (f"{name:14s} n={s['n']:3d} red flags={s['red_flags']:3d}  recall {s['recall']:.1%} "
            f"({len(s['misses'])} missed)  false alarms {s['false_alarms']:.1%} ({len(s['alarms'])} of {s['calm']})  "
            f"urgency agreement {s['urgency']:.1%}  triage {s['ms_per_utterance']:.1f} ms/utterance")


def main() -> None:
    """Print every part's figures (and the wrong cases of the dev parts with --show)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Only dev parts can be listed: the hold-out's failing texts, once read, would be tuned on.
    parser.add_argument("--show", choices=["all", *DEV_PARTS], help="list the dev cases it gets wrong")
    parser.add_argument("--rules-only", action="store_true", help="the rules without the classifier's second opinion")
    parser.add_argument("--score-holdout", action="store_true",
                        help="score the hold-out too (once a round, by the lead)")
    args = parser.parse_args()
    dev = dev_cases()
    triage("warm up the pipeline")
    predict = (lambda text: triage(text, ask_second_opinion=False)) if args.rules_only else triage
    scores = {"dev (all)": score(dev, predict)} | {
        f"  {p}": score([c for c in dev if c["split"] == p], predict) for p in DEV_PARTS}
    for name, s in scores.items():
        print(_line(name, s))
    held_out = holdout_cases(dev)
    if held_out is None:
        print(f"{HOLDOUT:14s} not present ({HOLDOUT_FILE.relative_to(DATA.parents[2])} is merged later; the lead "
              "scores it once)")
    elif not args.score_holdout:
        print(f"{HOLDOUT:14s} not scored ({len(held_out)} utterances; --score-holdout, once a round, by the lead)")
    else:
        s = score(held_out, predict)
        print(_line(HOLDOUT, s) + f"  [hold-out targets: {'PASS' if meets_targets(s) else 'FAIL'}]")
    if args.show:
        shown = dev if args.show == "all" else [c for c in dev if c["split"] == args.show]
        s = score(shown, predict)
        for label, rows in (("MISSED", s["misses"]), ("FALSE ALARM", s["alarms"]), ("URGENCY", s["disagree"])):
            for c, r in rows:
                print(f"  {label:11s} {c['id']} want {c['urgency']:9s} got {r.urgency:9s} "
                      f"{[f.id for f in r.red_flags]} {c['text']}")


if __name__ == "__main__":
    main()
