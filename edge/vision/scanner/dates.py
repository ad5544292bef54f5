"""The collection date printed on a lab report ("Collected: 2026-03-14"), read without guessing day from month."""
from __future__ import annotations

import datetime as dt
import re

# Words that introduce the specimen's date (not the report's print date). OCR may drop the spaces.
_KEYWORD = re.compile(r"(?:date\s*(?:of\s*)?collect\w*|collect\w*(?:\s*(?:on|date|at))?|specimen\s*(?:date|taken)|"
                      r"drawn(?:\s*on)?|sample\s*date)\s*[:.]?\s*", re.I)
_ISO = re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})")
_NUMERIC = re.compile(r"(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), start=1)}
_DAY_MONTH = re.compile(r"(?P<d>\d{1,2})\s*(?P<mon>[A-Za-z]{3})[a-z]*\.?,?\s*(?P<y>\d{4})")
_MONTH_DAY = re.compile(r"(?P<mon>[A-Za-z]{3})[a-z]*\.?\s*(?P<d>\d{1,2}),?\s*(?P<y>\d{4})")


def _date(y: str, m: str | int, d: str) -> dt.date | None:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        return None


def parse_date(text: str) -> tuple[dt.date | None, str | None]:
    """A date at the start of text, or (None, why) when there is none or it is ambiguous (03/04/2026)."""
    text = text.strip()
    if m := _ISO.match(text):
        return _date(m["y"], m["m"], m["d"]), None
    if m := _NUMERIC.match(text):
        a, b = int(m["a"]), int(m["b"])
        if a > 12 and b <= 12:
            return _date(m["y"], b, str(a)), None  # day first
        if b > 12 and a <= 12:
            return _date(m["y"], a, str(b)), None  # month first
        if a == b:
            return _date(m["y"], a, str(b)), None
        if m["sep"] == ".":
            return _date(m["y"], b, str(a)), None  # dotted dates are day-first wherever they are used
        return None, f"date {m.group(0)} could be day/month or month/day"
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        if (m := pattern.match(text)) and m["mon"].lower() in _MONTHS:
            return _date(m["y"], _MONTHS[m["mon"].lower()], m["d"]), None
    return None, None


def collection_date(lines: list[str], today: dt.date | None = None) -> tuple[dt.date | None, str | None]:
    """The report's printed collection date, or (None, a warning when one was printed but not usable)."""
    today = today or dt.datetime.now(dt.UTC).date()
    for line in lines:
        for k in _KEYWORD.finditer(line):
            found, why = parse_date(line[k.end():])
            if why:
                return None, f"collection {why}: values dated by the scan time instead"
            if found is None:
                continue
            if found > today:
                return None, f"collection date {found} is in the future: values dated by the scan time instead"
            return found, None
    return None, None
