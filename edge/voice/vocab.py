"""The triage vocabulary: how patients say their symptoms (lay terms, metaphors, body part + complaint). The
modifiers that change urgency and the tables that combine concepts into a level are in edge/voice/levels.py, the
ConText cues in first-person speech in edge/voice/cues.py.

Patterns use a small notation compiled to spaCy token patterns over lemmas (edge/voice/nlp.py):
`word` a word (matched on its lemma, so "hurts"/"hurting"/"hurt" are one), `a|b` either word, `@CLASS` any word of a
class below, `=word` the exact word (for lemmas the lookup table merges, e.g. worst → "wrong"), `word?` optional,
`~N` up to N filler words (never punctuation, a negation, a conjunction or another body part, so a gap cannot
reach across "no" or "but"). Multi-word units ("can't") are split the way the tokenizer splits them.
"""
from __future__ import annotations

from dataclasses import dataclass

# Word classes: single words, matched on their lemmas.
CLASSES: dict[str, tuple[str, ...]] = {
    "JOINT": ("knee", "knees", "ankle", "wrist", "elbow", "shoulder", "hip", "hips", "finger", "fingers", "heel",
              "heels", "foot", "feet", "thumb", "hand", "hands", "neck", "toe", "joint", "joints"),
    "CHEST": ("chest", "breastbone", "sternum", "heart"),
    "PAIN": ("pain", "painful", "hurt", "ache", "achy", "sore", "tight", "tightness", "heavy", "heaviness",
             "pressure", "squeeze", "squeezing", "crush", "crushing", "discomfort", "agony", "stab", "stabbing",
             "throb", "throbbing", "kill", "killing", "cramp", "pains", "aching", "burn", "burning", "agonising",
             "agonizing", "excruciating", "unbearable", "tender", "tenderness"),
    "PRESS": ("tight", "tightness", "heavy", "heaviness", "pressure", "squeeze", "squeezing", "crush", "crushing",
              "band", "weight", "elephant", "vice", "clamp", "press", "pressing", "belt",
              # AHA "uncomfortable pressure, squeezing, fullness"; lay: "gripping", "clenching", "like a fist".
              "grip", "gripping", "gripped", "clench", "clenching", "constrict", "constricting", "constricted",
              "squash", "squashing", "squashed", "crushed", "fist", "fullness", "weighing", "tightening",
              "lock", "locked", "seize", "seized"),
    "SORE": ("sore", "scratchy", "hurt", "pain", "painful", "ache", "raw", "aching"),
    "ABDO": ("stomach", "tummy", "belly", "abdomen", "abdominal", "gut", "bowel", "navel", "groin"),
    "HEAD": ("head", "skull", "forehead", "temple"),
    "LIMB": ("arm", "arms", "leg", "legs", "hand", "hands", "foot", "side", "shoulder"),
    "FACE": ("face", "mouth", "smile", "lip", "lips", "cheek"),  # not "eyelid": a droopy eyelid over months is no FAST
    "WEAK": ("weak", "weakness", "dead", "limp", "floppy", "flop", "paralysed", "paralyzed", "useless",
             "drag", "droop", "drooping"),
    "DROOP": ("droop", "droopy", "drooping", "drop", "dropped", "fall", "fallen", "sag", "sagging", "lopsided",
              "wonky", "twisted", "numb", "slip", "slipped", "crooked", "skew", "uneven"),
    "AIRWAY": ("lip", "lips", "tongue", "throat", "mouth", "palate"),  # not the gums: a swollen gum is dental
    "SWELL": ("swell", "swollen", "swelling", "puff", "puffy", "puffing", "=bigger", "close", "closing",
              "thick", "balloon", "ballooning", "double", "doubled", "huge", "massive"),
    # "=bigger" below the class: on its lemma "bigger" is "big", and "after big meals" is no swelling.
    "BLOOD": ("blood", "bloody", "bleed", "bleeding"),
    "STOOL": ("poo", "poop", "stool", "stools", "motion", "motions", "bottom", "bum", "rectum", "faeces", "feces"),
    "URINE": ("wee", "urine", "pee", "urinate", "urinating", "weeing", "peeing", "water"),
    "VOMIT": ("vomit", "vomiting", "sick", "puke", "throw", "threw", "heave", "retch",
              "spew", "spewing", "spewed", "barf", "barfing", "hurl", "hurling"),
    "KIN": ("dad", "father", "mum", "mom", "mother", "mam", "brother", "sister", "son", "daughter", "husband",
            "wife", "partner", "baby", "child", "kid", "boy", "girl", "grandad", "granddad", "grandpa", "gran",
            "granny", "grandma", "grandmother", "grandfather", "nan", "nana", "aunt", "auntie", "uncle", "cousin",
            "niece", "nephew", "friend", "neighbour", "neighbor", "flatmate", "toddler", "grandson",
            "granddaughter", "colleague", "girlfriend", "boyfriend", "fiance", "fiancee", "carer", "patient"),
    "NOT": ("not", "no", "never"),
    # Movements of a convulsive seizure as bystanders describe them (NHS "Epilepsy": shaking, jerking, going stiff).
    "JERK": ("shake", "shaking", "shook", "jerk", "jerking", "jerked", "twitch", "twitching", "twitched", "convulse",
             "convulsing", "thrash", "thrashing", "spasm", "spasming", "flail", "flailing", "fitting"),
    # How a bleed that will not stop is described (NHS 999: "spraying, pouring or enough to make a puddle").
    "TORRENT": ("gush", "gushing", "gushed", "pour", "pouring", "poured", "spurt", "spurting", "spray", "spraying",
                "pump", "pumping", "everywhere", "puddle", "stream", "streaming", "flood", "flooding", "drench",
                "drenched", "soak", "soaking", "soaked", "torrent", "squirt", "squirting", "squirted"),
    "UNIT_LONG": ("week", "weeks", "month", "months", "year", "years", "decade", "decades"),
    "SEASON": ("year", "month", "week", "weekend", "winter", "summer", "spring", "autumn", "christmas", "easter",
               "time"),
    "LIFE_STAGE": ("child", "kid", "baby", "teenager", "teen", "student", "youngster", "boy", "girl", "toddler"),
    # What overwhelms a person without harming them: "drowning in paperwork", "my head's exploding with forms".
    "BUSYWORK": ("paperwork", "work", "emails", "email", "bills", "admin", "debt", "forms", "form", "homework",
                 "housework", "deadlines", "stuff", "exams", "revision", "everything", "information", "info", "news",
                 "questions", "leaflets", "numbers", "noise"),
    # Exertion that explains tired, "dead" limbs.
    "EXERTION": ("marathon", "run", "running", "gym", "workout", "exercise", "training", "hike", "walk", "football",
                 "match", "game", "cycle", "ride", "race", "session", "class"),
    # What someone was doing when a symptom came on ("when I was walking up the stairs"): the onset, not the past.
    "DOING": ("walk", "walking", "run", "running", "climb", "climbing", "carry", "carrying", "lift", "lifting",
              "sit", "sitting", "lie", "lying", "drive", "driving", "eat", "eating", "sleep", "sleeping", "shop",
              "shopping", "cycle", "cycling", "stand", "standing", "bend", "bending", "dig", "digging", "dance",
              "dancing", "swim", "swimming", "hoover", "hoovering", "cook", "cooking", "garden", "gardening",
              "push", "pushing", "shower", "showering", "clean", "cleaning", "jog", "jogging", "mow", "mowing",
              "watch", "watching", "play", "playing"),
    "CRITICAL_MED": ("insulin", "epilepsy", "levetiracetam", "keppra", "valproate", "lamotrigine",
                     "carbamazepine", "phenytoin", "hydrocortisone", "epipen", "inhaler", "warfarin",
                     "apixaban", "rivaroxaban"),
}


@dataclass(frozen=True)
class Concept:
    """A symptom or modifier: its id, the specialty to see, its urgency alone, and the phrasings that say it."""

    id: str
    specialty: str
    level: str | None  # urgent | soon | self_care alone; None: only meaningful through a red-flag rule
    patterns: tuple[str, ...]
    persist_days: float | None = None  # lasting this long makes a self-care complaint worth seeing a GP ("soon")


def _c(id: str, specialty: str, level: str | None, *patterns: str, persist: float | None = None) -> Concept:
    return Concept(id, specialty, level, patterns, persist)


