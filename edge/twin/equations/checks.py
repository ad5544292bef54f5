"""Input checks every equation runs on its own arguments: normalise what has one meaning, refuse the rest.

An equation called directly (not through the panel) must never guess: a sex it cannot read, a race it has no
equation for, a negative BMI or a NaN is an `InputError` naming the field, not a silently wrong number.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real

from protocol.errors import InputError

# Spellings with one unambiguous meaning; anything else is refused.
SEXES = {"female": "female", "f": "female", "woman": "female", "male": "male", "m": "male", "man": "male"}


def sex(value: object) -> str:
    """'female' or 'male' from a case-insensitive spelling (female/f/woman, male/m/man); anything else refused."""
    key = value.strip().lower() if isinstance(value, str) else None
    if key not in SEXES:
        raise InputError(f"sex must be female or male (F/M accepted), not {value!r}", field="sex",
                         hint="the equations are sex-specific and cannot guess")
    return SEXES[key]


_sex = sex  # for functions whose `sex` parameter hides this one


def number(field: str, value: object, *, positive: bool = False) -> float:
    """A finite real number (bools refused); `positive` also refuses zero and below."""
    # type() first: the common float/int case skips the slower abstract-class check (the panel calls this a lot).
    if (type(value) not in (float, int) and (isinstance(value, bool) or not isinstance(value, Real))) \
            or not math.isfinite(value):
        raise InputError(f"{field} must be a finite number, not {value!r}", field=field)
    if positive and value <= 0:
        raise InputError(f"{field} must be greater than 0, not {value:g}", field=field)
    return float(value)


def flag(field: str, value: object) -> bool:
    """A yes/no answer: True/False (or 0/1); anything else (None, 'yes', 2) refused."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InputError(f"{field} must be true or false, not {value!r}", field=field)


def choice(field: str, value: object, allowed: Iterable[str]) -> str:
    """One of the allowed strings, exactly."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise InputError(f"{field} must be one of {', '.join(allowed)}, not {value!r}", field=field)
    return str(value)


def cardio(sex: object, age: object, total_cholesterol: object, hdl_cholesterol: object, systolic_bp: object,
           bp_treated: object, smoker: object, diabetes: object) -> tuple:
    """The inputs the cardiovascular equations share, checked and normalised, in the same order."""
    numbers = (number(f, v, positive=True) for f, v in (("age", age), ("total_cholesterol", total_cholesterol),
                                                         ("hdl_cholesterol", hdl_cholesterol),
                                                         ("systolic_bp", systolic_bp)))
    flags = (flag(f, v) for f, v in (("bp_treated", bp_treated), ("smoker", smoker), ("diabetes", diabetes)))
    return (_sex(sex), *numbers, *flags)
