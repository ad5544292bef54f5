"""The result every risk equation and model returns: a probability, or an explicit "not applicable" with why."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RiskResult:
    """One risk estimate; `applicable=False` carries the reason instead of an extrapolated number."""

    name: str
    disease: str
    model_name: str
    model_version: str
    horizon_years: int | None
    probability: float | None = None
    applicable: bool = True
    reason: str | None = None
    score: float | None = None
    category: str | None = None
    # Published discrimination (C statistic) of the equation, or held-out AUC of a learned model.
    confidence: float | None = None
    missing: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def percent(self) -> float | None:
        """Probability in percent, or None when not applicable."""
        return None if self.probability is None else 100.0 * self.probability

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = asdict(self)
        out["missing"] = list(self.missing)
        return out


def not_applicable(template: dict[str, Any], reason: str, *, missing: tuple[str, ...] = ()) -> RiskResult:
    """A result that refuses to extrapolate: no probability, and the reason."""
    return RiskResult(**template, probability=None, applicable=False, reason=reason, missing=missing)


def out_of_range(checks: list[tuple[str, float, float, float, str]]) -> str | None:
    """The first validity-range violation as a sentence, or None; checks are (label, value, low, high, unit)."""
    for label, value, low, high, unit in checks:
        if not low <= value <= high:
            return f"{label} {value:g} {unit} is outside the equation's validity range {low:g}–{high:g} {unit}"
    return None
