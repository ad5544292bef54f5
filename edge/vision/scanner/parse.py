"""Stage 3: OCR lines → medications and lab results (tolerant of the dropped spaces PP-OCR produces)."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from edge.vision.scanner.ocr import TextBox
from protocol.schema import METRICS


@dataclass
class Line:
    """A visual row of text: boxes on the same baseline joined left to right."""

    boxes: list[TextBox]
    text: str = ""
    owners: list[int] = field(default_factory=list)  # for each character, the index of its box

    def __post_init__(self):
        self.boxes.sort(key=lambda b: b.center[0])
        parts, owners = [], []
        for i, b in enumerate(self.boxes):
            if parts:
                parts.append(" ")
                owners.append(i)
            parts.append(b.text)
            owners.extend([i] * len(b.text))
        self.text, self.owners = fix_digits("".join(parts)), owners

    def score(self, start: int, end: int) -> float:
        """Lowest OCR score among the boxes that characters [start, end) came from."""
        ids = set(self.owners[start:max(end, start + 1)]) or {0}
        return min(self.boxes[i].score for i in ids)

    def bbox(self) -> list[float]:
        """Axis-aligned box around the whole row: [x0, y0, x1, y1]."""
        xs = [x for b in self.boxes for x, _ in b.box]
        ys = [y for b in self.boxes for _, y in b.box]
        return [min(xs), min(ys), max(xs), max(ys)]


_O_NEAR_DIGIT = re.compile(r"(?<=\d)[Oo]|[Oo](?=\d)|(?<=\d)[Il](?=\d)")


def fix_digits(text: str) -> str:
    """Undo OCR letter-for-digit swaps next to digits ("1OO MG" → "100 MG"); keeps the length unchanged."""
    while True:
        fixed = _O_NEAR_DIGIT.sub(lambda m: "0" if m.group(0) in "Oo" else "1", text)
        if fixed == text:
            return text
        text = fixed


def group_lines(boxes: list[TextBox]) -> list[Line]:
    """Group text boxes into rows by vertical centre (after deskew rows are horizontal)."""
    if not boxes:
        return []
    heights = sorted(b.height for b in boxes)
    tol = 0.5 * heights[len(heights) // 2]
    rows: list[list[TextBox]] = []
    for b in sorted(boxes, key=lambda b: b.center[1]):
        if rows and abs(b.center[1] - sum(x.center[1] for x in rows[-1]) / len(rows[-1])) < tol:
            rows[-1].append(b)
        else:
            rows.append([b])
    return [Line(r) for r in rows]


@dataclass
class Field:
    """An extracted value with the confidence (0–1) we have in it."""

    value: object
    confidence: float


@dataclass
class LabResult:
    """One lab result: metric type (protocol.schema.METRICS), value as printed, canonical value, range and flag."""

    analyte: Field
    value: Field
    unit: Field
    canonical_value: float
    canonical_unit: str
    ref_low: Field | None
    ref_high: Field | None
    flag: Field | None
    label: str
    bbox: list[float]

    def to_dict(self) -> dict:
        """Plain JSON-able form."""
        return asdict(self)


@dataclass
class Medication:
    """One medication line: name, strength, unit, frequency code (QD, BID, …) and route."""

    name: Field
    strength: Field | None
    unit: Field | None
    frequency: Field | None
    route: Field | None
    bbox: list[float]

    def to_dict(self) -> dict:
        """Plain JSON-able form."""
        return asdict(self)


# Aliases are matched on the lower-cased row; OCR often reads "A1c" as "Alc"/"AIc". Order matters: specific first.
ANALYTE_PATTERNS: list[tuple[str, str]] = [
    ("glycated_hemoglobin", r"(?:h(?:a?e)?moglobin\s*a[1il]c|hb\s*a[1il]c|\ba[1il]c\b|glycated\s*h\w*)"),
    ("hdl_cholesterol", r"hdl[\s-]*(?:cholesterol|chol\.?|c\b)?"),
    ("ldl_cholesterol", r"ldl[\s-]*(?:cholesterol|chol\.?|c\b)?(?:\s*\(calc\w*\))?"),
    ("total_cholesterol", r"(?:total\s*)?cholesterol(?:\s*,?\s*total)?"),
    ("triglycerides", r"triglycerides?"),
    ("blood_glucose", r"(?:fasting\s*)?(?:blood\s*)?glucose(?:\s*,?\s*(?:fasting|random|serum|plasma))?"),
    ("creatinine", r"creatinine(?:\s*,?\s*serum)?"),
    ("hemoglobin", r"h(?:a?e)?moglobin|\bhgb\b|\bhb\b"),
]
_ANALYTES = [(name, re.compile(p, re.I)) for name, p in ANALYTE_PATTERNS]
_UNITS = {"mg/dl": "mg/dL", "mmol/l": "mmol/L", "g/dl": "g/dL", "g/l": "g/L", "umol/l": "umol/L",
          "µmol/l": "umol/L", "μmol/l": "umol/L", "%": "%"}
_NUM = r"\d+(?:[.,]\d+)?"
_LAB_TAIL = re.compile(
    rf"(?P<value>{_NUM})\s*(?P<unit>mg\s*/\s*dl|mmol\s*/\s*l|g\s*/\s*dl|[uµμ]mol\s*/\s*l|g\s*/\s*l|%)?\s*"
    rf"(?:(?P<lo>{_NUM})\s*[-–~]\s*(?P<hi>{_NUM})|(?P<lt>[<≤])\s*(?P<lthi>{_NUM})|(?P<gt>[>≥])\s*(?P<gtlo>{_NUM}))?"
    r"\s*(?P<flag>\bhigh\b|\blow\b|\bH\b|\bL\b|H$|L$)?", re.I)

_TRAILING_FLAG = re.compile(r"(?<![A-Za-z/])(HIGH|LOW|H|L)\s*$", re.I)


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def range_flag(value: float, low: float | None, high: float | None, *, lo_open: bool = False,
               hi_open: bool = False) -> str | None:
    """H or L from the printed reference range (None inside it, or without one)."""
    if high is not None and (value >= high if hi_open else value > high):
        return "H"
    if low is not None and (value <= low if lo_open else value < low):
        return "L"
    return None


def decide_flag(expected: str | None, printed: str | None, printed_score: float | None, *, has_range: bool
                ) -> Field | None:
    """The one flag rule, whatever the image format: the printed range decides when it was read; the printed flag
    only when no range was; disagreement between the two lowers the confidence instead of changing the answer."""
    if has_range:
        if expected is None and printed is None:
            return None
        agree = printed == expected
        conf = (printed_score if agree and printed_score is not None else 0.9 if printed is None else 0.6)
        # A lab's own flag inside its printed range (a delta or critical rule we cannot see) is kept, doubted.
        return Field(expected or printed, round(conf if expected else 0.5, 3))
    if printed is None:
        return None
    return Field(printed, round(0.8 * (printed_score or 0.0), 3))


def parse_lab(line: Line) -> LabResult | None:
    """A lab result from one row, or None when the row names no known analyte followed by a value."""
    text = line.text
    found = next(((name, m) for name, p in _ANALYTES if (m := p.search(text))), None)
    if found is None:
        return None
    metric, m = found
    rest_at = m.end()
    digit = re.search(r"\d", text[rest_at:])
    if not digit:
        return None
    start = rest_at + digit.start()
    t = _LAB_TAIL.match(text, start)
    if not t:
        return None
    spec = METRICS[metric]
    value = _num(t["value"])
    unit_text = re.sub(r"\s", "", t["unit"] or "").lower()
    unit = _UNITS.get(unit_text)
    unit_conf = line.score(*t.span("unit")) if unit else 0.0
    if unit is None:
        unit = spec.unit  # no unit printed or read: assume canonical, but say so through a low confidence
        unit_conf = 0.4
    try:
        canonical = spec.to_canonical(value, unit)
    except ValueError:
        return None
    plausible = spec.low <= canonical <= spec.high
    val_conf = line.score(*t.span("value")) * (1.0 if plausible else 0.3)
    lo = hi = None
    lo_open = hi_open = False  # "<150": 150 itself is outside the range; "≤150" and "70-99": the ends are inside
    if t["lo"]:
        lo = Field(_num(t["lo"]), line.score(*t.span("lo")))
        hi = Field(_num(t["hi"]), line.score(*t.span("hi")))
    elif t["lt"]:
        hi = Field(_num(t["lthi"]), line.score(*t.span("lthi")))
        hi_open = t["lt"] == "<"
    elif t["gt"]:
        lo = Field(_num(t["gtlo"]), line.score(*t.span("gtlo")))
        lo_open = t["gt"] == ">"
    printed = (t["flag"] or "").upper()[:1] or None
    flag_span = t.span("flag")
    if printed is None:
        # The flag column may sit after something unreadable (a range that lost its hyphen): take a lone trailing
        # H/L/HIGH/LOW from the row's end.
        tail = _TRAILING_FLAG.search(text, t.end())
        if tail:
            printed, flag_span = tail.group(1).upper()[:1], tail.span(1)
    expected = range_flag(value, lo and lo.value, hi and hi.value, lo_open=lo_open, hi_open=hi_open)
    flag = decide_flag(expected, printed, line.score(*flag_span) if printed else None,
                       has_range=lo is not None or hi is not None)
    return LabResult(
        analyte=Field(metric, round(line.score(*m.span()), 3)), value=Field(value, round(val_conf, 3)),
        unit=Field(unit, round(unit_conf, 3)), canonical_value=round(canonical, 4), canonical_unit=spec.unit,
        ref_low=lo, ref_high=hi, flag=flag, label=m.group(0).strip(), bbox=line.bbox())


# Directions are matched with spaces removed, because PP-OCR often drops them ("TAKE1TABLETBYMOUTH…").
FREQUENCY_PATTERNS: list[tuple[str, str]] = [
    ("Q{n}H", r"EVERY(\d+)HOURS?|Q(\d+)H"),
    ("QID", r"FOURTIMES(?:A|PER)?DA(?:Y|ILY)|4TIMES(?:A|PER)?DA(?:Y|ILY)|\bQID\b"),
    ("TID", r"THREETIMES(?:A|PER)?DA(?:Y|ILY)|3TIMES(?:A|PER)?DA(?:Y|ILY)|\bTID\b"),
    ("BID", r"TWICE(?:A|PER)?DA(?:Y|ILY)|2TIMES(?:A|PER)?DA(?:Y|ILY)|\bBID\b"),
    ("QHS", r"ATBEDTIME|\bQHS\b"),
    ("QD", r"ONCE(?:A|PER)?DA(?:Y|ILY)|EVERYDAY|\bDAILY\b|\bQD\b|DAILY"),
    ("PRN", r"ASNEEDED|\bPRN\b"),
]
ROUTE_PATTERNS: list[tuple[str, str]] = [
    ("oral", r"BYMOUTH|ORALLY|\bPO\b|SWALLOW"),
    ("topical", r"APPLY|TOPICAL"),
    ("inhaled", r"INHALE|PUFFS?"),
    ("injection", r"INJECT|SUBCUTANEOUS|INTRAMUSCULAR"),
    ("ophthalmic", r"EYE|OPHTHALMIC"),
]
# Salt and release words sit between a drug's name and its strength ("METFORMIN HCL 500 MG ER").
_SALTS = {"HCL", "HYDROCHLORIDE", "SODIUM", "POTASSIUM", "CALCIUM", "ER", "XR", "SR", "DR", "CR", "TARTRATE",
          "SUCCINATE", "BESYLATE", "MESYLATE", "MALEATE", "HCT"}
_STRENGTH = re.compile(r"(?P<strength>\d+(?:\.\d+)?)\s*(?P<unit>MCG|MG|ML|IU|UNITS?|G(?![A-Z]))", re.I)
_WORD = re.compile(r"[A-Z][A-Z\-]{2,}", re.I)


def _find(patterns: list[tuple[str, str]], squashed: str) -> tuple[str, tuple[int, int]] | None:
    for code, pattern in patterns:
        m = re.search(pattern, squashed)
        if m:
            n = next((g for g in m.groups() if g), None) if m.groups() else None
            return code.format(n=n), m.span()
    return None


def parse_medications(lines: list[Line]) -> list[Medication]:
    """Medications from label rows: a name+strength row, with frequency and route from the directions rows."""
    meds: list[Medication] = []
    for i, line in enumerate(lines):
        s = _STRENGTH.search(line.text)
        if not s or any(p.search(line.text) for _, p in _ANALYTES):
            continue
        words = [w for w in _WORD.finditer(line.text[:s.start()]) if w.group(0).upper() not in _SALTS]
        if not words or words[-1].group(0).upper() in {"TAKE", "QTY", "RX", "REFILLS"}:
            continue
        name = words[-1]
        # Directions usually follow on the next rows; search this row and the next three.
        window = lines[i:i + 4]
        squashed = " ".join(re.sub(r"\s+", "", ln.text.upper()) for ln in window)
        freq = _find(FREQUENCY_PATTERNS, squashed)
        route = _find(ROUTE_PATTERNS, squashed)
        dir_conf = min(b.score for ln in window for b in ln.boxes)
        meds.append(Medication(
            name=Field(name.group(0).lower(), round(line.score(*name.span()), 3)),
            strength=Field(float(s["strength"]), round(line.score(*s.span("strength")), 3)),
            unit=Field(s["unit"].lower(), round(line.score(*s.span("unit")), 3)),
            frequency=Field(freq[0], round(dir_conf, 3)) if freq else None,
            route=Field(route[0], round(dir_conf, 3)) if route else None,
            bbox=line.bbox()))
    return meds


def extract(lines: list[Line]) -> tuple[list[LabResult], list[Medication]]:
    """Every lab result and medication found in the rows."""
    labs = [r for r in (parse_lab(ln) for ln in lines) if r is not None]
    return labs, parse_medications(lines)
