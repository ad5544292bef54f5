"""Family history from the `family_graph` document: premature CVD and diabetes in relatives, explained."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

FIRST_DEGREE = {"mother", "father", "sister", "brother", "son", "daughter"}
# Half-siblings share a quarter of their genes, like grandparents: counted as second-degree.
SECOND_DEGREE = {"grandmother", "grandfather", "aunt", "uncle", "cousin", "half_sister", "half_brother"}
MALE = {"father", "brother", "son", "grandfather", "uncle", "half_brother"}

# Premature ASCVD in a first-degree relative: men < 55, women < 65 (2018 AHA/ACC cholesterol guideline,
# risk-enhancing factors; the same cut-offs as NCEP ATP III).
PREMATURE_AGE = {"male": 55, "female": 65}

_CVD_TERMS = ("myocardial infarction", "heart attack", "coronary", "cardiovascular", "cvd", "ascvd", "stroke",
              "angina", "cabg", "bypass", "stent", "heart disease", "peripheral artery")
_DIABETES_EXCLUDE = ("gestational", "prediabetes", "pre-diabetes", "insipidus")


def is_cvd(condition: str) -> bool:
    """Whether a condition name denotes atherosclerotic cardiovascular disease."""
    name = condition.lower()
    return any(term in name for term in _CVD_TERMS)


def is_diabetes(condition: str) -> bool:
    """Whether a condition name is diabetes (type 1 or 2, as FINDRISC asks), not gestational or prediabetes."""
    name = condition.lower()
    named = "diabetes" in name or name in {"t1d", "t2d", "t2dm", "dm"}
    return named and not any(x in name for x in _DIABETES_EXCLUDE)


@dataclass
class InheritedRisk:
    """What the family graph says about inherited risk, and which relatives drive it."""

    premature_cvd: bool = False
    family_diabetes: str = "none"  # FINDRISC family item: none | second_degree | first_degree
    findrisc_family_points: int = 0
    drivers: list[dict[str, Any]] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _label(member: Any, member_id: str) -> str:
    name = getattr(member, "name", None)
    relation = member.relation.replace("_", " ")
    return f"{relation} ({name})" if name else f"{relation} [{member_id[:8]}]"


def inherited_risk(members: dict[str, Any] | Iterable[tuple[str, Any]]) -> InheritedRisk:
    """Summarise family members (FamilyMember records keyed by id) into risk inputs with reasons."""
    items = members.items() if isinstance(members, dict) else members
    out = InheritedRisk()
    diabetes_level = 0
    for member_id, member in items:
        relation = member.relation
        degree = "first_degree" if relation in FIRST_DEGREE else "second_degree" if relation in SECOND_DEGREE else None
        sex = "male" if relation in MALE else "female"
        for cond in member.conditions:
            label = _label(member, member_id)
            if is_cvd(cond.name) and degree == "first_degree":
                limit = PREMATURE_AGE[sex]
                if cond.age_of_onset is not None and cond.age_of_onset < limit:
                    out.premature_cvd = True
                    out.drivers.append({"member_id": member_id, "relation": relation, "condition": cond.name,
                                        "age_of_onset": cond.age_of_onset, "effect": "premature_cvd"})
                    out.explanation.append(
                        f"{label} had {cond.name} at {cond.age_of_onset} (before {limit}): premature "
                        "cardiovascular disease in a first-degree relative, a risk-enhancing factor")
                elif cond.age_of_onset is None:
                    out.explanation.append(
                        f"{label} had {cond.name} at an unknown age: add the age of onset to judge if premature")
            if is_diabetes(cond.name) and degree is not None:
                level = 2 if degree == "first_degree" else 1
                diabetes_level = max(diabetes_level, level)
                pts = 5 if level == 2 else 3
                out.drivers.append({"member_id": member_id, "relation": relation, "condition": cond.name,
                                    "age_of_onset": cond.age_of_onset, "effect": f"findrisc_family_{pts}"})
                out.explanation.append(f"{label} has {cond.name}: FINDRISC family item {pts} points")
    out.family_diabetes = ("none", "second_degree", "first_degree")[diabetes_level]
    out.findrisc_family_points = (0, 3, 5)[diabetes_level]
    if not out.explanation:
        out.explanation.append("no relatives with cardiovascular disease or diabetes are recorded")
    return out
