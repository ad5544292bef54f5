"""ConText cues in a patient's own words: what makes a mention negated, hypothetical, historical, someone else's or
happening now. Patterns use the notation of edge/voice/vocab.py (word classes such as @SEASON and @KIN come from
there); edge/voice/nlp.py compiles them into medspaCy ConTextRules, each with the clause words that end its reach.
"""
from __future__ import annotations

# ConText cues in a patient's own words, as (literal, category, direction, max_scope). medspaCy's bundled rules are
# written for clinicians' notes ("presentation", "h/o", "because" as hypothetical) and miss first-person speech, so
# the pipeline uses these instead. Categories: NEGATED_EXISTENCE, HYPOTHETICAL, HISTORICAL (also resolved and
# family-history cues; PAST_EVENT counts the same), FAMILY (someone else: not itself a reason to drop a red flag —
# a carer may be reporting an emergency now), HABITUAL, ACUTE (now: outweighs HISTORICAL), PSEUDO (looks like a cue
# but is not).
Cue = tuple  # (literal, category, direction, max_scope[, the only concepts it modifies])
# Named conditions, not symptoms: "worried about a heart attack" is a worry; "worried about a pain in my chest" is not.
DIAGNOSES = frozenset({"heart_attack", "stroke", "sepsis", "seizure", "suicidal", "internal_bleeding"})
NEG = "NEGATED_EXISTENCE"
CONTEXT_CUES: tuple[Cue, ...] = (
    # Negation (NegEx-style, Chapman et al. 2001; scope about six words).
    ("no|not|never|without|nothing|none|nor|neither|deny|denies|denied", NEG, "FORWARD", 12),
    ("free of", NEG, "FORWARD", 6), ("=free", NEG, "BACKWARD", 2),  # "seizure-free for ten years"
    ("neither|nor|no|not ~1 my|his|her|your|their", NEG, "FORWARD", 6), ("no sign of", NEG, "FORWARD", 6),
    ("rule|ruled out", NEG, "BACKWARD", 5),
    ("not sure|certain", "PSEUDO", "FORWARD", None), ("not only|just", "PSEUDO", "FORWARD", None),
    ("no doubt", "PSEUDO", "FORWARD", None), ("not that bad", "PSEUDO", "FORWARD", None),
    ("not ~1 feel|feeling ~1 right|well|good|great|myself", "PSEUDO", "FORWARD", None),
    ("not know", "PSEUDO", "FORWARD", None), ("never ~2 been|felt|had ~2 this|so|that", "PSEUDO", "FORWARD", None),
    # "won't stop", "not stopping": not a negation, and said of something happening now.
    ("not ~1 stop|stopping", "ACUTE", "BIDIRECTIONAL", None),
    # "won't ease off", "isn't getting any better": still going on.
    ("not ~1 ease|easing|settle|settling|budge|budging|shift|shifting", "ACUTE", "BIDIRECTIONAL", None),
    ("not ~1 get|getting ~2 better", "ACUTE", "BIDIRECTIONAL", None),
    ("for|over ~1 a|one|two|three|four|five|ten|fifteen|twenty|thirty|forty|few|couple|dd ~1 of? "
     "minute|minutes|hour|hours",
     "ACUTE", "BIDIRECTIONAL", None), ("never ~2 had ~3 like", "PSEUDO", "FORWARD", None),
    # "fitting for more than five minutes now" (NHS: a fit over 5 minutes is a 999 call): going on now.
    ("more|longer than ~1 two|three|four|five|5|ten|10 ~1 minute|minutes|min|mins", "ACUTE", "BIDIRECTIONAL", None),
    # Hypothetical: questions and conditions.
    ("if", "HYPOTHETICAL", "FORWARD", 10), ("in case", "HYPOTHETICAL", "FORWARD", 10),
    ("what should|do|would|can i ~1 do", "HYPOTHETICAL", "FORWARD", 12),
    ("how would|do|can|will i ~1 know|tell", "HYPOTHETICAL", "FORWARD", 12),
    ("would|will|could i ~1 know|tell ~1 if", "HYPOTHETICAL", "FORWARD", 12),  # longer than the "know if" pseudo
    ("sign|signs|symptom|symptoms ~1 of", "HYPOTHETICAL", "FORWARD", 6),
    ("what are the ~1 sign|signs|symptom|symptoms", "HYPOTHETICAL", "FORWARD", 12),
    ("what do|does|would|could ~1 that|it|this ~1 mean", "HYPOTHETICAL", "BACKWARD", 12),
    ("what would", "HYPOTHETICAL", "FORWARD", 8),
    ("risk|risks", "HYPOTHETICAL", "FORWARD", 6), ("prevent|avoid", "HYPOTHETICAL", "FORWARD", 6),
    ("worried|scared|afraid|frightened ~2 i ~1 might|could|may", "HYPOTHETICAL", "FORWARD", 8),
    ("worried|scared|afraid|frightened about|of ~1 getting|having", "HYPOTHETICAL", "FORWARD", 8),
    ("worried|worry|concerned|scared|afraid|frightened ~1 about|of ~1 a|an|having|getting", "HYPOTHETICAL",
     "FORWARD", 6,
     DIAGNOSES),
    ("worry|worried|worrying|concerned|scared|afraid|frightened|anxious about|of", "HYPOTHETICAL", "FORWARD", 4,
     DIAGNOSES),  # "I worry about brain bleeds"
    # A diagnosis someone mentioned or warned of ("the nurse mentioned sepsis") is a topic, not a finding.
    ("mention|mentioned|mentions|warn|warned ~2 about|of?", "HYPOTHETICAL", "FORWARD", 6, DIAGNOSES),
    # A threshold asked about: "what ketone reading should make me go to hospital?"
    ("should|would|must|will ~1 make ~1 me|you|him|her|us ~1 go|call|ring|come|phone|worry", "HYPOTHETICAL",
     "BACKWARD", 10),
    ("read about", "HYPOTHETICAL", "FORWARD", 8), ("heard|hear|told ~1 me? about|of", "HYPOTHETICAL", "FORWARD", 8),
    ("tell me about|what", "HYPOTHETICAL", "FORWARD", 10),
    ("how do|can|should i", "HYPOTHETICAL", "FORWARD", 10), ("when do|should i", "HYPOTHETICAL", "FORWARD", 10),
    ("is that|it|this ~1 an? emergency|serious", "HYPOTHETICAL", "BACKWARD", 12),
    # "my friend said coffee-ground sick is serious, is it true?"
    ("is that|it ~1 true", "HYPOTHETICAL", "BACKWARD", 12),
    # "is it normal to get…" asks in general; "is it normal that I'm coughing up blood?" reports a symptom.
    ("is it normal to", "HYPOTHETICAL", "FORWARD", 12), ("is it normal to be", "PSEUDO", "FORWARD", None),
    ("should i worry|ring|call", "HYPOTHETICAL", "BIDIRECTIONAL", 10),
    ("should i come in", "HYPOTHETICAL", "BIDIRECTIONAL", 10),
    ("what is|'s the best way", "HYPOTHETICAL", "FORWARD", 10), ("can i still", "HYPOTHETICAL", "FORWARD", 8),
    ("what should i say", "HYPOTHETICAL", "FORWARD", 12),
    ("would|does|could that|it|this mean", "HYPOTHETICAL", "BIDIRECTIONAL", 10),
    ("what to do", "HYPOTHETICAL", "FORWARD", 10),
    # "how bad does tummy pain have to be before…": a threshold asked about, not a pain had.
    ("how bad|serious|severe do|does|would|should|must|has|have", "HYPOTHETICAL", "FORWARD", 12),
    ("have|has|need|needs to be ~2 before", "HYPOTHETICAL", "BACKWARD", 12),
    ("first aid", "HYPOTHETICAL", "BIDIRECTIONAL", 10),
    ("learn|learning ~1 about|how", "HYPOTHETICAL", "FORWARD", 10),
    ("what happens", "HYPOTHETICAL", "FORWARD", 10), ("what if", "HYPOTHETICAL", "FORWARD", 10),
    ("=say|suppose|supposing|imagine i|he|she|someone", "HYPOTHETICAL", "FORWARD", 10),
    ("would|will i ~1 need", "HYPOTHETICAL", "BIDIRECTIONAL", 10), ("in the future", "HYPOTHETICAL", "BIDIRECTIONAL",
    10),
    ("if i be|am honest", "PSEUDO", "FORWARD", None), ("if that make|makes sense", "PSEUDO", "FORWARD", None),
    ("know|sure|wonder|wondering|see|check|ask ~1 if", "PSEUDO", "FORWARD", None),
    ("even if", "PSEUDO", "FORWARD", None), ("as if", "PSEUDO", "FORWARD", None),
    # Historical: past time, resolved, family history.
    ("last @SEASON", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("a|one|two|three|four|five|six|seven|eight|nine|ten|few|couple|several|many|some|twenty|thirty of? "
     "@UNIT_LONG ~1 ago|back", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("@UNIT_LONG ~1 ago|back", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("in|since ~1 dddd", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("as a @LIFE_STAGE", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("when i|he|she|they|we ~1 =was|=were", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("when ~1 my|his|her|our ~1 @KIN ~1 was|were", "HISTORICAL", "BIDIRECTIONAL", 12),
    # "after his heart attack", "since her stroke": the event named is in the past (scope: the next two words).
    ("after|since ~1 my|his|her|their", "PAST_EVENT", "FORWARD", 2),
    # "I've been fine since the heart attack": the event is over ("since the infection I'm shaking" is not).
    ("fine|okay|ok|better|good|well ~1 ever? ~1 since ~1 the|my|his|her|their", "PAST_EVENT", "FORWARD", 4),
    ("before ~1 my|his|her|their ~1 operation|surgery|treatment|diagnosis|op", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("use|used to", "HISTORICAL", "FORWARD", 10), ("back in", "HISTORICAL", "BIDIRECTIONAL", 10),
    ("than ~2 use|used to", "PSEUDO", "FORWARD", None),  # "more breathless than I used to": a comparison, now
    ("in the past", "HISTORICAL", "BIDIRECTIONAL", 10), ("previously", "HISTORICAL", "BIDIRECTIONAL", 10),
    ("history of", "HISTORICAL", "FORWARD", 6),
    ("long time|while|ages ~1 ago|back", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("a while|bit ~1 ago|back", "HISTORICAL", "BIDIRECTIONAL", 12), ("ages ago", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("=before .", "HISTORICAL", "BACKWARD", 12),
    ("never ~3 =before .?", "PSEUDO", "FORWARD", None),  # "she's never done that before": the first time, now
    # Exact words: the lemma table makes "had" and "'s" both "have" ("when I cough there's blood" is now).
    ("when he|she|they|i ~2 =smoked|=drank|=lived|=worked|=died|=had|=did|=used", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("have|had about|around|maybe|like|a? two|three|four|five|several|few|couple|many|multiple", "HISTORICAL",
     "FORWARD", 3),
    ("side of the|my|our family", "HISTORICAL", "BIDIRECTIONAL", 12),
    # "heart disease runs on my mum's side", "on my dad's side": family history.
    ("run|runs|running ~1 on|down ~1 my|his|her|our|the ~3 =side", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("on ~1 my|his|her|our ~1 @KIN ~2 =side", "HISTORICAL", "BIDIRECTIONAL", 12),
    # Someone else "had" it (exact: the lemma table makes "has" and "'s" "have" too): a past event of theirs,
    # unless a now-cue says otherwise ("my son had a fit this morning"); see nlp.Mention.status. Said of oneself it
    # stays current ("I had chest pain and I'm sweating"): safety first.
    ("=had", "PAST_OTHER", "FORWARD", 10),  # not after "has"/"'s": "has had" is still now (edge/voice/nlp.py)
    # Onset, not history: "I noticed it last week", "it started three weeks ago" is still there.
    ("=started|=began|=noticed|=found|=spotted|=developed|=appeared|=first ~2 last @SEASON", "PSEUDO", "FORWARD",
     None),
    # What the patient was doing when it came on: "it started when I was walking up the stairs" is the onset.
    ("when i|he|she|we|they ~1 =was|=were @DOING", "PSEUDO", "FORWARD", None),
    ("=started|=began|=came|=come|=kicked on|in? ~1 when ~1 i|he|she|we|they ~1 =was|=were", "PSEUDO", "FORWARD",
     None),
    ("=started|=began|=noticed|=found|=spotted|=developed|=appeared ~6 "
     "a|one|two|three|four|five|six|few|couple|several of? @UNIT_LONG ~1 ago|back", "PSEUDO", "FORWARD", None),
    # Habitual in someone else ("my sister has seizures sometimes") is a known condition; said of oneself it is not
    # taken as history ("sometimes I want to kill myself").
    ("sometimes|occasionally|always|epileptic|epilepsy|easily", "HABITUAL", "BIDIRECTIONAL", 12),
    ("=gets", "HABITUAL", "BIDIRECTIONAL", 12),  # "my mum has COPD and gets short of breath": her usual state
    ("now and again", "HABITUAL", "BIDIRECTIONAL", 12), ("on and off", "HABITUAL", "BIDIRECTIONAL", 12),
    ("before ~1 he|she|they|i ~1 =was|=were|=died|=passed|=found|=diagnosed|=knew", "HISTORICAL", "BACKWARD", 12),
    ("normal for me", "HISTORICAL", "BACKWARD", 12), ("always been like", "HISTORICAL", "BIDIRECTIONAL", 12),
    # "for the last month", "over the past year": how long it has lasted, not when it was.
    ("for|over|in|during the ~1 last|past @SEASON|@UNIT_LONG|week|day|days|few", "PSEUDO", "FORWARD", None),
    ("since ~4 last|this @SEASON", "PSEUDO", "FORWARD", None),  # "killing me since I moved house last week"
    # Grief dates from a death: "sad since my mum passed away in the summer" is now, not the past.
    ("since ~3 =passed away", "PSEUDO", "FORWARD", None),
    ("since ~6 in the winter|spring|summer|autumn", "PSEUDO", "FORWARD", None),
    ("in the winter|spring|summer|autumn", "HISTORICAL", "BIDIRECTIONAL", 10),
    # "=gone": the lemma "go" would make "it's been going on for months" a thing of the past.
    ("=gone now", "HISTORICAL", "BACKWARD", 15), ("=healed", "HISTORICAL", "BACKWARD", 15),
    ("it|they ~1 be|have ~1 =gone", "HISTORICAL", "BACKWARD", 15),
    # ...but "it's gone rock hard", "her lips have gone blue": became, now.
    ("it|they|he|she|lips|skin|face|tummy|belly ~1 be|have ~1 =gone ~1 rock|really|very|all|so|bright|red|hot|blue|"
     "pale|grey|gray|white|black|stiff|hard|rigid|floppy|limp|numb|cold|funny|weird|dark|purple|swollen|puffy|tight|"
     "quiet|mottled|blotchy", "PSEUDO", "FORWARD", None),
    ("=went|=gone away", "HISTORICAL", "BACKWARD", 15), ("clear|cleared up", "HISTORICAL", "BACKWARD", 15),
    ("settle|settled ~1 down?", "HISTORICAL", "BACKWARD", 15),
    ("fine|okay|ok|better|good|well ~1 since|now", "HISTORICAL", "BACKWARD", 15),
    # "I'm fit to travel now", "well enough to drive now": declared over, for a letter or a form.
    ("fit|well|fine|okay|ok ~1 enough? ~1 to ~1 travel|fly|work|drive ~1 now?", "HISTORICAL", "BACKWARD", 15),
    ("nothing|none ~1 since", "HISTORICAL", "BACKWARD", 15),
    ("no problems|trouble|issues ~1 since", "HISTORICAL", "BACKWARD", 15),
    ("since then", "HISTORICAL", "BACKWARD", 15), ("recover|recovered|recovery", "HISTORICAL", "BACKWARD", 15),
    ("back to normal", "HISTORICAL", "BACKWARD", 15), ("stop|stopped now", "HISTORICAL", "BACKWARD", 15),
    # Both ways: "the bleeding has completely stopped", "it's stopped bleeding now".
    ("'s|has|have|had ~1 stopped", "HISTORICAL", "BIDIRECTIONAL", 8),
    ("=stopped", "HISTORICAL", "BACKWARD", 8), ("@NOT ~1 stopped", "PSEUDO", "BACKWARD", None), ("it passed",
    "HISTORICAL", "BACKWARD", 15),
    ("was treated", "HISTORICAL", "BACKWARD", 15), ("x-ray|xray|scan|tests|test ~2 normal|fine|clear",
                                                     "HISTORICAL", "BACKWARD", 15),
    ("=once", "HISTORICAL", "BACKWARD", 10), ("once ~1 had", "HISTORICAL", "FORWARD", 8),
    ("=once ~1 =ended|=was|=went|=got|=needed|=spent|=landed", "HISTORICAL", "FORWARD", 8),
    ("once a|every|per|or ~1 week|day|month|fortnight|night|twice|so", "PSEUDO", "BACKWARD", None),  # how often
    ("die|died|death ~1 of|from", "HISTORICAL", "FORWARD", 8), ("pass|passed away", "HISTORICAL", "BIDIRECTIONAL", 10),
    ("run|runs ~1 in ~1 the|my|our ~1 family", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("in the family", "HISTORICAL", "BIDIRECTIONAL", 12), ("family history", "HISTORICAL", "FORWARD", 10),
    ("at ~1 the age of? dd", "HISTORICAL", "BACKWARD", 8), ("at forty|fifty|sixty|seventy|eighty|thirty|twenty",
                                                           "HISTORICAL", "BACKWARD", 8),
    ("for years", "HISTORICAL", "BIDIRECTIONAL", 12),
    ("in the|his|her|their|my ~1 twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties",
     "HISTORICAL", "BIDIRECTIONAL", 12), ("been like that", "HISTORICAL", "BIDIRECTIONAL", 12),
    # Said of someone else, a known condition ("my cousin has fits now and then"); of oneself, still current.
    ("now and then", "HABITUAL", "BACKWARD", 10), ("from time to time", "HABITUAL", "BACKWARD", 10),
    ("every so often", "HABITUAL", "BACKWARD", 10), ("dementia|alzheimer|alzheimers", "HISTORICAL",
                                                       "BIDIRECTIONAL", 12),
    # Now: outweighs a historical cue in the same sentence ("my son had a seizure this morning").
    ("right now", "ACUTE", "BIDIRECTIONAL", None), ("at the moment", "ACUTE", "BIDIRECTIONAL", None),
    ("this morning|afternoon|evening", "ACUTE", "BIDIRECTIONAL", None), ("tonight|today", "ACUTE",
                                                                         "BIDIRECTIONAL", None),
    ("just now", "ACUTE", "BIDIRECTIONAL", None), ("=came on ~1 overnight", "ACUTE", "BIDIRECTIONAL", None),
    # A fit longer than the person's usual, or one the rescue medicine has not stopped, is happening now.
    ("longer than ~3 usual|normal|normally|ones|always|before", "ACUTE", "BIDIRECTIONAL", None),
    ("rescue ~1 medicine|medication|meds|remedy|midazolam|drug", "ACUTE", "BIDIRECTIONAL", None),
    ("=gone|=going|=went on ~2 long|longer|ages|forever", "ACUTE", "BIDIRECTIONAL", None),
    ("=just =had|=started|=collapsed|=fainted|=fallen|=fell|=taken|=swallowed|=eaten|=gone|=passed", "ACUTE",
     "BIDIRECTIONAL", None), ("minute|minutes|hour|hours ~1 ago", "ACUTE", "BIDIRECTIONAL", None),
    ("last night", "ACUTE", "BIDIRECTIONAL", None), ("yesterday", "ACUTE", "BIDIRECTIONAL", None),
    # Near words only: "he tried to kill himself years ago, it still upsets me" is still in the past.
    ("still", "ACUTE", "BIDIRECTIONAL", 4), ("again", "ACUTE", "BIDIRECTIONAL", 5),
    ("keep|keeps", "ACUTE", "BIDIRECTIONAL", 5),
    # Back again now ("a week ago, and now it's back"); "it hasn't come back" is still over.
    ("it|they|pain be|have ~1 back", "ACUTE", "BIDIRECTIONAL", None), ("come|came|coming back", "ACUTE",
                                                                       "BIDIRECTIONAL", None),
    ("@NOT ~1 come|came back", "PSEUDO", "BACKWARD", None),
    # Someone else.
    ("my|our|his|her|me ~1 @KIN", "FAMILY", "BIDIRECTIONAL", None),  # "me husband", "me mam": dialect
    ("someone|somebody", "FAMILY", "FORWARD", None),
)