# Symptoms. Red-flag concepts (whose rules are in edge/voice/redflags.py) carry level None or their level alone.
SYMPTOMS: tuple[Concept, ...] = (
    # Heart attack: NHS "call 999: chest pain, pressure, heaviness, tightness or squeezing across the chest".
    _c("chest_pain", "cardiology", "urgent", "@CHEST ~4 @PAIN", "@PAIN ~5 @CHEST", "angina", "@CHEST ~5 on fire",
       # Someone beside the patient describes the gesture, not the pain: "he's clutching his chest".
       "clutch|clutching|clutched|grab|grabbing|grabbed|hold|holding|held|rub|rubbing|clasp|clasping ~1 at? ~1 "
       "my|his|her|their ~1 @CHEST"),
    _c("chest_wall", "general practice", "soon",
       "@PAIN|tender ~4 when|if ~3 press|presses|pressed|pressing|touch|touches|touched|push|prod|poke"),
    # Sore from coughing: not cardiac without a strong sign (redflags._heart_signs), but it keeps chest pain's own
    # level (a chest infection can need a doctor today), unlike a chest that hurts where it is pressed.
    _c("cough_chest_pain", "general practice", None,
       "@PAIN ~3 from|with ~3 coughing", "only ~1 @PAIN ~1 when ~2 cough|coughing"),
    _c("chest_pressure", "cardiology", None, "@PRESS ~4 @CHEST", "@CHEST ~6 @PRESS", "elephant ~5 @CHEST",
       "sit|sitting|stand|standing|sat|stood|kneel|kneeling|knelt|lie|lying|lean|leaning ~2 on ~1 my? @CHEST"),
    _c("heart_attack", "cardiology", None, "heart attack", "cardiac arrest", "coronary", "myocardial infarction"),
    _c("spreading_pain", "cardiology", None, "spread|radiate|shoot|travel ~3 arm|jaw|neck|shoulder",
       "go|move|run|shoot ~2 down|up|into|through|to ~3 arm|arms|jaw|neck|shoulder|shoulders|back|teeth|throat",
       "radiate|radiating ~3 back", "@PAIN ~4 arm|jaw ~2 too", "@PAIN ~4 arm|jaw as well"),
    _c("arm_jaw_pain", "cardiology", "soon", "jaw ~4 @PAIN", "arm|arms ~3 heavy|heaviness",
       "left ~1 arm ~3 @PAIN", "@PAIN ~3 left ~1 arm|jaw",
       "@PAIN ~3 jaw"),
    _c("sweating", "general practice", None, "sweat", "sweaty", "sweating", "clammy", "cold sweat", "grey"),
    _c("shortness_of_breath", "pulmonology", "urgent", "short of breath", "shortness of breath", "breathless",
       "breathlessness", "out of breath", "difficulty|trouble|problem|hard|difficult ~2 breathe|breathing|breath",
       "breathing ~2 hard|difficult|laboured|labored|fast", "pant|panting",
       "breathing ~3 terrible|awful|horrendous|dreadful|shocking|horrible", "breathing ~2 really bad"),
    # NHS 999: "severe difficulty breathing: not being able to get words out, choking or gasping".
    _c("cannot_breathe", "pulmonology", None, "@NOT really|even|properly? breathe|breath", "unable to breathe",
       "gasp", "gasping",
       "choke", "choking", "@NOT ~2 get|finish ~2 word|words|sentence",
       "@NOT ~2 talk|speak|speaking|talking ~4 breath|breathless|breathe|breathing",
       "@NOT ~2 talk|speak|speaking|talking because|as ~6 breath|breathless", "fight|fighting ~2 breath",
       "@NOT ~1 catch ~2 breath", "stop|stopped breathing", "barely breathing",
       "struggle|struggling ~2 breathe|breath|breathing",
       "struggle|struggling|fight|fighting|gasp|gasping|desperate ~1 for ~1 air|breath",
       "@NOT ~2 get ~1 enough ~1 air|breath",
       # Asthma UK / NHS asthma attack: call 999 when the reliever inhaler does not help.
       "inhaler|inhalers|puffer ~4 @NOT ~1 help|helping|helped|work|working|worked",
       "inhaler|inhalers|puffer|reliever ~4 @NOT ~1 do|doing|does|did ~1 anything|much",
       "inhaler|puffer ~3 do|does|doing|did nothing", "asthma attack ~3 @NOT ~1 stop|stopping|ease|easing",
       "hardly|barely ~1 breathe|breath", "@NOT ~2 get ~1 my? breath", "@NOT ~2 get ~1 air",
       "lip|lips|face|skin ~3 blue|grey|bluish|bluey|blueish|greyish", "blue ~2 lip|lips",
       "breathing through a straw", "chest ~2 heave", "fight|fighting ~2 breathe",
       "no ~1 air ~2 come|coming|get|getting|go|going ~1 in",
       "be|have ~1 turn|turning|going|gone ~1 blue",
       "breath|breathless|breathe ~3 @NOT ~1 walk|talk|speak|move",
       # "can only say a couple of words before I have to take a breath"; NHS: a child's "tummy sucking under the
       # ribs", grunting.
       "only ~3 say|get|manage|speak ~4 word|words", "rib|ribs|tummy ~4 suck|sucking|sucked|pull|pulling ~1 in?",
       "grunt|grunting ~3 breath|breathe|breathing"),
    # Hardly able to speak: with a tight chest or wheeze, the breathing is why (alone it may be a lost voice).
    _c("pleuritic_pain", "pulmonology", "urgent",
       "@PAIN|knife|stab|stabbing ~5 every|each|whenever|when ~2 time? ~1 i|I|he|she ~1 breathe|breath|cough",
       "hurt|hurts|hurting|@PAIN ~2 to ~1 breathe", "@PAIN ~3 deep ~1 breath|breaths",
       "breathe|breathing ~1 in ~3 @PAIN"),
    _c("clot_risk", "haematology", None,
       "long ~1 flight|haul|coach|car|bus|train|drive ~1 trip|journey|ride?", "long-haul",
       "after ~1 my|the|her|his ~1 operation|surgery|op|caesarean|section",
       "calf ~3 swollen|swelling|painful|hot|red|tender", "swollen ~1 calf", "dvt", "blood ~1 clot|clots"),
    _c("speech_struggle", "pulmonology", None, "hardly|barely ~1 speak|talk|speaking|talking",
       "hardly|barely ~1 get ~2 word|words"),
    _c("wheezing", "pulmonology", "soon", "wheeze", "wheezy", "wheezing",
       "whistle|whistling|whistly ~4 breathe|breath|breathing|chest", "breathe|breathing ~3 whistle|whistling"),
    _c("cough", "pulmonology", "self_care", "cough", "coughing", "chesty", "phlegm", "hack", "hacking",
       persist=21),
    _c("palpitations", "cardiology", "soon", "palpitation", "palpitations",
       "heart ~3 race|racing|pound|pounding|flutter|fluttering|skip|skipping|thump|thumping|jump",
       "pulse ~3 race|racing|pound|pounding|fast|galloping", "pulse ~3 through the roof"),
    _c("fainting", "cardiology", "urgent", "faint", "fainted", "fainting", "pass out", "passed out", "black out",
       "blacked out", "collapse", "collapsed", "keel over", "knocked out", "keeled over",
       "lose|lost consciousness", "nearly faint",
       "went|go down like a sack"),
    _c("unresponsive", "emergency medicine", None, "@NOT ~3 wake|waking|rouse", "unable to wake|rouse",
       "@NOT ~2 come round|around",
       "@NOT ~2 come to", "@NOT ~2 =came to", "@NOT ~2 bring|get ~2 round|around",
       "@NOT ~1 respond|responding|responsive", "unresponsive",
       "@NOT ~2 answer|answering|react|reacting ~1 me?", "unconscious", "out cold", "@NOT =breathing",
       # "isn't moving or responding": the second verb of the pair is still negated.
       "@NOT ~3 or ~1 respond|responding|answer|answering|react|reacting|responsive",
       # Glasgow Coma Scale as a bystander sees it: eyes that do not open, only a groan to pain or touch.
       "@NOT ~2 open ~1 his|her|their ~1 eyes", "only|just ~1 groan|groans|moan|moans|grunt|grunts ~2 when|if",
       "@NOT ~2 open|opening ~1 eyes|eye", "barely|hardly ~1 respond|responding|responsive|conscious|react|reacting",
       "he|she|they ~1 be ~1 still ~1 out",
       "pinch|pinching|shake|shaking|shout|shouting|call|calling ~4 and ~1 nothing",
       "no ~1 response|reaction ~2 at all?"),
    _c("dizziness", "neurology", "soon", "feel|felt|feeling|go|went ~2 faint|faintish", "dizzy", "dizziness",
        "light headed", "lightheaded", "light|lite ~1 head",
       "woozy", "giddy", "room ~2 spin|spinning", "vertigo", "unsteady"),
    # NHS: a fever alone is self-care; over 3 days (adults), see a GP; a high one is "soon" (high_fever).
    _c("fever", "general practice", "self_care", "fever", "fevers", "feverish", "temperature", "high temp",
       "burn|burning up", "burning hot", "shiver", "shivering", "chill", "chills", "hot and cold", "rigor",
       "hot ~2 then ~2 cold", "cold ~2 then ~2 hot", persist=3),
    _c("high_fever", "general practice", "soon", "high|raging ~1 temperature|temp|fever", "burn|burning up"),
    _c("headache", "neurology", "self_care", "headache", "headaches", "head ache", "migraine", "migraines",
       "@HEAD ~3 @PAIN|pound|pounding|bang|banging|split|splitting|explode|exploded|hurt|throb",
       "@PAIN ~3 @HEAD", "hit ~6 @HEAD",
       # As with the chest, a bystander describes the gesture: "she grabbed her head", "holding his head".
       "clutch|clutching|clutched|grab|grabbing|grabbed|hold|holding|held ~1 the? ~1 back? ~1 of? ~1 my|his|her|their "
       "~1 @HEAD", persist=7),
    _c("thunderclap", "neurology", None, "thunderclap", "clap of thunder", "thunderbolt",
       "like ~3 hit|struck|whack|whacked|smack|smacked ~6 bat|hammer|brick|sledgehammer",
       "like ~3 hit|struck|whack|whacked|smack|smacked|bash|bashed|thump|thumped ~3 back of the|my head",
       "like ~3 hit|struck|whack|whacked|smack|smacked|bash|bashed|thump|thumped ~3 @HEAD",
       "@HEAD ~2 explode|exploded|exploding", "explode|exploded ~2 in ~1 my? head",
       "burst|popped|pop|snapped ~3 in ~1 my|his|her ~1 head|brain",
       "explosion|explode|exploded|bang ~3 in|inside ~1 my|his|her ~1 head",
       "@HEAD ~3 burst|bursting|buss|exploded ~2 with|wid ~1 pain"),
    _c("stiff_neck", "neurology", None, "stiff ~2 neck", "neck ~3 stiff",
       # NHS meningitis in a baby or child: a stiff neck shows as pain or screaming when it is moved.
       "@PAIN|scream|screaming|cry|crying ~4 move|moving|bend|bending|touch|turn|turning ~2 my|his|her|the ~1 neck",
       "@NOT ~2 bend|move ~2 neck|head ~1 forward?",
       "neck ~3 @PAIN ~2 bend", "@NOT ~2 touch|put|get|bring ~2 chin ~2 to|on ~1 my|his|her|the ~1 chest"),
    _c("photophobia", "neurology", None, "light ~3 hurt ~2 eye|eyes", "@NOT ~1 stand|bear ~2 light",
       "hate|hates|dislike|dislikes ~2 light|lights|brightness", "sensitive ~2 to ~1 light",
       "light|lights ~3 hurt|bother",
       "light|lights ~2 too bright", "@NOT ~2 look ~2 at ~1 the|any ~1 light|lights"),
    _c("nonblanching_rash", "emergency medicine", None, "rash|spot|spots|blotch ~6 @NOT ~2 fade|go|disappear",
       "rash|spot|spots|blotch ~4 stay|stays|remain ~1 when|if ~2 press|pressed|push",
       "purple|purplish ~2 spot|spots|rash|blotch|blotches",
       "glass test",
       # NHS meningitis: "a rash that looks like bruises or tiny pinpricks".
       "rash|spots ~3 like ~1 bruise|bruises|bruising|pinprick|pinpricks",
       "bruise|bruising ~1 rash|spots", "tiny ~1 red|purple|dark ~1 spots|dots|pinpricks",
       "@NOT ~2 fade|go|disappear ~3 under|with ~2 glass|tumbler"),
    _c("floppy", "paediatrics", None, "floppy", "limp and", "really drowsy", "@NOT ~2 wake properly"),
    # FAST: face, arms, speech (Stroke Association / NHS).
    _c("facial_droop", "neurology", None, "@FACE ~4 @DROOP",
       # FAST: a face that has dropped shows as drooling from one corner.
       "dribble|dribbling|drool|drooling ~4 one|the ~1 side|corner", "@DROOP ~3 @FACE", "droop", "droopy",
       "lopsided", "@NOT ~1 smile", "one side of ~2 @FACE",
       "@FACE ~4 slide|sliding|slid|melt|melting|melted ~1 down|off?"),
    _c("limb_weakness", "neurology", None, "@LIMB ~6 @WEAK", "@WEAK ~4 @LIMB", "@NOT ~2 lift|raise|hold|move ~4 @LIMB",
       "@NOT ~2 lift|raise|hold ~2 up", "one side ~3 weak|dead|numb", "@LIMB ~3 hang|hanging ~1 limp|down|there|loose",
       "@LIMB ~3 dangle|dangling|dangles|flop|flopping",
       "@LIMB ~5 @NOT ~1 work|working|move|moving",
       # FAST "arms": what the weak side can no longer do ("can't hold my cup", "my leg won't take my weight").
       "@NOT ~2 hold|grip ~2 cup|mug|pen|fork|spoon|phone|glass|kettle",
       "slip|slipped|slipping|drop|dropped|dropping|fall|fell ~3 out of ~1 my|his|her ~1 hand",
       "leg|legs ~3 @NOT ~2 take|hold ~2 weight", "@NOT ~2 take|put ~2 weight ~2 on ~1 one|the|my ~1 side"),
    _c("speech_difficulty", "neurology", None, "slur", "slurred", "slurry", "slurring", "garbled",
       "unable to speak|talk",
       "word|words|speech|talk|talking ~5 wrong|jumble|jumbled|muddle|muddled|strange|funny|slur",
       "@NOT ~2 talk|speak ~1 properly|clearly|right|straight", "@NOT ~2 speak", "@NOT ~2 find ~1 my? word|words",
       "blur|blurred speech", "speech ~2 blur|blurred|slur",
       # Sudden trouble with words written or read (NHS stroke: problems understanding or speaking).
       "letter|letters|word|words ~3 @NOT ~2 make ~1 any? ~1 sense"),
    _c("vision_loss", "neurology", None, "lose|lost ~3 sight|vision", "go|gone|went blind", "blind in",
       "@NOT ~1 see ~2 out of", "sight|vision ~3 go|gone|went", "=black|=dark ~2 in ~1 one eye", "curtain ~3 eye"),
    _c("stroke", "neurology", None, "stroke", "strokes", "mini stroke", "tia"),
    _c("numbness", "neurology", "soon", "=numb", "numbness", "pins and needles", "tingle", "tingling",
       "@NOT ~1 feel ~4 side|@LIMB|face|body"),
    # Pins and needles from lying or leaning on a limb, that wear off: a pressed nerve, self-care (NHS).
    _c("positional_numbness", "neurology", "self_care",
       "pins and needles|numb|numbness|tingling|tingle ~6 when|if|after ~3 sleep|lie|lying|sit|sitting|kneel|"
       "kneeling|lean|leaning|cross|crossing"),
    # BE-FAST adds Balance and Eyes to FAST (Aroor et al., Stroke 2017): sudden loss of balance or of vision.
    _c("balance_loss", "neurology", "soon", "lose|lost|losing ~2 balance", "off balance", "@NOT ~2 walk ~1 straight",
       "keep|keeps ~1 fall|falling ~1 over"),
    _c("seizure", "neurology", None, "seizure", "seizures", "convulsion", "convulsions", "convulse",
       "convulsing", "a|another|having|had|first ~1 =fit", "=fits", "=fitting", "epileptic fit",
       "@LIMB ~4 twitch|twitching|jerk|jerking", "jerk|jerking|twitch|twitching ~2 my|his|her|their ~1 @LIMB",
       "jerk|jerking ~2 all over", "shake|shaking ~1 all over",
       "body ~3 shake|shaking|jerk|jerking|convulse|convulsing|twitch|twitching",
       "foam|foaming|froth|frothing ~2 mouth", "shake|shaking and jerk|jerking",
       "@JERK ~5 @NOT ~1 stop", "eyes ~3 roll ~1 back", "febrile convulsion",
       # Composition, not sentences: two convulsive movements together ("shaking and twitching"), one on the floor,
       # or stiffening then jerking ("went stiff and then started jerking"); NHS: a tonic-clonic seizure.
       "@JERK and|, ~1 @JERK", "@JERK ~3 on|across|about ~1 the ~1 floor|ground", "eyes ~2 roll|rolled|rolling",
       "go|went|gone|going|gone|be stiff|rigid and? then? ~3 @JERK", "stiff|rigid and ~2 @JERK",
       "bit|bitten|biting ~2 tongue",
       "=gone|=went|going|go ~2 straight? ~1 into ~1 another", "one ~1 fit|seizure ~2 after ~1 another",
       "back to back ~1 fit|fits|seizure|seizures",
       # NHS "What to do if someone has a seizure": call 999 if it lasts more than 5 minutes or does not stop.
       "=fit|=fits|fitting|seizure|seizures ~3 more|longer ~1 than ~1 five|5|ten|10 ~1 minute|minutes|min|mins",
       "=fit|=fits|seizure ~4 @NOT ~1 stop|stopping"),
    _c("bleeding", "general practice", "soon", "bleed", "bleeding", "bled", "nosebleed", "nosebleeds", "=spotting"),
    # NHS "Nosebleeds": go to A&E if it lasts longer than 10 to 15 minutes.
    _c("long_nosebleed", "ENT", "urgent",
       "nosebleed|nose ~3 bleed|bleeding|bled ~4 for ~2 ten|fifteen|twenty|thirty|forty|dd ~1 minutes|hour|hours",
       "nosebleed ~4 for ~2 ten|fifteen|twenty|thirty|forty|dd ~1 minutes|hour|hours"),
    _c("blood", "general practice", "soon", "blood", "bloody", "bright red", "like ~2 coffee", "dark bits",
       "clots", "=turned ~1 red",
       # Said of what it landed on: "the sink was all red", "the hanky's soaked red".
       "sink|tissue|tissues|hanky|hankie|handkerchief|bowl|toilet|loo|pan|bucket|basin|pillow ~3 and? ~2 be|go|went|"
       "turn|turned ~1 all? ~1 red", "@TORRENT ~2 red", "pink ~2 frothy|froth|foam|foamy", "frothy|foamy ~3 pink"),
    # NHS 999: "heavy bleeding: spraying, pouring or enough to make a puddle".
    _c("heavy_bleeding", "emergency medicine", None, "@NOT ~2 stop ~2 bleed|bleeding", "bleed ~4 @NOT ~1 stop",
       "@BLOOD ~3 pour|pouring|spurt|spurting|spray|spraying|gush|gushing|pump|pumping|everywhere|puddle",
       "pour|pouring|spurt|spurting|gush|gushing|pump|pumping ~2 blood",
       "wound|cut|gash ~3 @TORRENT", "@TORRENT ~4 every|each ~1 heartbeat|beat|pulse",
       "@TORRENT ~2 @NOT ~1 stop ~1 it",
       "bleed|bleeding ~5 heavily|badly|profusely|loads",
       "bleed|bleeding ~2 a lot", "bleed|bleeding ~1 like ~1 mad|crazy|hell|anything|tap", "heavy bleeding",
       # Soaking through dressings (NHS 999: heavy bleeding).
       "bleed|bleeding|blood ~2 through ~3 everything|towel|towels|bandage|bandages|dressing|dressings|clothes",
       "lose|losing|lost ~2 lot|loads|lots ~1 of blood",
       "soak|soaked ~3 towel|towels|pad|pads|cloth",
       "puddle|pool ~2 of ~1 blood", "@BLOOD ~4 @TORRENT", "@TORRENT ~3 @BLOOD",
       "haemorrhage", "hemorrhage", "bleed out",
       "blood ~3 @NOT ~1 stop", "so|such ~1 much blood", "full of blood", "lot|lots|loads ~1 of blood"),
    _c("coughing_blood", "pulmonology", None, "cough ~3 blood", "hack|hacking ~2 blood",
       "phlegm|spit|sputum|mucus ~4 blood", "blood ~4 phlegm|spit|sputum|mucus", "haemoptysis"),
    _c("vomiting_blood", "gastroenterology", None, "@VOMIT ~4 blood", "bring|bringing|brought ~1 up ~4 blood",
        "blood ~4 vomit|sick", "coffee ground", "@VOMIT ~4 dark|bright ~1 red",
       "@VOMIT ~4 red|black|brown ~1 stuff|bits|liquid|lumps", "coffee granules",
       "coffee grounds", "haematemesis", "red|bloody|blood ~3 in|on|through ~1 my|his|her|the ~1 vomit|sick|puke",
       "@VOMIT ~4 streak|streaks|streaked|speck|specks|fleck|flecks|trace|traces|tinge|tinged ~2 red|blood|with",
       "streak|streaks|speck|specks|fleck|flecks|trace|traces ~2 of? ~1 red|blood ~3 in|on ~1 my|his|her|the ~1 "
       "vomit|sick", "@VOMIT up? and it be|have ~1 red|bloody",  # the lemma table makes "'s" have
       # NHS "Vomiting blood": dark brown or black (altered blood, below, in the same sentence too).
       "@VOMIT ~3 something? ~1 black|dark",
       # "puke red everywhere", "the whole bowl went red".
       "@VOMIT ~3 red|crimson", "@VOMIT ~8 go|gone|went|turn|turned ~1 red"),
    _c("vomiting", "gastroenterology", "soon", "vomit", "vomiting", "vomited", "throw up", "threw up",
       "retch", "retching", "spew", "spewing", "spewed", "chuck|chucking ~1 up", "bring|bringing ~1 up",
       "throwing up", "be sick", "been sick", "being sick", "puke", "puking", "my|his|her|the ~1 sick|vomit|puke",
       "@KIN =\'s sick =looks|=is|=was|=has"),  # "my dad's sick looks like…": his vomit
    # NICE NG143 / NHS "Intussusception" and bowel obstruction: green (bile-stained) vomit with tummy pain.
    _c("bilious_vomit", "gastroenterology", "urgent", "@VOMIT ~3 green|bile", "green ~1 bile|vomit|sick",
       "bring|bringing|brought ~1 up ~2 green|bile"),
    # NHS "Intussusception": poo like redcurrant jelly (blood and mucus).
    _c("redcurrant_stool", "paediatrics", None, "redcurrant|raspberry ~1 jelly"),
    _c("nausea", "gastroenterology", "self_care", "nausea", "nauseous", "queasy", "feel|feeling|felt ~2 sick"),
    _c("black_stool", "gastroenterology", None, "@STOOL ~4 black|tar|tarry|sticky", "black ~2 @STOOL",
       "black|dark ,? tarry|sticky|runny ~1 @STOOL",
       "@STOOL ~4 dark red", "melaena"),
    # NHS "Bleeding from the bottom": see a GP; A&E only for black or dark red poo, or heavy bleeding (redflags.py).
    _c("rectal_bleeding", "gastroenterology", "soon", "blood ~4 @STOOL", "@STOOL ~3 @BLOOD",
       "bleed|bleeding ~2 from ~2 bottom|bum", "bleed|bleeding ~3 back passage",
       "@BLOOD ~4 back passage", "@BLOOD ~3 from ~2 bottom|bum|rectum",
       "piles|haemorrhoids|hemorrhoids ~3 bleed|bleeding",
       "@BLOOD ~6 toilet|loo|pan|wipe|wiping|tissue", "toilet|loo ~3 full of|red ~1 blood?",
       "pass|passing|passed ~2 blood|clots"),
    _c("internal_bleeding", "emergency medicine", None, "internal bleeding", "bleed ~2 brain|bowel|stomach",
       "stomach|bowel|brain bleed", "bleeding inside", "massive|huge|big ~1 bruise|bruises ~2 appear|appearing"),
    # A bruise that keeps spreading, or bleeding on a blood thinner (NHS anticoagulants: A&E for heavy bleeding or
    # a large bruise that spreads, or feeling faint).
    _c("bruise_spreading", "haematology", "soon", "bruise|bruises|bruising ~4 spread|spreading|growing|bigger",
       "massive|huge|big|enormous ~1 bruise|bruises|bruising"),
    _c("anticoagulated", "haematology", None, "blood ~1 thinner|thinners", "warfarin", "apixaban", "rivaroxaban",
       "edoxaban", "dabigatran", "heparin", "anticoagulant", "anticoagulants"),
    _c("haematuria", "urology", "urgent", "blood ~4 @URINE", "@URINE ~5 @BLOOD", "@URINE ~3 pink|red|brown",
       "weeing|peeing blood"),
    _c("shock_signs", "emergency medicine", None, "cold and shaky", "cold and clammy", "cold clammy",
       "pale and", "really pale", "look|looks ~1 pale",
       "feel|feeling|felt ~2 weak", "weak and shaky",
       "feel|feeling cold", "go|going|gone|went|turn|turning ~1 pale|grey|white", "white as a sheet"),
    _c("confusion", "emergency medicine", None, "confused", "confusion", "muddled", "disorientated", "disoriented",
       "@NOT ~1 himself|herself|themselves ~1 at all", "try|trying|tried ~2 to ~1 go ~1 home ~3 left|lived",
       "delirious", "delirium", "talk|talking ~1 nonsense|rubbish|gibberish", "@NOT ~2 make|making ~1 sense",
       "@NOT ~2 know ~1 where|who ~2 be|live|lives|lived",
       # Nothing said makes sense (a negation word inside the concept: "nothing she says makes sense").
       "nothing ~4 make|makes|making ~2 sense", "make|makes|making ~1 no ~1 sense",
       # NHS 999 "acute confused state": found wandering and lost.
       "wander|wandering|wandered ~3 street|streets|road|roads ~3 at? ~1 night|nightie|nightdress|pyjamas|lost",
       "wander|wandering|wandered ~2 in|around|about|along ~2 the ~1 road|street|streets",
       "@NOT ~2 know ~1 what ~2 go|happen|happening|day|year",
       "@NOT ~2 recognise|recognize|recognising", "seeing things", "@NOT with it",
       "hallucinate", "hallucinating", "@NOT ~1 think straight", "ask|asking ~3 what day"),
    # Disorientated in time or place, in the patient's own words ("where am I?"): NHS 999 sudden confusion, whatever
    # memory complaint is said with it.
    _c("disoriented", "emergency medicine", None, "where be i", "who be you",
       "@NOT ~2 know ~1 where ~1 i|he|she ~1 be",
       "@NOT ~2 know ~2 why|how ~1 i|he|she ~1 be ~1 here"),
    _c("abdominal_pain", "gastroenterology", "soon", "@ABDO ~4 @PAIN", "@PAIN ~8 @ABDO", "stomach ache",
       "@PAIN ~3 low down ~3 side", "@PAIN ~3 lower ~1 tummy|belly|side",
       "stomachache", "tummy ache", "bellyache", "appendicitis", "appendix ~2 burst", "burst appendix",
       "gallstone", "gallstones"),
    _c("belly_swelling", "gastroenterology", "soon",
       "@ABDO ~3 swell|swelling|swollen|bigger|distended|blow|blowing|blown ~1 up?",
       "@ABDO ~3 hard|tight ~1 and ~1 swollen|swelling|bloated"),
    # A blow to the belly (NHS: internal bleeding after an injury shows as dizziness, pallor, a swelling belly).
    _c("abdominal_trauma", "emergency medicine", "urgent",
       "kick|kicked|punch|punched|hit|stamp|stamped|elbow|elbowed|head-butted ~3 in|on ~1 the|my|his|her ~1 "
       "stomach|tummy|belly|abdomen|ribs|side"),
    # NHS 999: "severe injuries after a serious accident or assault".
    _c("major_trauma", "emergency medicine", "urgent", "hit|knocked ~2 by|down ~1 a? car|bus|lorry|van|truck|motorbike",
       "car|motorbike|road|motorway ~1 crash|accident|collision", "stab|stabbed", "shot", "run over",
       "fell|fall|come|came|thrown ~3 from|off ~2 ladder|roof|height|window|balcony|scaffolding|horse|motorbike"),
    _c("trauma", "emergency medicine", "soon", "car crash", "crash", "accident", "fell|fall ~2 off|down|from",
       "have|has|had ~1 a ~1 fall",
       "hit by", "knocked down", "after|from ~1 the|a|my|his|her ~1 fall", "assault", "assaulted", "stabbed",
       "beaten up"),
    # Stabbed or shot (the exact words: "a stabbing pain" is a pain): NHS 999, a serious assault.
    _c("penetrating_injury", "emergency medicine", None, "be|get|got|been ~1 =stabbed|=knifed|=shot",
       "=stabbed|=knifed|=shot ~2 in|through ~1 the|my|his|her ~1 side|chest|back|stomach|belly|neck|leg|arm|tummy|"
       "head"),
    _c("rigid_belly", "gastroenterology", None, "@ABDO ~3 hard|rigid|rock",
       "@ABDO ~4 swollen|swelling|distended|bloated and ~1 hard|rigid|tight"),
    _c("rigid_abdomen", "gastroenterology", None, "@ABDO ~3 hard|rigid|rock", "@NOT ~3 poo|pass ~1 wind",
       "@NOT ~4 or pass ~1 wind",
       "double|doubled ~1 over", "@NOT ~2 stand ~1 up ~1 straight", "@NOT ~2 move",
       "@NOT ~2 walk|stand ~1 upright|straight",
       "roll|rolling ~1 around|about", "writhe|writhing", "@NOT ~2 stand|keep|lie ~1 still",
       # Tenderness and guarding: a cry, a scream or a flinch when the belly is touched (NHS appendicitis).
       "scream|screams|screaming|yelp|yelps|cry|cries|flinch|flinches|wince|winces|jump|jumps ~3 when|if ~3 "
       "touch|touches|touched|press|presses|pressed|presses ~2 on? ~1 it|his|her|my|the|tummy|belly",
       "spread|spreading|spread ~3 all ~1 over ~2 @ABDO",
       "@NOT ~1 let ~2 me|anyone|you|us ~1 touch|near ~2 it|his|her|my|tummy|belly|stomach"),
    _c("airway_swelling", "emergency medicine", None, "@AIRWAY ~4 @SWELL", "@SWELL ~3 @AIRWAY",
       "@AIRWAY ~3 get|getting|gone|go|went|be ~1 big|fat|huge|massive", "@AIRWAY big",
       "@AIRWAY ~3 blow|blown|blew ~1 up", "@AIRWAY ~3 close ~1 up", "hard to swallow", "@NOT ~1 swallow",
       "anaphylaxis", "anaphylactic"),
    # A tight throat alone is often anxiety (globus); with an allergen or a reaction it is anaphylaxis.
    _c("throat_tight", "ENT", None, "throat ~3 tight|tightness|tighten|tightening", "tight ~2 throat"),
    _c("face_swelling", "dermatology", "urgent", "face|eye|eyes ~4 swell|swelling|swollen|puff|puffing|puffy",
       "swell|swollen|swelling ~2 face"),
    _c("adrenaline_used", "allergy", None,
       "use|used|using|give|gave|given|jab|jabbed|inject|injected ~3 epipen|epipens|adrenaline|jext|emerade|"
       "auto-injector|autoinjector"),
    _c("allergic_reaction", "allergy", "urgent", "allergic reaction", "reaction", "hives", "nettle rash"),
    _c("allergen", "allergy", None, "sting", "stung", "peanut", "peanuts", "nut", "nuts", "prawn", "prawns",
       "shellfish", "allergic", "allergy", "penicillin", "antibiotic", "bee", "wasp",
       "new ~1 tablet|tablets|medicine|medication|pill|pills|drug|drugs|antibiotics",
       "after ~1 a|the|my|some? ~1 medicine|medication|tablet|tablets|injection|jab"),
    # A voice gone hoarse or strange with a reaction: the airway is swelling (Resuscitation Council UK anaphylaxis:
    # hoarse voice, stridor).
    _c("voice_change", "ENT", None, "voice ~3 go|gone|going|went|get|gotten|turn|turned ~1 funny|hoarse|croaky|"
       "strange|weird|husky|raspy|different|squeaky", "hoarse|croaky ~1 voice", "voice ~2 funny|hoarse|croaky"),
    _c("giving_up", "psychiatry", None, "@NOT ~1 keep ~1 going|on", "i ~1 be ~1 done",
       "@NOT ~2 do ~1 this ~1 anymore",
       "have|had ~1 enough ~1 of ~1 life|everything|living"),
    _c("farewell", "psychiatry", None,
       "write|written|wrote|writing|left|leave ~3 letter|letters|note|notes ~2 to|for ~1 "
       "my|the|his|her|our ~1 @KIN", "say|said|saying ~2 my? ~1 goodbye|goodbyes",
       "give|giving|given|gave ~1 away ~2 my|his|her ~1 things|stuff|belongings|possessions",
       "sort|sorted|sorting ~2 my|his|her ~1 will|affairs"),
    # Samaritans / NHS warning signs: getting hold of a means (a rope hidden, pills saved up).
    _c("suicide_means", "psychiatry", None, "rope ~6 shed|garage|loft|attic|tree|hidden|hid|hiding", "noose",
       "ligature", "hidden|hid ~2 a? ~1 rope",
       "stockpile|stockpiled|stockpiling|save|saved|saving|hoard|hoarded|hoarding ~3 pills|tablets|painkillers"),
    _c("suicidal", "psychiatry", "urgent", "suicide", "suicidal",
       "goodbye|farewell|suicide ~1 letter|letters|note|notes", "kill ~1 myself|themselves|himself|herself",
       "end ~1 it", "end it all", "end ~1 my|his|her ~1 own? life", "end ~1 things",
       "take ~1 my|his|her|their ~1 own? life", "want|wanted ~1 to die",
       "better off ~1 dead", "better off without me", "@NOT ~1 want ~2 be here", "@NOT ~1 want ~2 live|alive",
       "hurt|harm|harming|hurting ~1 myself", "self harm", "overdose",
       "jump|jumping ~2 off", "jump|jumping ~2 in front",
       "@NOT ~1 go on", "pill|pills|tablet|tablets ~3 save|saved|stockpile", "=take|=took|=taken ~1 them all",
       "take|taken|took|swallow|swallowed ~1 all ~1 of? my|his|her|their|the ~1 tablets|pills",
       "plan|planning ~4 end|kill|die", "wish ~2 dead", "no reason ~3 live|living|alive",
       "take ~1 a load|lot ~1 of ~1 pill|tablet|pills|tablets",
       "take|taken|took|swallow|swallowed ~2 whole|entire ~1 packet|box|bottle|pack|strip",
       "take|taken|took|swallow|swallowed ~2 too many",
       "@NOT ~2 see ~2 point ~2 living|live|life|alive|on", "no point ~2 living|life|alive|going on",
       "point of living", "@NOT ~3 keep ~1 myself ~1 safe", "=wish ~2 @NOT ~1 wake up",
       "cut|cutting|slit|slashed ~1 my|his|her wrist|wrists",
       "cutting myself",
       "hang|drown|shoot|poison|gas|electrocute|starve|throw|hanging|drowning|shooting|poisoning ~1 "
       "myself|himself|herself|themselves",
       "better off ~2 if ~3 dead|gone", "better off ~2 if ~2 @NOT ~1 here|around|alive",
       "tired|sick|weary ~2 of ~1 living|life|being alive", "no way out", "wish ~3 never ~1 born",
       "want|wanted ~3 it ~1 all? ~1 to ~1 end|stop|be over", "put ~1 an end to ~1 it|myself|everything",
       "better off ~1 @NOT ~1 waking|wake", "thoughts|thought|thinking|think ~2 about ~1 @NOT ~1 waking ~1 up",
       "jump ~4 off|from ~2 bridge|roof|cliff|building|balcony|ledge|tower|multi-storey",
       "jump ~2 in front of ~2 train|bus|car|lorry|truck"),
    # "I was going to jump": with a bridge, a roof or a platform in the same utterance, a plan (redflags.py).
    _c("jump_intent", "psychiatry", None, "go|going|gonna|want|wanted|wanting|try|tried|trying|about ~1 to ~1 jump",
       "thinking|thought ~2 about ~1 jumping"),
    _c("jump_place", "psychiatry", None, "bridge", "cliff", "ledge", "rooftop", "roof", "balcony", "railway",
       "platform", "tracks", "multi-storey", "car park"),
    # Sepsis (UK Sepsis Trust "SEPSIS" signs; NHS "Sepsis": call 999 with an infection and any of them).
    _c("sepsis", "emergency medicine", None, "sepsis", "septic", "septicaemia", "septicemia", "blood poisoning"),
    _c("infection", "general practice", "self_care", "infection", "infections", "infected", "abscess", "cellulitis",
       "chest|water|urine|kidney|wound|skin|bladder|ear ~1 infection",
       "wound|cut|bite|graze|incision|scar|stitches ~3 go|gone|went|turn|turned|be|look|looks ~1 red|hot|angry|"
       "swollen|infected",
       "pneumonia", persist=7),
    _c("pus", "general practice", "soon", "pus", "ooze", "oozing", "weeping pus"),
    # NHS cellulitis / Lyme disease: redness that spreads, a red line or a spreading ring, same day.
    _c("spreading_redness", "dermatology", "urgent", "redness|red|ring|rash ~3 spread|spreading|spreads|bigger",
       "spread|spreading ~2 red|redness|ring|rash",
       "red ~1 line|lines|streak|streaks", "bullseye|bull's eye ~1 rash?"),
    _c("foreign_body", "emergency medicine", "urgent", "stuck ~3 in ~1 my|his|her|the ~1 ear|nose|eye",
       "ear|nose ~4 stuck", "put|pushed|push|stuck ~3 in|up ~1 my|his|her ~1 ear|nose"),
    _c("skin_mottled", "emergency medicine", None, "mottle|mottled|mottling", "blotchy", "patchy ~2 and? ~1 pale",
       "skin ~4 patchy", "patchy ~1 skin",
       "skin ~4 blue|grey|gray|purple|mottled|blotchy|discoloured|discolored|bluey|bluish|blueish|greyish",
       "blue|grey|mottled ~2 skin"),
    _c("rigors", "general practice", "urgent", "shake|shaking|shiver|shivering ~2 uncontrollably|violently|badly",
       "uncontrollable|uncontrollably|violent|extreme ~1 shaking|shivering|shakes|shivers",
       "teeth ~2 chatter|chattering",
       "rigors"),
    _c("no_urine", "urology", "urgent", "@NOT ~2 pass|passed|passing ~2 urine|water|wee",
       "barely|hardly ~1 =peeing|=weeing|=pee|=wee|=peed|=weed|=urinating",
       "@NOT ~2 had|done ~1 a? wee|pee", "@NOT ~1 =wee|=weed|=pee|=peed|urinate|urinated",
       "no ~1 urine|wee|wees|pee|wet ~2 since|all|today|for", "@NOT ~3 wet ~1 nappy|nappies|diaper|diapers"),
    _c("impending_doom", "emergency medicine", None, "feel|felt|feeling ~3 like ~3 go|going|gonna ~1 to? die",
       "think|thought ~3 going|gonna ~1 to? die", "feel|feeling ~1 like ~1 dying",
       "=worse|=ill|=sick ~2 than ~2 i ~1 have ~1 ever ~1 felt", "never ~2 felt ~1 this|so ~1 ill|unwell|sick|bad"),
    # NICE CG151 / NHS: on chemotherapy, a temperature of 38 or a shiver is neutropenic sepsis until shown otherwise.
    _c("chemotherapy", "oncology", None, "chemo", "chemotherapy"),
    _c("fast_breathing", "pulmonology", "urgent", "breathing ~3 fast|quick|quickly|rapid|rapidly|deep|deeply",
       "rapid breathing", "breathe|breathes ~2 fast|quick|quickly|rapidly|deep|deeply"),
    # Diabetic ketoacidosis (NHS "Diabetic ketoacidosis": go to A&E with being sick, tummy pain, breath that smells
    # fruity like pear drops or nail varnish, deep or fast breathing, feeling very sleepy; high ketones).
    _c("diabetes", "endocrinology", None, "diabetic", "diabetes", "type 1|one ~1 diabetic?", "insulin"),
    _c("thirst_polyuria", "endocrinology", "soon",
       "drink|drinking ~2 gallons|loads|lots|constantly|nonstop|non-stop|litres", "thirsty ~3 all the time",
       "thirsty ~3 constantly", "so|really|very|always|constantly ~1 thirsty",
       "wee|weeing|pee|peeing ~2 loads|lots|constantly|nonstop|non-stop",
       "wee|weeing|pee|peeing ~2 all the time"),
    _c("ketones", "endocrinology", None, "ketone", "ketones", "ketoacidosis", "dka", "pear drops",
       "breath ~3 fruity|sweet|pear|acetone|varnish"),
    _c("drowsy", "neurology", None, "drowsy", "drowsiness", "sleepy"),
    # NICE NG143 (fever in under 5s), red: "does not wake or, if roused, does not stay awake"; NHS head injury: A&E.
    _c("cannot_stay_awake", "emergency medicine", None, "@NOT ~2 stay|keep ~1 awake",
       "keep|keeps ~1 fall|falling|drift|drifting|nod|nodding ~1 asleep|off", "hard|difficult ~1 to ~1 wake"),
    # Figures of speech that name an emergency ("that gave me a heart attack", "bleeding money"): they hide it.
    _c("figure_of_speech", "", None, "stroke of ~1 luck|genius", "choke|choking|choked back ~1 tears|sobs",
       "be? confused|confusing ~1 about|by ~3 when|what|how|which|tablets|medication|pills|letter|form|instructions",
       "a|my|the? fit note|notes|test|check", "fit for work", "fit and well",
       "a|the fit to fly|travel|work|drive|return", "keep ~1 fit", "nerve|nerves ~2 shot",
       "bleed|bleeding ~1 money|cash|dry",
       "give|gave|giving|given ~2 me ~1 a heart attack",
       "give|gave|giving|given ~2 me ~1 a ~1 stroke|coronary|fit", "heartbroken", "broken heart",
       "heart ~2 broken|broke|breaking|sank|sink", "heart attack|disease risk|risks|chance",
       "stroke risk|risks|chance", "heart attack|stroke ~1 prevention",
       "be sick of", "be? sick and tired", "be? sick to death",
       "nearly|almost ~1 faint|fainted|died|collapsed ~1 when ~1 i|we ~1 saw|heard|read|got|opened",
       "nearly|almost ~1 passed out ~1 when ~1 i|we ~1 saw|heard|read|got|opened",
       # "I nearly had a fit when…", "she almost had a heart attack": a reaction, not an event.
       "nearly|almost ~1 have|had|having ~1 a ~1 fit|stroke|seizure|breakdown",
       "nearly|almost ~1 have ~1 a heart attack",
       "about|practically ~1 =had ~1 a ~1 heart attack|stroke|fit|coronary ~1 when",
       # Tired, not weak ("dead on my feet"); hay fever, not an airway ("choking on all this pollen").
       "dead on ~1 my|his|her|our|your ~1 feet", "choke|choking ~1 on ~3 pollen|hayfever",
       # Work and bills, not food or air: "choking on paperwork", "drowning in emails".
       "choke|choking|drown|drowning|suffocate|suffocating ~1 on|in|under ~2 @BUSYWORK",
       "@HEAD ~3 explode|exploding|exploded|spin|spinning|swim|swimming|burst|bursting ~1 with|from ~3 @BUSYWORK",
       # A thing is confusing; a person is confused: "the instructions are confusing", "it's getting confusing".
       "=confusing",
       # Legs "dead" after a marathon: tired, not weak.
       "@LIMB ~3 dead|jelly ~2 after|from ~2 @EXERTION",
       "like|think ~2 =been ~1 hit ~1 by ~1 a ~1 bus|truck|lorry|train",
       "like ~2 hit ~1 by ~1 a ~1 bus|truck|lorry|train",
       "knock|knocked|knocking ~1 me|him|her|them ~1 out|sideways|flat|for ~1 six", "=knocked ~1 for ~1 six",
       # A condition's name before a service or a medicine is no event: "my seizure medication", "the stroke
       # clinic", "a bleeding disorder".
       "seizure|seizures|fit|fits|stroke|epilepsy|anaphylaxis|allergy|heart|suicide|bleeding|blood ~1 "
       "medication|medicine|medicines|meds|tablets|pills|drugs|nurse|clinic|team|plan|review|diary|alarm|monitor|"
       "disorder|disorders|prevention|helpline|kit|pen|bracelet|thinner|thinners"),
    # NICE NG97: memory complaints over months are not the sudden confusion (delirium) of the 999 list.
    _c("memory_problem", "neurology", "soon", "forget|forgetting|forgetful|forgot ~3 thing|things|names|words",
       "forgetful", "keep|keeps ~1 forget|forgetting",
       "memory ~3 bad|poor|worse|going|problem|problems", "memory loss", "foggy", "brain fog"),
    _c("deep_cut", "emergency medicine", "urgent", "deep|gaping ~2 cut|wound|gash", "cut|wound|gash ~6 deep|gaping",
       "stood|stepped|trod|stand|step ~3 on ~2 nail|glass|needle", "rusty", "puncture", "punctured",
       "need|needs ~1 stitches"),  # NHS: a deep or gaping cut needs an urgent treatment centre
    _c("testicular_pain", "urology", "urgent", "testicle|testicles|testis|ball|balls|scrotum ~3 @PAIN|swollen|swelling",
       "@PAIN ~3 testicle|testicles|scrotum"),  # NHS: sudden testicle pain, A&E the same day
    # Same-day care without a red flag (NHS 111 "get help today").
    _c("calf_swelling", "cardiology", "urgent", "calf ~4 swell|swollen|hot|red|painful|@PAIN",
       "swollen|hot|red ~2 calf"),
    _c("swollen_legs", "cardiology", "soon", "leg|legs|thigh|thighs|ankle|ankles|foot|feet ~3 swell|swollen|puffy",
       "swollen ~1 leg|legs|ankle|ankles|feet"),
    _c("reduced_fetal_movement", "obstetrics", "urgent", "baby ~3 @NOT ~1 move|moved|moving|kick|kicked",
       "baby ~3 move|moved|moving ~2 =less"),
    _c("eye_injury", "ophthalmology", "urgent", "bleach|chemical|chemicals|acid|splash|splashed ~4 eye|eyes",
       "something|grit|metal|dust|splinter|glass ~2 in ~1 my|his|her|the ~1 eye",
       "scratch|scratched|poke|poked|hit|cut ~3 eye|eyeball", "eye|eyeball ~3 scratch|scratched|poked"),
    _c("swallowed_object", "emergency medicine", "urgent",  # NHS: a swallowed button battery or magnet, A&E now
       "swallow|swallowed|ate|eaten ~3 battery|batteries|magnet|magnets|coin|bleach|poison|detergent|capsule"),
    _c("head_injury", "emergency medicine", "self_care",
       "hit|bang|banged|bump|bumped|knock|knocked ~3 my|his|her ~1 head",
       "bang|knock|bump|blow ~2 on|to ~1 the|my|his|her ~1 head",
       "knock|knocked ~1 out", "head injury", "fall|fell|land|landed|landing ~3 on|onto ~1 my|his|her ~1 head",
       "fall|fell|fallen ~6 on|onto ~1 my|his|her|their|the ~1 head"),
    _c("kidney_infection", "urology", "urgent", "kidney infection", "pyelonephritis"),
    _c("broken_leg", "orthopedics", None, "leg|legs|thigh|shin ~3 bent|snapped|deformed ~2 wrong|funny|odd|weird? "
       "~1 way|angle?", "leg|legs|thigh ~3 broken|broke|snapped", "broke|broken|snapped ~2 my|his|her ~1 leg|thigh"),
    _c("fracture", "orthopedics", "urgent", "broken|break|fracture|fractured", "dislocate|dislocated|dislocation",
       "@NOT ~2 move|bend|straighten ~1 it", "@LIMB|@JOINT ~3 bent|deformed|crooked|misshapen",
       "funny|weird|odd|strange|wrong|awkward ~1 angle",
       "all|completely ~1 deformed|misshapen", "all|completely ~1 out of shape",
       # NHS: a possible broken bone if you cannot put weight on it
       "@NOT ~2 put|bear|take ~2 weight", "barely|hardly ~1 put|bear|take ~2 weight"),
    # Injuries for 999 (redflags.py): a bone through the skin, or a limb cold or pale below a break (NHS broken arm
    # or leg); a deep burn (NHS burns: white, charred or leathery skin).
    _c("open_fracture", "orthopedics", None, "bone ~3 stick|sticking|poke|poking|come|coming ~1 out|through"),
    _c("limb_cold", "orthopedics", None, "finger|fingers|toe|toes|hand|foot|feet ~3 cold|white|blue|grey|pale"),
    _c("burn_severe", "dermatology", None, "skin ~3 white|charred|black|leathery|waxy"),
    # A burn names its cause or the skin (a blister from new shoes is no burn).
    _c("burn", "dermatology", "urgent", "burn|burnt|burned|scald|scalded ~3 @LIMB|myself|skin|finger|wrist",
       "hot|boiling|oil|kettle|iron|oven|steam ~4 blister|blistered|blistering",
       "blister|blistered|blistering ~4 burn|burnt|scald|scalded",
       "hot|boiling ~1 water|tea|coffee|oil|fat ~2 on|over ~3 @LIMB|face|skin|chest|leg|legs|myself|himself|herself",
       "oil|fat|kettle|steam|iron ~2 on|over ~3 @LIMB|face|skin|chest|leg|legs|myself|himself|herself"),
    _c("dental_swelling", "dentistry", "urgent",
       "tooth|teeth|toothache|jaw|cheek|cheeks ~4 swell|swelling|swollen|abscess",
       "jaw|cheek and ~1 jaw|cheek|face ~3 swell|swelling|swollen",
       "dental abscess"),
    # Sore, swollen gums (round a wisdom tooth: pericoronitis) are the dentist's within days (NHS).
    _c("gum_problem", "dentistry", "soon", "gum|gums ~4 swell|swollen|swelling|sore|puffy|bleed|bleeding|@PAIN",
       "swell|swollen|swelling|sore|puffy ~2 gum|gums",
       "wisdom ~1 tooth|teeth"),
    _c("toothache", "dentistry", "soon", "toothache", "tooth ~3 @PAIN"),
    # An adult's "not drinking enough water" is a cause of a headache, not a child who will not drink (HIDES).
    _c("not_enough", "", None, "@NOT ~1 =drinking|=eating ~2 enough"),
    _c("poor_intake", "paediatrics", "urgent", "@NOT ~1 =drinking|=feeding|=eating",
       "@NOT ~3 wet ~1 nappy|nappies|diaper|diapers", "@NOT ~2 keep ~2 down",
       "@NOT ~1 wet ~1 nappy|nappies", "only ~3 one|two|1|2 ~1 wet ~1 nappy|nappies"),
    _c("urinary_burning", "urology", "soon", "burn|burning|sting|stinging|hurt ~3 @URINE", "@PAIN ~3 @URINE",
       "cystitis",
       "water infection", "urine infection", "uti", "@URINE infection", "painful urination",
       "keep ~2 need ~2 go"),
    _c("flank_pain", "urology", None, "side ~4 rib|ribs|kidney",
       "back ~1 near|by|around|round|over|under|below|above|at|where ~2 rib|ribs|kidney|kidneys",
       "@PAIN ~4 kidney|kidneys|loin|rib|ribs",
       "@PAIN ~3 in ~1 my|the|her|his ~1 side", "side ~2 @PAIN"),
    # NHS prostate enlargement: a weak flow, getting up at night to wee (see a GP).
    _c("weak_flow", "urology", "soon", "weak|poor|slow ~1 flow|stream", "flow|stream ~3 weak|poor|slow",
       "get|getting|got ~1 up ~4 to ~1 @URINE"),
    _c("frequent_urination", "endocrinology", "soon", "@URINE ~2 a lot", "@URINE ~2 all the time",
       "need|needing ~2 @URINE", "@URINE ~3 at night",
       "@URINE ~2 frequently|often"),
    _c("thirst", "endocrinology", "soon", "very|always|really ~1 thirsty", "excessive thirst"),
    _c("high_blood_sugar", "endocrinology", "soon", "sugar|sugars|glucose ~3 high|up", "hyperglycaemia",
       # A meter shows "HI" above its range (about 33 mmol/l).
       "meter|monitor|machine|reading|readings ~3 say|says|said|show|shows|showing|read|reads ~1 hi|high"),
    # Diabetes UK / NHS hyperglycaemia: a reading over 15 mmol/l that stays up needs ketones checked and help today.
    _c("very_high_sugar", "endocrinology", "urgent", "sugar|sugars|glucose|reading|readings ~4 over|above|at|of "
       "~1 15|16|17|18|19|20|21|22|23|24|25|26|27|28|29|30|fifteen|twenty|thirty"),
    _c("high_blood_pressure", "cardiology", "soon", "blood pressure ~4 high|up|check|checked",
       "blood pressure ~4 =reading|=readings"),  # the lemma table makes "reading" read
    _c("back_pain", "orthopedics", "soon", "back ~3 @PAIN|stiff|kill|killing|pull|pulled|twinge", "backache",
       "bad ~1 back",
       "@PAIN ~3 back", "pull|pulled ~3 back", "sciatica", "lumbago"),
    _c("joint_pain", "orthopedics", "self_care",
       "knee|knees|ankle|wrist|elbow|shoulder|hip|hips|finger|fingers|heel|heels|foot|feet|thumb|hand|hands|"
       "neck|leg|legs|"
       "toe|joint|joints|arm|arms|muscle|muscles ~3 @PAIN|stiff|swell|swollen|swelling|ache",
       "twist|twisted|sprain|sprained ~2 ankle|knee|wrist",
       "@PAIN ~3 in ~1 my|his|her|the ~1 @JOINT", persist=7),
    # NHS: a hot, swollen joint with a temperature may be an infected joint, same day.
    _c("hot_swollen_joint", "orthopedics", "soon", "hot|red|swollen ~3 @JOINT", "@JOINT ~3 hot|red"),
    # NHS "Shingles": a painful blistering rash on one side, see a GP; near the eye, the same day (levels.py).
    _c("shingles", "dermatology", "soon", "shingles", "blister|blisters|blistering|blistered|blistery ~2 rash",
       "band ~2 of ~2 blisters|blistering|rash"),
    _c("rash", "dermatology", "soon", "rash", "rashes", "hives", "patch", "patches", "eczema", "psoriasis",
       "scaly"),
    _c("skin_minor", "dermatology", "self_care", "spot", "spots", "pimple", "acne", "dry ~2 skin", "blister",
       "graze", "grazed", "scrape", "scraped",
       "skin ~3 dry|itchy", "itchy", "itch", "verruca", "wart", persist=14),
    _c("runny_nose", "ENT", "self_care", "runny nose", "nose ~3 run|running", "blocked nose", "stuffy",
       "@NOT ~1 breathe ~1 through ~2 nose|nostril|nostrils",
       "sniffle", "sniffles", "sniffly", "sneeze", "sneezing", "congest", "congested", "congestion",
       "a|the|this|my|stinking|bad|heavy ~1 =cold", "flu", "hay fever", persist=14),
    _c("sore_throat", "ENT", "self_care", "throat ~3 @SORE", "sore throat", "@SORE ~1 to swallow", persist=7),
    # NHS "Quinsy" (peritonsillar abscess): one side swelling and pushing the tonsil or uvula over, same day.
    _c("quinsy", "ENT", "urgent", "quinsy", "push|pushing|pushed ~3 tonsil|tonsils|uvula",
       "peritonsillar"),
    _c("tonsillitis", "ENT", "soon", "tonsil", "tonsils", "tonsillitis", "white spots", "strep"),
    _c("swollen_glands", "ENT", "self_care", "gland|glands ~3 up|swollen|swell|swelling|big|lumpy", persist=14),
    _c("eyelid_droop", "ophthalmology", "soon", "eyelid|eyelids ~3 droop|droopy|drooping|drop|dropped"),
    # "choking on my food when I swallow" over weeks is a swallowing problem, not choking now.
    _c("dysphagia", "gastroenterology", "soon", "choke|choking ~4 when ~2 swallow|eat|eating|drink|drinking",
       "food ~3 stick|sticking|stuck", "trouble|difficulty|problems ~2 swallowing"),
    _c("ear_pain", "ENT", "self_care", "earache", "ear ache", "ear ~3 @PAIN|pull|pulling", "pull|pulling ~2 ear",
       "ear ~3 blocked|block", persist=3),
    _c("eye_pain", "ophthalmology", "soon", "eye|eyes ~3 painful|pain|agony|hurt|hurts|hurting|throb|throbbing",
       "eye|eyes ~3 red|sore and ~1 painful|hurting|hurts|throbbing",
       "pain ~3 in ~1 my|his|her|the ~1 eye|eyes"),
    _c("tinnitus", "ENT", "self_care", "tinnitus", "ear|ears ~3 ring|ringing|buzz|buzzing|whistling",
       "ringing|buzzing ~3 in ~1 my? ear|ears", persist=14),
    _c("bite", "emergency medicine", "urgent",  # NHS: an animal or human bite that breaks the skin, same day
       "bit|bitten|bite ~3 by? ~1 a|the|my|our? dog|cat|animal|fox|rat|person", "dog|cat|animal ~1 bite|bit|bitten"),
    _c("accidental_overdose", "emergency medicine", "urgent", "double ~1 dose|doses|dosed",
       # NHS: a child who swallowed someone's medicine, 111 now even if they seem well.
       "@KIN ~3 =swallowed|=ate|=eaten|=took|=taken ~5 tablets|tablet|pills|pill|medicine|medicines|vitamins",
       "@KIN ~3 got into ~5 tablets|tablet|pills|pill|medicine|medicines|vitamins",
       "@KIN ~3 =swallowed|=ate|=eaten|=took|=taken ~5 heart|sleeping|pain|blood|water ~1 tablets|tablet|pills|pill",
       "take|took|taken|given|gave ~5 by ~1 mistake|accident", "take|took|taken ~3 two|extra ~1 doses|dose"),
    _c("croup", "paediatrics", "urgent", "croup", "barking|barky ~1 cough"),  # NHS croup: see a GP or 111 today
    _c("chemotherapy", "oncology", None, "chemo", "chemotherapy", "immunotherapy", "immunosuppressed"),
    _c("recent_travel", "general practice", None, "just? ~1 come|came|got|been ~2 back ~1 from", "abroad",
       "travel|travelled|traveled ~3 to|from"),
    _c("wound_infection", "general practice", "urgent",
       "wound|scar|incision|stitches|cut ~4 red|hot|swollen|oozing|infected|pus",
       # NHS wound infection: hot, red, swollen or smelly (", red and smelly" after "sore").
       "wound|scar|incision|stitches ~6 sore|painful|red ,? red|hot|swollen|smelly|smell|smells|stink|stinks",
       "wound|scar|incision|stitches ~6 smelly|smell|smells|stink|stinks"),
    _c("young_infant", "paediatrics", None,
       "dd|one|two|three|four|five|six|seven|eight|ten|twelve ~1 week|weeks|day|days old",
       "newborn", "new born"),
    _c("eye_irritation", "ophthalmology", "self_care", "eye|eyes ~3 itchy|watery|red|gunky|sticky|sore|crusty",
       "conjunctivitis", "pink eye", persist=3),
    _c("blurred_vision", "ophthalmology", "urgent", "blurred|blurry ~1 vision", "vision ~2 blurred|blurry",
       "vision|eyes|eye ~3 funny|strange|weird", "vision ~5 blurred|blurry|misty|hazy",
       "vision|sight ~3 go|gone|went|going ~1 blurry|blurred|hazy|cloudy|misty|fuzzy"),
    _c("double_vision", "ophthalmology", "urgent", "double vision", "see|seeing ~1 double",
       "vision|eyes|eye ~3 double"),
    _c("diarrhoea", "gastroenterology", "self_care", "diarrhoea", "diarrhea", "the runs", "loose ~1 stool|stools",
       "upset stomach", "dodgy ~1 tummy|stomach", persist=3),
    # A stomach bug explains its vomiting (NHS "Diarrhoea and vomiting": self-care, see a GP after two days or with
    # signs of dehydration: SAME_DAY_COMBOS still apply).
    _c("tummy_bug", "gastroenterology", "self_care", "tummy bug", "stomach bug", "food poisoning", "norovirus",
       "sickness bug", "dodgy ~1 takeaway|curry|kebab|food|meal|burger|chicken", persist=3),
    # NHS bowel cancer: a change in bowel habit (looser, more often) for three weeks or more, see a GP.
    _c("bowel_change", "gastroenterology", "soon", "bowel|bowels ~2 habit|habits ~3 change|changed|changing",
       "change|changed ~3 bowel|bowels ~1 habit|habits", "bowel|bowels ~3 looser|runnier",
       "going|been ~1 looser|runnier"),
    _c("constipation", "gastroenterology", "self_care", "constipated", "constipation", "not|never ~2 poo", persist=7),
    _c("indigestion", "gastroenterology", "self_care", "heartburn", "heart burn", "indigestion", "reflux",
       "acid", "bloat", "bloated", "bloating", "=wind", "=windy", "burn|burns ~3 behind ~2 breastbone", persist=21),
    # NHS: a mouth ulcer that lasts over three weeks, see a GP or dentist.
    _c("mouth_ulcer", "dentistry", "self_care", "mouth ~1 ulcer|ulcers", "ulcer|ulcers ~6 mouth|tongue|gum|gums|lip",
       persist=21),
    _c("eating_disorder", "psychiatry", "soon", "eating disorder", "anorexia", "anorexic", "bulimia", "bulimic"),
    _c("poor_appetite", "general practice", "soon", "@NOT ~1 =eating|=eat ~1 much|properly|well", "off ~2 food",
       "off ~1 my|her|his ~1 food",
       "@NOT ~2 eat|eating", "lost ~1 my? appetite", "no appetite"),
    _c("fatigue", "general practice", "self_care", "tired", "tiredness", "fatigue", "fatigued", "exhausted",
       "exhaustion", "no energy", "run down", "worn out", "lethargic", persist=14),
    # NHS "Insomnia": self-care first; a GP if it lasts or comes with low mood or anxiety (their own level).
    _c("insomnia", "psychiatry", "self_care", "insomnia", "@NOT ~1 sleep", "@NOT ~2 get to sleep",
       "keep|keeps|keeping ~2 me ~1 up|awake",
       "lie|lying ~1 awake", "trouble sleeping", persist=14),
    _c("anxiety", "psychiatry", "soon", "anxious", "anxiety", "panic", "panicky", "panic attack",
       "worried all the time", "on edge", "nervous wreck"),
    _c("stress", "psychiatry", "self_care", "stress", "stressed", "stressful", "under pressure"),
    _c("low_mood", "psychiatry", "soon", "depressed", "depression", "hopeless", "low mood", "feel|feeling ~2 low",
       "mood ~3 low|down|bad|terrible|awful|rubbish|flat",
       "feel|feeling ~2 down", "feel|feeling|felt ~2 sad", "get|getting|gets ~1 me ~1 down", "cry|crying ~1 a lot",
       "tearful", "crying all the time",
       "grief", "grieving", "bereave", "bereaved",
       "@NOT ~1 cope", "struggle|struggling ~2 grief|cope|coping"),
    _c("refill", "general practice", "soon", "repeat prescription", "repeat", "refill", "prescription",
       "need|want|get|order ~1 more? ~1 of? my|his|her ~2 tablets|pills|medication|medicine|meds|thinners|inhaler|"
       "inhalers|cream|patches",
       "renew|renewed|renewing|renewal", "run|running|ran ~1 low", "more of my", "nearly gone|finished",
       "order ~2 usual", "script", "request|order ~2 my|his|her",
       "need|want|get|order ~2 more ~2 insulin|pens|needles|strips|lancets|supplies"),
    # What needs a clinician within days (NHS: "contact your GP surgery"): a referral, a test or a check asked for, a
    # question about a medicine, a form or letter a doctor must sign, someone to talk to. Asked as a question ("should
    # my son be tested?") it is still a request (ASKED_FOR). Clerical errands (a jab, a registration, a record
    # updated, a check-up, a fit note) stay self-care, as the first sets label them.
    _c("admin", "general practice", "soon",
       "medical ~1 form|report|letter", "letter ~2 for|from|saying|about",
       "fill|filled|filling ~1 in|out ~3 form|forms", "form ~2 signed|filled|filling", "sign|signed ~3 form",
       "care|insurance|claim|benefits ~1 form|forms", "insurance", "blue badge",
       "carer|carer's ~1 assessment", "refer|referral|referred",
       "should|can|could ~4 be|get ~1 tested|checked|screened", "get|getting ~2 tested",
       "hearing|eye ~1 test", "talk|speak ~2 to ~2 someone|somebody|anyone|doctor|nurse",
       "who ~2 can|could|should ~2 talk|speak", "allowed|safe|okay|ok ~1 to ~1 take",
       "should ~1 i ~2 keep|stop ~1 taking|them|it", "side effect|effects",
       "since ~2 started ~3 new ~1 tablets|medication|medicine|pills", "ring|ringing|calling|phoning ~1 about",
       "dietitian|dietician|physio|physiotherapist|counsellor|counselling", "=recheck|=retest", "re check|test",
       "result|results ~2 of ~2 my|the|his|her ~1 scan|test|tests|bloods|x|xray|biopsy"),
    _c("out_of_critical_med", "general practice", "urgent", "run|ran ~1 out ~3 @CRITICAL_MED",
       "stop|stopped|stopping ~3 my|his|her ~1 @CRITICAL_MED",
       "none left ~3 @CRITICAL_MED", "@CRITICAL_MED ~5 none left", "@CRITICAL_MED ~5 run|ran out"),
    _c("emergency_contraception", "sexual health", "urgent", "morning after ~1 pill", "morning-after ~1 pill",
       "emergency ~1 contraception|contraceptive|pill"),
    _c("lump", "general practice", "soon", "lump", "lumps", "lumpy"),
    # NHS sleep apnoea (see a GP): "stops breathing in his sleep" is a night-time pattern, not a collapse now.
    _c("sleep_apnoea", "pulmonology", "soon", "snore|snores|snoring ~6 stop|stops|stopping ~1 breathing",
       "sleep|night and ~1 then? ~1 gasp|gasps|gasping|snort|snorts|snorting|choke|chokes",
       "sleep|night , ~1 then ~1 gasp|gasps|gasping|snort|snorts|snorting|choke|chokes",
       "stop|stops|stopping ~1 breathing ~7 in|during ~1 my|his|her|the ~1 "
       "sleep|night", "sleep apnoea|apnea"),
    _c("weight_loss", "general practice", "soon", "=lost ~3 weight", "unexplained weight loss",
       "losing ~2 weight ~3 without|unexplained", "losing ~2 weight ~3 @NOT ~1 trying",
       "weight ~3 drop|dropping|dropped|fall|falling|fell ~1 off"),  # NHS: unexplained weight loss, see a GP
    _c("mole_change", "dermatology", "soon",  # NHS skin cancer: a mole that changes shape, colour or size
       "change|changed|changing ~1 shape|colour|color|size", "got|gone|getting|grown ~1 darker",
       "mole|moles|freckle ~4 change|changed|changing|bigger|darker|grow|growing|grown|bleed|bleeding|itchy|itch"),
    _c("pregnant", "obstetrics", None, "pregnant", "pregnancy", "expecting ~1 a baby"),
    # "It might be in my tube": a pregnancy outside the womb (with faintness a red flag, redflags.py).
    _c("ectopic", "obstetrics", "urgent", "ectopic", "in ~1 my|her|the ~1 tube|tubes",
       # NHS ectopic pregnancy: pain in the tip of the shoulder.
       "tip ~2 of ~1 my|her|the ~1 shoulder", "shoulder ~1 tip"),
    _c("bedwetting", "paediatrics", "soon", "wet|wetting ~1 the? bed", "bedwetting", "bed wetting"),
    _c("genital", "sexual health", "soon", "discharge", "down below ~3 itch|itchy|itching|sore|burn|burning",
       "itch|itchy|itching|sore ~2 down below", "vaginal", "penile", "@PAIN ~3 during|after ~1 sex",
       "erection|erections", "thrush"),
    _c("menopause", "gynaecology", "soon", "hot flush|flushes|flashes", "night sweats", "menopause", "menopausal"),
    _c("lifestyle_help", "general practice", "soon", "drink|drinking ~2 too much", "alcohol problem",
       "stop|quit|quitting ~1 smoking|drinking|vaping", "give up ~1 smoking|drinking", "addiction", "addicted",
       "lose|losing ~1 weight ~2 help|tried|try|trying|want|diet", "help ~2 lose|losing ~1 weight",
       "want ~2 lose ~1 weight"),
    # Asthma UK / NHS asthma action plan: a peak flow down to 50-75 % of best is a moderate attack, same day.
    _c("low_peak_flow", "pulmonology", "urgent",
       "peak flow ~4 down|low|lower|dropped|drop|fallen|half|50|60|70|fifty|sixty|seventy"),
    _c("asthma", "pulmonology", "soon", "asthma", "asthmatic", "blue inhaler|reliever ~4 more"),
    _c("hearing_loss", "ENT", "soon", "hearing ~3 worse|loss|go|going|gone|bad|poor|muffled", "deaf", "deafness",
       "@NOT ~2 hear ~1 properly|well|anything", "@NOT ~2 hear ~2 out of|from|in ~1 my|one|his|her"),
    _c("periods", "gynaecology", "soon", "period|periods ~4 heavy|painful|irregular|late|missed|stopped",
       "@NOT ~2 had ~1 a|her|my? period|periods",
       "missed ~1 my? period"),
    _c("appointment", "general practice", "soon", "smear test", "smear", "cervical screening", "review",
       "want|like|need ~2 to ~1 mention|discuss", "want|like|need ~2 to ~1 talk about",
       "follow up", "follow-up", "=screened|=screening",  # not "screen": "staring at my screen"
       "test|blood|scan|my ~1 result|results", "come|coming ~1 off ~2 antidepressants|tablets|medication|meds|pills",
       "due ~1 a|my ~2 scan|test|review|check",
       "tablets|medication|meds|pills ~3 check|checked|review",
       "tablets|medication|meds|pills|antidepressant|antidepressants ~3 @NOT ~1 work|working|help|helping",
       "check|checkup ~1 on ~1 my ~2 tablets|medication", "get|have|having|want|need|like ~4 =checked"),
)

