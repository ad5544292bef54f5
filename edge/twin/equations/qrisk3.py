"""QRISK3-2017: 10-year risk of cardiovascular disease (coronary heart disease, stroke or TIA), the UK standard.

Hippisley-Cox J, Coupland C, Brindle P. Development and validation of QRISK3 risk prediction algorithms to
estimate future risk of cardiovascular disease: prospective cohort study. BMJ 2017;357:j2099. Coefficients,
centring constants, fractional-polynomial powers and baseline survival are those of ClinRisk's open-source
QRISK3-2017 C source (qrisk.org, LGPL-3; functions cvd_female_raw / cvd_male_raw, as redistributed in the CRAN
package QRISK3, inst/extdata/QRISK3_2017_src.txt). Validity follows that source's input checks: age 25–84,
BMI 20–40 kg/m², total/HDL cholesterol ratio 1–12, SBP 70–210 mmHg, Townsend score −7 to 11; SBP variability
is the standard deviation of at least two recent SBP readings (0–50 mmHg accepted here).
ClinRisk's terms ask that users check an implementation against the original: this one is tested against the
C algorithm's outputs published with the QRISK3 R package. It is not the QRISK3 web calculator; see qrisk.org.
"""
from __future__ import annotations

import math

from edge.twin.equations import checks
from edge.twin.equations.result import RiskResult, not_applicable, out_of_range
from protocol.errors import InputError

NAME = "qrisk3_cvd_10y"
VERSION = "qrisk3-2017"
# Validation-cohort Harrell's C (Hippisley-Cox 2017): 0.880 women, 0.858 men.
C_STATISTIC = {"female": 0.880, "male": 0.858}

# QRISK3 ethnicity codes 1–9 (1 = white or not stated).
ETHNICITIES = ("white_or_not_stated", "indian", "pakistani", "bangladeshi", "other_asian", "black_caribbean",
               "black_african", "chinese", "other")
# QRISK3 smoking categories 0–4: light < 10, moderate 10–19, heavy ≥ 20 cigarettes a day.
SMOKING = ("non_smoker", "ex_smoker", "light", "moderate", "heavy")
DIABETES = ("none", "type1", "type2")
CONDITIONS = ("atrial_fibrillation", "atypical_antipsychotics", "corticosteroids", "erectile_dysfunction",
              "migraine", "rheumatoid_arthritis", "ckd_3_5", "severe_mental_illness", "sle", "treated_hypertension",
              "type1", "type2", "family_chd")
# What each sex is asked (diabetes type comes from `diabetes`; erectile dysfunction is a men's question).
ASKED = {sex: tuple(c for c in CONDITIONS if c not in ("type1", "type2")
                    and (c != "erectile_dysfunction" or sex == "male")) for sex in ("female", "male")}
VALIDITY = {"age": (25, 84), "bmi": (20, 40), "chol_hdl_ratio": (1, 12), "systolic_bp": (70, 210),
            "sbp_sd": (0, 50), "townsend": (-7, 11)}


def _model(survivor, age_powers, means, eth, smoke, linear, boolean, age1, age2):
    return {"survivor": survivor, "age_powers": age_powers, "means": means, "ethnicity": eth, "smoking": smoke,
            "linear": linear, "boolean": boolean, "age_1": age1, "age_2": age2}


