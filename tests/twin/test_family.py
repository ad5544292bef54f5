"""Family graph → inherited-risk inputs: premature CVD (men < 55, women < 65) and the FINDRISC family item."""
from __future__ import annotations

import pytest

from edge.twin import inputs as twin_inputs
from edge.twin.family import inherited_risk
from protocol.schema import FamilyMember


def fam(*members):
    return {f"m{i}": FamilyMember.model_validate(m) for i, m in enumerate(members)}


# 2018 AHA/ACC cholesterol guideline risk-enhancing factors: premature ASCVD in a first-degree relative,
# males < 55 years, females < 65 years.
@pytest.mark.parametrize("relation,age,premature", [
    ("father", 54, True), ("father", 55, False), ("brother", 40, True), ("mother", 64, True),
    ("mother", 65, False), ("sister", 70, False), ("grandfather", 40, False), ("uncle", 45, False),
])
def test_premature_cvd_rule(relation, age, premature):
    r = inherited_risk(fam({"relation": relation, "conditions": [{"name": "myocardial infarction",
                                                                  "age_of_onset": age}]}))
    assert r.premature_cvd is premature


# FINDRISC question 8: parent, brother, sister or own child → 5 points; grandparent, aunt, uncle or first cousin → 3.
@pytest.mark.parametrize("relation,level,points", [
    ("mother", "first_degree", 5), ("brother", "first_degree", 5), ("son", "first_degree", 5),
    ("grandmother", "second_degree", 3), ("aunt", "second_degree", 3), ("cousin", "second_degree", 3),
    ("other", "none", 0),
])
def test_findrisc_family_item(relation, level, points):
    r = inherited_risk(fam({"relation": relation, "conditions": [{"name": "Type 2 diabetes"}]}))
    assert (r.family_diabetes, r.findrisc_family_points) == (level, points)


def test_first_degree_wins_and_drivers_are_explained():
    r = inherited_risk(fam(
        {"relation": "cousin", "conditions": [{"name": "type 1 diabetes"}]},
        {"relation": "father", "name": "Sam", "conditions": [{"name": "diabetes", "age_of_onset": 50},
                                                            {"name": "stroke", "age_of_onset": 52}]},
    ))
    assert r.findrisc_family_points == 5 and r.premature_cvd
    assert any("father (Sam) had stroke at 52" in line for line in r.explanation)
    assert {d["effect"] for d in r.drivers} == {"premature_cvd", "findrisc_family_5", "findrisc_family_3"}


def test_gestational_diabetes_and_unknown_onset():
    r = inherited_risk(fam({"relation": "sister", "conditions": [{"name": "gestational diabetes"}]},
                           {"relation": "father", "conditions": [{"name": "heart attack"}]}))
    assert r.findrisc_family_points == 0 and not r.premature_cvd
    assert any("unknown age" in line for line in r.explanation)


def test_family_graph_feeds_inputs(store, patient):
    store.family_graph.add({"user_id": patient, "members": {
        "a": {"relation": "mother", "conditions": [{"name": "type 2 diabetes", "age_of_onset": 60}]},
        "b": {"relation": "brother", "conditions": [{"name": "coronary heart disease", "age_of_onset": 48}]},
    }})
    i = twin_inputs.from_store(store, patient)
    assert i.family_diabetes == "first_degree" and i.premature_cvd_family