# A mention inside a longer one of these concepts is not itself meant ("hay fever" is no fever).
HIDES: dict[str, frozenset[str]] = {
    "runny_nose": frozenset({"fever", "cannot_breathe"}),  # "can't breathe through my nose"
    "eyelid_droop": frozenset({"facial_droop"}),
    "dysphagia": frozenset({"cannot_breathe"}),
    "not_enough": frozenset({"poor_intake"}),
    "indigestion": frozenset({"chest_pain", "burn"}),
    "heavy_bleeding": frozenset({"bleeding"}),
    "vomiting_blood": frozenset({"bleeding"}),
    "dizziness": frozenset({"fainting"}),  # "I feel faint" has not fainted
    "blurred_vision": frozenset({"vision_loss"}),  # "my vision's gone blurry" has not gone
    "figure_of_speech": frozenset({"seizure", "heart_attack", "stroke", "cannot_breathe", "confusion", "bleeding",
                                   "penetrating_injury",
                                   "blood", "heavy_bleeding", "vomiting", "fatigue", "fainting", "fracture",
                                   "chest_pain", "thunderclap", "headache", "dizziness", "limb_weakness",
                                   "major_trauma", "trauma", "head_injury"}),
    "positional_numbness": frozenset({"numbness"}),
    "poor_appetite": frozenset({"poor_intake"}),  # "isn't eating much" is appetite, not a child refusing drinks
    "suicidal": frozenset({"unresponsive"}),  # "better off not waking up"
    "sleep_apnoea": frozenset({"cannot_breathe"}),
    "quinsy": frozenset({"cannot_breathe"}),
    "gum_problem": frozenset({"airway_swelling", "dental_swelling"}),  # gums round a wisdom tooth: the dentist
}