# Per sex: S0(10), the two age transforms (power of age/10; 0 would mean log), centring means, and the terms.
MODELS = {
    "female": _model(
        0.988876402378082, (-2, 1),
        {"age_1": 0.053274843841791, "age_2": 4.332503318786621, "bmi_1": 0.154946178197861,
         "bmi_2": 0.144462317228317, "ratio": 3.476326465606690, "sbp": 123.130012512207030,
         "sbp_sd": 9.002537727355957, "town": 0.392308831214905},
        (0, 0.2804031433299542500, 0.5629899414207539800, 0.2959000085111651600, 0.0727853798779825450,
         -0.1707213550885731700, -0.3937104331487497100, -0.3263249528353027200, -0.1712705688324178400),
        (0, 0.1338683378654626200, 0.5620085801243853700, 0.6674959337750254700, 0.8494817764483084700),
        {"age_1": -8.1388109247726188, "age_2": 0.7973337668969909800, "bmi_1": 0.2923609227546005200,
         "bmi_2": -4.1513300213837665, "ratio": 0.1533803582080255400, "sbp": 0.0131314884071034240,
         "sbp_sd": 0.0078894541014586095, "town": 0.0772237905885901080},
        {"atrial_fibrillation": 1.5923354969269663, "atypical_antipsychotics": 0.2523764207011555700,
         "corticosteroids": 0.5952072530460185100, "migraine": 0.3012672608703450000,
         "rheumatoid_arthritis": 0.2136480343518194200, "ckd_3_5": 0.6519456949384583300,
         "severe_mental_illness": 0.1255530805882017800, "sle": 0.7588093865426769300,
         "treated_hypertension": 0.5093159368342300400, "type1": 1.7267977510537347,
         "type2": 1.0688773244615468, "family_chd": 0.4544531902089621300},
        {"smoke_1": -4.7057161785851891, "smoke_2": -2.7430383403573337, "smoke_3": -0.8660808882939218200,
         "smoke_4": 0.9024156236971064800, "atrial_fibrillation": 19.938034889546561,
         "corticosteroids": -0.9840804523593628100, "migraine": 1.7634979587872999,
         "ckd_3_5": -3.5874047731694114, "sle": 19.690303738638292, "treated_hypertension": 11.872809733921812,
         "type1": -1.2444332714320747, "type2": 6.8652342000009599, "bmi_1": 23.802623412141742,
         "bmi_2": -71.184947692087007, "family_chd": 0.9946780794043512700, "sbp": 0.0341318423386154850,
         "town": -1.0301180802035639},
        {"smoke_1": -0.0755892446431930260, "smoke_2": -0.1195119287486707400, "smoke_3": -0.1036630639757192300,
         "smoke_4": -0.1399185359171838900, "atrial_fibrillation": -0.0761826510111625050,
         "corticosteroids": -0.1200536494674247200, "migraine": -0.0655869178986998590,
         "ckd_3_5": -0.2268887308644250700, "sle": 0.0773479496790162730,
         "treated_hypertension": 0.0009685782358817443600, "type1": -0.2872406462448894900,
         "type2": -0.0971122525906954890, "bmi_1": 0.5236995893366442900, "bmi_2": 0.0457441901223237590,
         "family_chd": -0.0768850516984230380, "sbp": -0.0015082501423272358, "town": -0.0315934146749623290},
    ),
    "male": _model(
        0.977268040180206, (-1, 3),
        {"age_1": 0.234766781330109, "age_2": 77.284080505371094, "bmi_1": 0.149176135659218,
         "bmi_2": 0.141913309693336, "ratio": 4.300998687744141, "sbp": 128.571578979492190,
         "sbp_sd": 8.756621360778809, "town": 0.526304900646210},
        (0, 0.2771924876030827900, 0.4744636071493126800, 0.5296172991968937100, 0.0351001591862990170,
         -0.3580789966932791900, -0.4005648523216514000, -0.4152279288983017300, -0.2632134813474996700),
        (0, 0.1912822286338898300, 0.5524158819264555200, 0.6383505302750607200, 0.7898381988185801900),
        {"age_1": -17.839781666005575, "age_2": 0.0022964880605765492, "bmi_1": 2.4562776660536358,
         "bmi_2": -8.3011122314711354, "ratio": 0.1734019685632711100, "sbp": 0.0129101265425533050,
         "sbp_sd": 0.0102519142912904560, "town": 0.0332682012772872950},
        {"atrial_fibrillation": 0.8820923692805465700, "atypical_antipsychotics": 0.1304687985517351300,
         "corticosteroids": 0.4548539975044554300, "erectile_dysfunction": 0.2225185908670538300,
         "migraine": 0.2558417807415991300, "rheumatoid_arthritis": 0.2097065801395656700,
         "ckd_3_5": 0.7185326128827438400, "severe_mental_illness": 0.1213303988204716400,
         "sle": 0.4401572174457522000, "treated_hypertension": 0.5165987108269547400,
         "type1": 1.2343425521675175, "type2": 0.8594207143093222100, "family_chd": 0.5405546900939015600},
        {"smoke_1": -0.2101113393351634600, "smoke_2": 0.7526867644750319100, "smoke_3": 0.9931588755640579100,
         "smoke_4": 2.1331163414389076, "atrial_fibrillation": 3.4896675530623207,
         "corticosteroids": 1.1708133653489108, "erectile_dysfunction": -1.5064009857454310,
         "migraine": 2.3491159871402441, "ckd_3_5": -0.5065671632722369400,
         "treated_hypertension": 6.5114581098532671, "type1": 5.3379864878006531, "type2": 3.6461817406221311,
         "bmi_1": 31.004952956033886, "bmi_2": -111.29157184391643, "family_chd": 2.7808628508531887,
         "sbp": 0.0188585244698658530, "town": -0.1007554870063731000},
        {"smoke_1": -0.0004985487027532612100, "smoke_2": -0.0007987563331738541400,
         "smoke_3": -0.0008370618426625129600, "smoke_4": -0.0007840031915563728900,
         "atrial_fibrillation": -0.0003499560834063604900, "corticosteroids": -0.0002496045095297166000,
         "erectile_dysfunction": -0.0011058218441227373, "migraine": 0.0001989644604147863100,
         "ckd_3_5": -0.0018325930166498813, "treated_hypertension": 0.0006383805310416501300,
         "type1": 0.0006409780808752897000, "type2": -0.0002469569558886831500,
         "bmi_1": 0.0050380102356322029, "bmi_2": -0.0130744830025243190, "family_chd": -0.0002479180990739603700,
         "sbp": -0.0000127187419158845700, "town": -0.0000932996423232728880},
    ),
}


def smoking_category(smoker: bool, ex_smoker: bool, cigarettes_per_day: float | None) -> str:
    """QRISK3's smoking category from a current-smoker answer, a former-smoker answer and cigarettes a day."""
    if not smoker:
        return "ex_smoker" if ex_smoker else "non_smoker"
    if cigarettes_per_day is None:
        raise InputError("a current smoker's cigarettes per day are needed", field="cigarettes_per_day")
    checks.number("cigarettes_per_day", cigarettes_per_day)
    return "light" if cigarettes_per_day < 10 else "moderate" if cigarettes_per_day < 20 else "heavy"


def cvd_10y(sex: str, age: float, ethnicity: str, townsend: float, bmi: float, chol_hdl_ratio: float,
            systolic_bp: float, sbp_sd: float, smoking: str, diabetes: str, conditions: dict[str, bool]
            ) -> RiskResult:
    """10-year CVD risk by QRISK3-2017; `conditions` answers ASKED[sex] (diabetes type comes from `diabetes`).

    ClinRisk's code takes age in whole years: pass whole years for its exact results.
    """
    sex = checks.sex(sex)
    age, bmi, chol_hdl_ratio, systolic_bp = (checks.number(f, v, positive=True) for f, v in (
        ("age", age), ("bmi", bmi), ("chol_hdl_ratio", chol_hdl_ratio), ("systolic_bp", systolic_bp)))
    townsend, sbp_sd = checks.number("townsend", townsend), checks.number("sbp_sd", sbp_sd)
    eth = ETHNICITIES.index(checks.choice("ethnicity", ethnicity, ETHNICITIES))
    smoke = SMOKING.index(checks.choice("smoking", smoking, SMOKING))
    diabetes = checks.choice("diabetes", diabetes, DIABETES)
    asked = ASKED[sex]
    unknown = [c for c in conditions if c not in asked]
    if unknown:
        checks.choice("condition", sorted(unknown)[0], asked)
    flags = {c: checks.flag(c, conditions.get(c)) for c in asked}
    flags |= {"type1": diabetes == "type1", "type2": diabetes == "type2"}
    template = {"name": NAME, "disease": "cvd", "model_name": NAME, "model_version": VERSION,
                "horizon_years": 10, "confidence": C_STATISTIC[sex]}
    reason = out_of_range([
        ("age", age, *VALIDITY["age"], "years"), ("BMI", bmi, *VALIDITY["bmi"], "kg/m2"),
        ("cholesterol/HDL ratio", chol_hdl_ratio, *VALIDITY["chol_hdl_ratio"], ""),
        ("systolic BP", systolic_bp, *VALIDITY["systolic_bp"], "mmHg"),
        ("SBP standard deviation", sbp_sd, *VALIDITY["sbp_sd"], "mmHg"),
        ("Townsend score", townsend, *VALIDITY["townsend"], ""),
    ])
    if reason:
        return not_applicable(template, reason)
    m = MODELS[sex]
    a10, b10 = age / 10, bmi / 10
    x = {"age_1": a10 ** m["age_powers"][0], "age_2": a10 ** m["age_powers"][1], "bmi_1": b10 ** -2,
         "bmi_2": b10 ** -2 * math.log(b10), "ratio": chol_hdl_ratio, "sbp": systolic_bp, "sbp_sd": sbp_sd,
         "town": townsend}
    x = {k: v - m["means"][k] for k, v in x.items()}
    s = m["ethnicity"][eth] + m["smoking"][smoke]
    s += sum(c * x[k] for k, c in m["linear"].items())
    s += sum(c for k, c in m["boolean"].items() if flags[k])
    # Age interactions: each age transform × (smoking category, conditions, BMI terms, family history, SBP, Townsend).
    terms = {f"smoke_{smoke}": 1.0} | {k: 1.0 for k, v in flags.items() if v} | {k: x[k] for k in
                                                                                 ("bmi_1", "bmi_2", "sbp", "town")}
    for age_term in ("age_1", "age_2"):
        s += x[age_term] * sum(c * terms[k] for k, c in m[age_term].items() if k in terms)
    probability = 1.0 - m["survivor"] ** math.exp(s)
    return RiskResult(**template, probability=probability,
                      details={"ethnicity": ETHNICITIES[eth], "smoking": SMOKING[smoke], "diabetes": diabetes})
