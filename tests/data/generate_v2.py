#!/usr/bin/env python3
"""Builds postroom's second labelled set, tests/data/labelled2/: documents named
doc-NNN.<ext> (names say nothing of their type), each with <file>.expected.json (what a
careful case handler records, written here from the facts each document was made from),
and manifest.json (type, producer, wording and held-out part of every document).

Written from the public templates and forms the documents imitate (the Pre-Action
Protocol for the Resolution of Clinical Disputes and its annexes, the N1 claim form,
pleadings and orders, Part 36, FOI requests and internal reviews, primary care appeals,
practitioner performance advice, records and expert reports), independently of
postroom's rules. Every person, firm, body and number is fictional; NHS numbers are in
the 999 range (modulus 11 valid); telephone numbers are in Ofcom's drama ranges.

Seeded and deterministic. Run by a developer, not at test time; the outputs are
committed:
    python3 -m venv /tmp/gen && /tmp/gen/bin/pip install reportlab fpdf2 typst python-docx
    /tmp/gen/bin/python tests/data/generate_v2.py
needs DejaVu fonts (Debian fonts-dejavu-core). Names in Chinese or Korean script appear
only in documents whose producer embeds no font (DOCX, email, HTML, text).

Producers: reportlab, fpdf2, Typst (PDF); python-docx (DOCX); Python's email package
(RFC 822, some with HTML bodies and attachments); HTML; plain text.

The held-out part: a document is held out when the first 8 hex digits of the SHA-256 of
its file name, as an integer, modulo 100, are below 40. Rules are never tuned on it.
"""
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import unicodedata
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape as html_escape

ROOT = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(ROOT, "labelled2")
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT = os.path.join(FONT_DIR, "DejaVuSans.ttf")
FONT_BOLD = os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf")
HELD_OUT_PERCENT = 40

rng = random.Random(19_2026)


def held_out(name):
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 100 < HELD_OUT_PERCENT


# ---------------------------------------------------------------------------------------
# People, firms, bodies (all fictional).

NAMES = [
    "Zoë Ní Bhriain", "Łukasz Wójcik", "Ελένη Παπαδοπούλου", "Siobhán Mac Craith", "Nguyễn Văn An",
    "Ingrid Sørensen", "Joaquín Peña Ortega", "Aleksandra Kowalczyk", "Дмитрий Волков", "Ayşe Demir",
    "Chidi Okonkwo", "Gráinne Ó Súilleabháin", "Margaret Thornley", "Dafydd ap Rhys", "Olumide Adeyemi",
    "Hannah Schröder", "Mehmet Öztürk", "Renée Lefèvre", "Tomás Ó Briain", "Anjali Sharma",
    "Σοφία Γεωργίου", "Bartłomiej Dąbrowski", "Eilidh MacLeòid", "Kofi Asante-Mensah", "Jean-Luc Béranger",
    "Noémie Castaño", "Oksana Kovalenko", "Rhiannon Pritchard", "Stanisław Żak", "Thandiwe Ndlovu",
    "Vilja Häkkinen", "Peter O'Dwyer", "Grace Whitcombe", "Andrzej Szczęsny", "Amara Osei",
]
CJK_NAMES = ["李明", "王芳", "김민준", "陳美玲", "박서연"]
REQUESTERS = [
    "Imogen Thackeray", "Rémi Chastain", "Przemysław Nowicki", "Cáit Ní Dhónaill", "Ruairí Mac Aodha",
    "Felicity Ambrose", "Björk Jónsdóttir", "Samuel Achterberg", "Νίκος Αντωνίου", "Hamza Qureshi",
    "Lorna McPhee", "Gustav Lindgren", "Maëlle Rousseau", "Jarosław Kubiak",
]
CJK_REQUESTERS = ["张伟", "이지은"]
US_REQUESTERS = ["Madison J. Carter", "Tyler Brooks"]

# (firm, short, street, town, postcode, sign-off person, role)
FIRMS = [
    ("Hartwell Ní Chonaill Solicitors", "HNC", "14 Cornhill Yard", "Wexcombe", "WX4 2PL", "Orla Hartwell", "Partner"),
    ("Beaumont & Oduya LLP", "BO", "Lantern House, 3 Guild Street", "Marlbury", "MB1 7QD", "Tobi Oduya", "Senior Associate"),
    ("Kilbride Law", "KL", "22 Tanners Row", "Ashby Fold", "AF9 3NE", "Declan Kilbride", "Director"),
    ("Ashcombe Rees Solicitors", "ARS", "Second Floor, 9 Priory Gate", "Tewford", "TF3 8HW", "Gwen Rees", "Solicitor"),
    ("Penhaligon Clinical Negligence Solicitors", "PCN", "Penhaligon House, Quay Street", "Porthmellin", "PM2 5RY", "Morwenna Penhaligon", "Head of Clinical Negligence"),
    ("Marsh Whitaker LLP", "MW", "1 St Olave's Court", "Harrowgate Vale", "HV6 1TS", "Jonathan Whitaker", "Partner"),
    ("Quill & Tarrant Law LLP", "QT", "The Old Chapel, Mill Hill", "Stanbridge", "SB8 4LA", "Priya Tarrant", "Associate"),
    ("Davenport Adeyemi LLP", "DA", "77 Victoria Parade", "Cresthaven", "CV7 2DN", "Funmi Adeyemi", "Chartered Legal Executive"),
    ("Greenhalgh Lowe Solicitors", "GL", "5 Cloth Hall Street", "Ridsdale", "RD2 9JU", "Alistair Lowe", "Partner"),
    ("Corrigan Vance Medical Law", "CV", "Unit 4, Brunel Quay", "Saltmouth", "SM3 6XE", "Niamh Corrigan", "Solicitor"),
]
PANEL = [
    ("Holloway Prentice LLP", "HP", "40 Fleetwood Square", "Kingsbridge Cross", "KX1 3BB", "Eleanor Prentice", "Partner"),
    ("Arden Kestrel LLP", "AK", "Kestrel Tower, 8 Canal Basin", "Marlbury", "MB3 2FF", "Rupert Arden", "Senior Associate"),
    ("Mercer Ladd LLP", "ML", "19 Exchange Walk", "Tewford", "TF1 4GZ", "Harriet Ladd", "Partner"),
    ("Bramwell Tey LLP", "BT", "2 Minster Yard", "Ridsdale", "RD1 1AA", "Samuel Tey", "Associate"),
]
TRUSTS = [
    ("Calderbrook Teaching Hospitals NHS Foundation Trust", "Calderbrook Royal Infirmary"),
    ("Thornbury and Elstow Hospitals NHS Trust", "Elstow General Hospital"),
    ("Ravensmoor University Hospitals NHS Foundation Trust", "Ravensmoor Hospital"),
    ("Saltmarsh and Fenwick NHS Foundation Trust", "Fenwick District Hospital"),
    ("Pennine Edge Hospitals NHS Trust", "Pennine Edge Hospital"),
    ("Kestwick General Hospital NHS Trust", "Kestwick General Hospital"),
]
AMBULANCE = [("South Lomond Ambulance Service NHS Foundation Trust", "the ambulance service")]
MENTAL = [("Greyfriars Mental Health NHS Foundation Trust", "Linden Ward, Greyfriars House")]
GPS = [("Dr Helen Marchbank", "Larkspur Medical Practice"), ("Dr Rajiv Menon", "Abbeyfield Surgery"),
       ("Dr Catrin Howells", "Bryn Teg Health Centre"), ("Dr Samuel Osei-Bonsu", "Millrace Family Practice")]
EXPERTS = [
    ("Mr Anand Rao FRCS (Orth)", "Consultant Orthopaedic Surgeon"),
    ("Professor Ruth Calloway MD FRCOG", "Consultant Obstetrician"),
    ("Dr Benedikt Kästner FRCEM", "Consultant in Emergency Medicine"),
    ("Dr Yasmin Farouk MRCGP", "General Practitioner"),
    ("Mr Ciarán Ó Laoire FRCS", "Consultant General Surgeon"),
    ("Dr Elspeth Munro FRCPsych", "Consultant Psychiatrist"),
    ("Dr Tariq Hussain FRCP", "Consultant Physician"),
]
PHARMACIES = ["Kingfisher Pharmacy Ltd", "Alder Chemists Limited", "Whitlow & Daughters Pharmacy", "Primrose Healthcare Ltd",
              "Żabka Pharmacy Group Ltd", "Ocean Road Pharmacy"]

ORG = "NHS Resolution"
ORG_ADDRESSES = [
    ["NHS Resolution", "Clinical Claims Team", "8 Example Square", "London", "EC1A 9ZZ"],
    ["Safety and Learning Team", "NHS Resolution", "2 Quayside Chambers", "Leeds", "LS1 4ZZ"],
    ["Claims Management", "NHS Resolution", "8 Example Square", "London", "EC1A 9ZZ"],
]


def ascii_word(word):
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if c.isascii() and c.isalnum())


def nhs_number():
    while True:
        digits = [9, 9, 9] + [rng.randint(0, 9) for _ in range(6)]
        total = sum(d * (10 - i) for i, d in enumerate(digits))
        check = 11 - total % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, digits + [check]))


def not_nhs_number():
    """Ten digits that fail the modulus 11 check (a hospital number, say)."""
    while True:
        digits = [rng.randint(1, 8)] + [rng.randint(0, 9) for _ in range(9)]
        total = sum(d * (10 - i) for i, d in enumerate(digits[:9]))
        check = 11 - total % 11
        check = 0 if check == 11 else check
        if check != digits[9]:
            return "".join(map(str, digits))


def nhs_written(n):
    return rng.choice([f"{n[:3]} {n[3:6]} {n[6:]}", n, f"{n[:3]}-{n[3:6]}-{n[6:]}", f"{n[:3]} {n[3:6]} {n[6:]}"])


def phone():
    return rng.choice([f"01632 {rng.randint(960000, 960999)}", f"0113 496 {rng.randint(0, 999):04d}",
                       f"020 7946 {rng.randint(0, 999):04d}", f"07700 900{rng.randint(0, 999):03d}"])


def day(start, end):
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def suffix(n):
    return "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def fmt(d, style):
    return {
        "long": f"{d.day} {d:%B %Y}",
        "long0": f"{d:%d %B %Y}",
        "ord": f"{d.day}{suffix(d.day)} {d:%B %Y}",
        "ordof": f"{d.day}{suffix(d.day)} of {d:%B %Y}",
        "wd": f"{d:%A}, {d.day} {d:%B %Y}",
        "wd2": f"{d:%A} {d.day}{suffix(d.day)} {d:%B %Y}",
        "slash": f"{d:%d/%m/%Y}",
        "slash1": f"{d.day}/{d.month}/{d:%Y}",
        "slash2": f"{d:%d/%m/%y}",
        "dots2": f"{d:%d.%m.%y}",
        "dots4": f"{d:%d.%m.%Y}",
        "short": f"{d.day} {d:%b %Y}",
        "shortdot": f"{d.day} {d:%b}. {d:%Y}" if d.month != 5 else f"{d.day} May {d:%Y}",
        "mon": f"{d:%d-%b-%Y}",
        "iso": d.isoformat(),
        "us": f"{d:%B} {d.day}, {d:%Y}",
    }[style]


UK = ["long", "long0", "ord", "ordof", "wd", "wd2", "slash", "slash1", "slash2", "dots2", "dots4", "short", "shortdot"]
LETTER_DATE = ["long", "long0", "ord", "wd", "wd2", "slash", "dots4", "short", "long", "ord"]


def uk():
    return rng.choice(UK)


def claim_ref(scheme):
    return f"{scheme}/{rng.randint(19, 25):02d}/{rng.randint(1, 999999):06d}"


def ref_written(ref):
    s, y, n = ref.split("/")
    return rng.choice([ref, ref, ref, f"{s} / {y} / {n}", f"{s}/{y}/{n}"])


def court_number(kind=None):
    kind = kind or rng.choice(["kb", "cc", "cc"])
    if kind == "kb":
        return f"{rng.choice(['KB', 'KB', 'QB'])}-{rng.randint(2020, 2025)}-{rng.randint(1, 9999):06d}"
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return f"{rng.choice('FGHJKL')}{rng.randint(10, 99)}{rng.choice(letters)}{rng.choice(letters)}{rng.randint(100, 999)}"


def foi_ref():
    return f"FOI_{rng.randint(4000, 99999)}"


def foi_written(ref):
    n = ref.split("_")[1]
    return rng.choice([ref, ref, f"FOI {n}", f"FOI_{n}"])


def appeal_ref():
    return rng.choice([f"SHA/{rng.randint(10000, 39999)}", f"REV/{rng.randint(1000, 99999)}"])


def money(v, style=None):
    style = style or rng.choice(["comma", "comma", "pence", "plain"])
    if v >= 1_000_000 and style != "pence" and rng.random() < 0.5:
        return f"£{v / 1e6:g} million" if rng.random() < 0.5 else f"£{v / 1e6:g}m"
    if style == "pence":
        return f"£{v:,.2f}"
    if style == "plain" and v < 10000:
        return f"£{v}"
    return f"£{v:,}"


# ---------------------------------------------------------------------------------------
# A document: blocks to render, facts recorded as expected.

class Doc:
    def __init__(self, kind, wording):
        self.kind, self.wording = kind, wording
        self.blocks = []
        self.email = None
        self.attachments = []  # (filename, Doc, producer)
        self.cjk = False
        self.pd = {k: set() for k in ("nhs", "dob", "pc", "email", "phone")}
        self.exp = {
            "doc_type": kind, "document_date": None, "incident_date": None,
            "references": {"case_ref": None, "claim": [], "court": [], "foi": [], "appeal": [], "other": []},
            "parties": {"claimant": None, "defendants": [], "claimant_solicitor": None, "requester": None},
            "clinical": {"scheme": None, "specialty": None, "cause": None, "injury": None},
            "amounts_gbp": [],
        }

    # blocks
    def h(self, text):
        self.blocks.append(("h", text))

    def p(self, text):
        self.blocks.append(("p", text))

    def lines(self, lines):
        for line in lines:
            self.blocks.append(("l", line))
        self.blocks.append(("p", ""))

    def box(self, label, value):
        self.blocks.append(("box", label, value))

    def gap(self):
        self.blocks.append(("p", ""))

    # facts
    def ref(self, kind, value):
        lst = self.exp["references"][kind]
        if value not in lst:
            lst.append(value)

    def amount(self, v):
        self.exp["amounts_gbp"].append(float(v))

    def nhs(self, n):
        self.pd["nhs"].add(n)
        return nhs_written(n)

    def dob(self, d):
        self.pd["dob"].add(d)

    def postcode(self, pc):
        self.pd["pc"].add(pc.replace(" ", ""))

    def mail(self, e):
        self.pd["email"].add(e.lower())

    def tel(self, t):
        self.pd["phone"].add(t.replace(" ", ""))
        return t

    def set(self, **kw):
        for k, v in kw.items():
            if k in ("document_date", "incident_date", "doc_type"):
                self.exp[k] = v
            elif k in ("claimant", "defendants", "claimant_solicitor", "requester"):
                self.exp["parties"][k] = v
            elif k in ("scheme", "specialty", "cause", "injury"):
                self.exp["clinical"][k] = v
            elif k == "case_ref":
                self.exp["references"]["case_ref"] = v
            else:
                raise KeyError(k)

    def codes(self, sc):
        self.set(specialty=sc.specialty, cause=sc.cause, injury=sc.injury)

    def expected(self):
        e = json.loads(json.dumps(self.exp, default=lambda d: d.isoformat()))
        e["personal_data"] = {"nhs_numbers": len(self.pd["nhs"]), "dates_of_birth": len(self.pd["dob"]),
                              "postcodes": len(self.pd["pc"]), "emails": len(self.pd["email"]),
                              "phone_numbers": len(self.pd["phone"])}
        if self.attachments:
            e["attachments"] = [a.expected() for _, a, _ in self.attachments]
        return e


def address_block(doc, lines):
    """An address whose last line is a postcode."""
    doc.lines(lines)
    doc.postcode(lines[-1])


def firm_head(doc, firm, style=None):
    name, short, street, town, pc, person, role = firm
    style = rng.randint(0, 3) if style is None else style
    tel = doc.tel(phone())
    email = f"{ascii_word(person.split()[0])}.{ascii_word(person.split()[-1])}@{ascii_word(name.split()[0])}law.example"
    doc.mail(email)
    doc.postcode(pc)
    if style == 0:
        doc.h(name)
        doc.lines([street, f"{town} {pc}", f"T {tel}  |  E {email}"])
    elif style == 1:
        doc.lines([name.upper(), f"{street}, {town}, {pc}", f"Telephone: {tel}", f"Email: {email}"])
    elif style == 2:
        doc.h(name)
        doc.lines(["Solicitors and Notaries" if "Solicitors" not in name else "Specialists in clinical negligence",
                   street, town, pc, f"DX 4{rng.randint(1000, 9999)} {town}", f"Tel {tel}"])
        doc.pd["email"].discard(email)
    else:
        doc.lines([f"{name}  ·  {street}  ·  {town}  ·  {pc}", f"{tel}  ·  {email}"])
    return email


def firm_footer(doc, firm):
    name = firm[0]
    doc.p(f"{name} is authorised and regulated by the Solicitors Regulation Authority (SRA number {rng.randint(500000, 699999)}). "
          "A list of members is available at our registered office.")


def sign(doc, firm, style=None, faithfully=True):
    name, short, street, town, pc, person, role = firm
    close = "Yours faithfully" if faithfully else "Yours sincerely"
    style = rng.randint(0, 4) if style is None else style
    if style == 0:
        doc.lines([close, "", name])
    elif style == 1:
        doc.lines([close, "", person, role, f"for and on behalf of {name}"])
    elif style == 2:
        doc.lines([close + ",", "", person, f"{role}, {name}"])
    elif style == 3:
        doc.lines(["Kind regards", "", person, f"{role} | {name}"])
    else:
        doc.lines([close, "", f"{name} (signed electronically)"])


# ---------------------------------------------------------------------------------------
# Scenarios: what happened, told in the document's own date style. Codes are the names of
# the specialty, cause and injury lists; where no careful reader could assign one, None.

class Scenario:
    def __init__(self, specialty, cause, injury, body, patient, story, brief, earlier=False):
        self.specialty, self.cause, self.injury = specialty, cause, injury
        self.body, self.patient = body, patient  # body: trust/practice/ambulance/mental; patient: adult/child/birth/deceased
        self.story, self.brief, self.earlier = story, brief, earlier


S = [
    Scenario("Obstetrics", "Fail / Delay Treatment", "Brain damage", "trust", "birth",
             ["{M} was admitted to the delivery suite at {H} in established labour on {d1}. From the early hours the CTG trace showed late decelerations and a rising baseline, and the registrar was not called for more than two hours.",
              "The decision to deliver by emergency caesarean section was not taken until {d2}; {P} was born in poor condition, needed resuscitation and therapeutic cooling, and an MRI scan has since confirmed hypoxic ischaemic brain injury."],
             "damages for brain injury caused by the negligent delay in delivering the Claimant at the Defendant's maternity unit, the abnormal CTG trace not having been acted upon"),
    Scenario("Casualty / A & E", "Failure/Delay Diagnosis", None, "trust", "adult",
             ["On {d1} {P} attended the emergency department at {H} after a fall from a ladder, complaining of pain in the wrist and lower back. The X-rays were read as normal by the emergency department doctor and {P} was discharged with painkillers.",
              "A fracture of the scaphoid and a wedge fracture of the L1 vertebra were not diagnosed until a fracture clinic review on {d2}. The delay in diagnosis meant that the scaphoid went on to non-union and needed surgery on {d3}."],
             "damages for the delayed diagnosis of fractures of the wrist and spine missed by the Defendant's emergency department (A&E)"),
    Scenario("General Surgery", "Foreign Body Left In Situ", None, "trust", "adult",
             ["On {d1} {P} underwent an open right hemicolectomy under the general surgical team at {H}. A surgical swab was left inside the abdomen when the wound was closed; the swab count was recorded as correct.",
              "{P} suffered months of pain and a discharging wound. A CT scan on {d2} showed a retained foreign body and the swab was removed at a further laparotomy on {d3}."],
             "damages for injury caused by a surgical swab left in the Claimant's abdomen during general surgery (a retained foreign body)"),
    Scenario("General Practice", "Failure/Delay Diagnosis", "Cancer", "practice", "adult",
             ["{P} had an unremarkable annual review at the surgery on {d0}. On {d1} {P} consulted {G} with rectal bleeding and a change in bowel habit and was told it was haemorrhoids; no examination was performed and no urgent referral was made.",
              "{P} returned on {d2} and was again reassured. A colorectal cancer was finally diagnosed after an emergency admission on {d3}; by then it had spread to the liver. A referral on the two-week pathway at the first consultation would have led to curative treatment."],
             "damages for the delayed diagnosis of bowel cancer by the Defendant general practitioner, who failed to refer the Claimant urgently", True),
    Scenario("Ambulance", "Fail / Delay Treatment", "Fatality", "ambulance", "deceased",
             ["At 21:40 on {d1} a 999 call was made reporting that {D} had crushing chest pain. The call was wrongly triaged as category 3 and no ambulance arrived for almost four hours.",
              "{D} suffered a cardiac arrest before the crew arrived and died at {H2} on {d2}. Earlier conveyance would, on the balance of probabilities, have led to successful treatment of the heart attack."],
             "damages under the Fatal Accidents Act 1976 and the Law Reform (Miscellaneous Provisions) Act 1934 arising from the Defendant ambulance service's delay in attending the Deceased, who died"),
    Scenario("Psychiatry", "Fail / Delay Treatment", "Fatality", "mental", "deceased",
             ["{D} was admitted to {H} as an inpatient under the psychiatric team on {d1} after an attempt at self-harm. Despite a documented high risk, observations were reduced and {D} was granted unescorted leave without a risk assessment.",
              "{D} did not return from leave on {d2} and was found dead the following day. The inquest concluded that {D} died by suicide and that the failure to treat and manage the risk contributed to the death."],
             "damages arising from the death of the Deceased while an inpatient under the Defendant's mental health (psychiatric) services, the Defendant having failed to treat and manage a known risk of suicide"),
    Scenario("Gynaecology", "Failed sterilisation", None, "trust", "adult",
             ["On {d1} {P} underwent a laparoscopic sterilisation with Filshie clips under the gynaecology team at {H}. One clip was misplaced on the round ligament rather than the fallopian tube.",
              "{P} discovered an unplanned pregnancy on {d2}; the sterilisation had failed. A child was delivered by caesarean section on {d3}."],
             "damages for a negligently performed and failed sterilisation by the Defendant's gynaecology department"),
    Scenario("Anaesthesia", "Intra-operative problems", None, "trust", "adult",
             ["On {d1} {P} underwent a planned knee arthroscopy at {H}. The anaesthetist failed to check that the volatile agent was being delivered, and {P} was aware and in pain during the operation while paralysed.",
              "{P} has since been diagnosed with post-traumatic stress disorder by a psychiatrist, on {d2}, as a result of the accidental awareness under general anaesthesia."],
             "damages for accidental awareness during general anaesthesia administered by the Defendant's anaesthetist during an operation"),
    Scenario("Orthopaedic Surgery", "Fail To Warn-Informed Consent", None, "trust", "adult",
             ["{P} was listed for a total knee replacement by the orthopaedic team at {H} at a clinic on {d1}. The consent form recorded only 'infection, bleeding, DVT'; {P} was never warned of the material risk of common peroneal nerve injury, and did not give informed consent.",
              "The operation took place on {d2}. {P} woke with a foot drop caused by injury to the nerve and would have chosen conservative treatment had the risk been explained."],
             "damages for nerve injury following knee replacement surgery by the Defendant's orthopaedic surgeons, the Claimant not having been warned of the risk and so not having given informed consent"),
    Scenario("Neurology", "Wrong Diagnosis", None, "trust", "adult",
             ["On {d1} {P} was seen by the neurology registrar at {H} with a sudden, severe headache. It was wrongly diagnosed as a migraine and {P} was sent home without a CT scan or lumbar puncture.",
              "A subarachnoid haemorrhage from a ruptured aneurysm was found on {d2}, after a second bleed. {P} has been left with weakness of the left side."],
             "damages for the misdiagnosis by the Defendant's neurologist of a subarachnoid haemorrhage as migraine"),
    Scenario("Paediatrics", "Failure/Delay Diagnosis", "Sensory loss", "trust", "child",
             ["On {d1} {P}, then aged three, was taken to the children's assessment unit at {H} with a fever, a non-blanching rash and drowsiness. The paediatric team did not diagnose meningitis and discharged the child with a diagnosis of a viral illness.",
              "{P} was readmitted on {d2}, when bacterial meningitis was diagnosed and antibiotics were given. The delay caused profound bilateral deafness, confirmed on {d3}."],
             "damages for profound deafness caused by the delayed diagnosis of meningitis by the Defendant's paediatric team"),
    Scenario("General Medicine", "Failure to recognise complication", "Fatality", "trust", "deceased",
             ["{D} was admitted to a medical ward at {H} on {d1} with a chest infection. Over the next two days the observations deteriorated and the early warning score rose to 7, but the deterioration and the developing sepsis were not recognised and no doctor attended.",
              "{D} was transferred to intensive care only on {d2} and died on {d3} of multi-organ failure. Had the complication been recognised, antibiotics and fluids would have been given in time to prevent the death."],
             "damages arising from the death of the Deceased following the failure of the Defendant's medical staff to recognise sepsis on a general medical ward"),
    Scenario("Oral & Maxillo Facial Surgery", "Intra-operative problems", None, "trust", "adult",
             ["On {d1} {P} underwent surgical removal of an impacted lower third molar by the oral and maxillofacial surgery team at {H}. During the operation the lingual nerve was cut by the drill because no lingual retraction was used.",
              "{P} was left with numbness and altered taste on the right side of the tongue, which remained unchanged at review on {d2}."],
             "damages for injury to the lingual nerve suffered during oral and maxillofacial surgery performed by the Defendant"),
    Scenario("Obstetrics", "Failure/Delay Diagnosis", "Birth defects", "trust", "adult",
             ["{P} attended the fetal medicine and obstetric ultrasound department at {H} for the 20-week anomaly scan on {d1}. The sonographer recorded the spine as normal.",
              "{P}'s son was born on {d2} with spina bifida, a birth defect that should have been detected at the anomaly scan; had it been diagnosed, {P} would have been offered a termination."],
             "damages for the failure of the Defendant's obstetric ultrasound service to diagnose spina bifida, a birth defect, at the anomaly scan"),
    Scenario("General Medicine", "Failure/Delay Diagnosis", "Sensory loss", "trust", "adult",
             ["On {d1} {P} was seen in the acute medical unit at {H} with headache, jaw pain on chewing and blurred vision. Giant cell arteritis was not diagnosed and no steroids were started.",
              "{P} lost the sight of the right eye on {d2}; the diagnosis was made only then. Prompt treatment on admission would have saved the sight."],
             "damages for loss of sight caused by the delayed diagnosis of giant cell arteritis by the Defendant's acute physicians"),
    Scenario("General Practice", "Wrong Diagnosis", None, "practice", "child",
             ["On {d1} {P}, aged nine, was brought to {G} with abdominal pain and vomiting. The GP wrongly diagnosed gastroenteritis and gave no safety-netting advice.",
              "{P} was admitted on {d2} with a perforated appendix and peritonitis and spent eleven days in hospital."],
             "damages for the misdiagnosis of appendicitis as gastroenteritis by the Defendant general practitioner"),
    Scenario("Dentistry", "Fail To Warn-Informed Consent", None, "trust", "adult",
             ["{P} was treated at the community dental service of {H} on {d1}, when a dentist placed a bridge after grinding down two healthy teeth. The alternatives and the risks to the teeth were never explained, so there was no informed consent.",
              "Both teeth later needed root canal treatment, completed on {d2}."],
             "damages for dental treatment carried out by the Defendant's dentist without warning of its risks or informed consent"),
    Scenario(None, None, None, "trust", "adult",
             ["{P} attended outpatient appointments at {H} on {d1} and on {d2}, and is unhappy with the way those appointments were handled and with the communication that followed.",
              "Our enquiries are at an early stage and we are not yet able to say what, if anything, went wrong."],
             "damages for personal injury arising out of treatment provided by the Defendant"),
]


class Case:
    """One claim's facts, shared by the documents that concern it."""

    def __init__(self, sc=None, cjk=False):
        self.sc = sc or rng.choice(S)
        pool = CJK_NAMES if cjk else NAMES
        self.claimant = rng.choice(pool)
        self.patient = self.claimant
        self.mother = None
        if self.sc.patient == "deceased":
            self.patient = rng.choice([n for n in NAMES if n != self.claimant])
        if self.sc.patient == "birth":
            self.mother = rng.choice([n for n in NAMES if n != self.claimant])
        if self.sc.body == "practice":
            self.defendant, self.hospital = rng.choice(GPS)
            self.scheme = "CNSGP"
            start = dt.date(2019, 6, 1)
        elif self.sc.body == "ambulance":
            self.defendant, self.hospital = AMBULANCE[0]
            self.hospital = rng.choice(TRUSTS)[1]
            self.scheme = "CNST"
            start = dt.date(2017, 1, 1)
        elif self.sc.body == "mental":
            self.defendant, self.hospital = MENTAL[0]
            self.scheme = "CNST"
            start = dt.date(2017, 1, 1)
        else:
            self.defendant, self.hospital = rng.choice(TRUSTS)
            self.scheme = "CNST"
            start = dt.date(2016, 1, 1)
        self.d1 = day(start, dt.date(2023, 3, 31))
        self.d0 = self.d1 - dt.timedelta(days=rng.randint(60, 300))
        self.d2 = self.d1 + dt.timedelta(days=rng.randint(1, 120))
        self.d3 = self.d2 + dt.timedelta(days=rng.randint(2, 150))
        if self.sc.patient == "birth":
            self.d2 = self.d1 + dt.timedelta(days=rng.choice([0, 1]))
            self.dob = self.d2
        elif self.sc.patient == "child":
            self.dob = self.d1 - dt.timedelta(days=rng.randint(3 * 365, 9 * 365))
        else:
            self.dob = day(dt.date(1946, 1, 1), dt.date(2000, 12, 31))
        self.firm = rng.choice(FIRMS)
        self.panel = rng.choice(PANEL)
        self.nhs = nhs_number()
        self.ref = claim_ref(self.scheme) if rng.random() < 0.85 else None
        self.court = None
        self.firm_ref = f"{self.firm[1]}/{''.join(ascii_word(w)[:1].upper() for w in self.claimant.split()) or 'X'}/{rng.randint(1000, 99999)}"
        self.hospital2 = rng.choice(TRUSTS)[1]
        self.panel_ref = f"{self.panel[1]}.{rng.randint(100, 999)}.{rng.randint(1000, 9999)}"

    def title(self):
        return f"{self.claimant} v {self.defendant}"

    def who(self, role):
        """How a document names the patient in its narrative: P (the patient), M (a
        mother in labour), D (a patient who died)."""
        p = {"client": "our client", "claimant": "the Claimant", "name": self.claimant, "patient": "the patient"}[role]
        poss = {"client": "our client's", "claimant": "the Claimant's", "name": f"{self.claimant}'s", "patient": "the patient's"}[role]
        m = f"{poss} mother, {self.mother}," if self.mother else p
        d = "the Deceased" if role == "claimant" else f"the late {self.patient}"
        return p, m, d

    def story(self, style, role, skip_earlier=False):
        """The narrative paragraphs, in one date style."""
        sc = self.sc
        p, m, d = self.who(role)
        vals = dict(P=p, M=m, D=d, G=self.defendant if sc.body == "practice" else "the GP",
                    H=self.hospital, H2=self.hospital2,
                    d0=fmt(self.d0, style), d1=fmt(self.d1, style), d2=fmt(self.d2, style), d3=fmt(self.d3, style))
        paras = [t.format(**vals) for t in sc.story]
        if sc.earlier and skip_earlier:
            paras[0] = paras[0].split(". ", 1)[1]
        paras = [re.sub(r"(^|\. )([a-z])", lambda mo: mo.group(1) + mo.group(2).upper(), t) for t in paras]
        return paras

    def brief(self):
        return self.sc.brief

    def client_line(self):
        """The claimant, and for a death the person who died."""
        if self.sc.patient == "deceased":
            return f"{self.claimant} (personal representative of the estate of the late {self.patient})"
        if self.sc.patient == "birth":
            return f"{self.claimant} (a child, by their mother and litigation friend {self.mother})"
        if self.sc.patient == "child":
            return f"{self.claimant} (a child, by their litigation friend)"
        return self.claimant


# ---------------------------------------------------------------------------------------
# Emails: headers, with the body made from the document's blocks.

def sent_at(start, end):
    d = day(start, end)
    tz = dt.timezone(dt.timedelta(hours=1)) if 4 <= d.month <= 9 else dt.timezone.utc
    return dt.datetime(d.year, d.month, d.day, rng.randint(7, 18), rng.randint(0, 59), tzinfo=tz)


def email(doc, sender, sender_addr, to, to_addr, subject, when, html=False, cc=None):
    doc.email = dict(sender=f"{sender} <{sender_addr}>" if sender else sender_addr,
                     to=f"{to} <{to_addr}>" if to else to_addr, subject=subject, date=when, html=html, cc=cc)
    doc.mail(sender_addr)
    doc.mail(to_addr)
    if cc:
        doc.mail(cc)
    doc.set(document_date=when.date())


def attach(doc, filename, att, producer):
    doc.attachments.append((filename, att, producer))


def claim_expect(doc, case, solicitor=True, codes=True, incident=True, claimant=True):
    doc.set(claimant=case.claimant if claimant else None, defendants=[case.defendant],
            claimant_solicitor=case.firm[0] if solicitor else None, scheme=case.scheme)
    if codes:
        doc.codes(case.sc)
    if incident:
        doc.set(incident_date=case.d1)
    if case.ref and case.ref in doc.exp["references"]["claim"]:
        doc.set(case_ref=case.ref)


def org_address(doc):
    address_block(doc, rng.choice(ORG_ADDRESSES))


def trust_legal_address(doc, case):
    lines = ["Legal Services", case.defendant, case.hospital, f"{rng.randint(1, 99)} Infirmary Road", rng.choice(["Calderbrook CB2 1AA", "Elstow EL5 3QT", "Ravensmoor RM4 8LW"])]
    lines = lines[:-1] + [lines[-1].rsplit(" ", 2)[0], " ".join(lines[-1].rsplit(" ", 2)[1:])]
    address_block(doc, lines)


def dob_line(doc, case, style):
    doc.dob(case.dob)
    return fmt(case.dob, style)


# ---------------------------------------------------------------------------------------
# Pre-Action Protocol: letters of notification, claim and response (Annexes C1-C3), and
# the records request (Annex B) among the correspondence.

def letter_of_notification(w, prod):
    case = Case(cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("letter_of_notification", w)
    ds = rng.choice(LETTER_DATE)
    when = case.d3 + dt.timedelta(days=rng.randint(200, 900))
    ns = uk()
    if w == 5 and prod == "eml":
        doc.p("Dear Legal Services Team,")
        doc.p(f"Re: {case.claimant} – date of birth {dob_line(doc, case, 'slash')} – hospital number {not_nhs_number()}")
        doc.p(f"We are instructed by {case.claimant} and write, in accordance with Annex C1 of the Pre-Action Protocol for the Resolution of Clinical Disputes, to notify you of a potential claim against {case.defendant}.")
        for t in case.story(ns, "client"):
            doc.p(t)
        doc.p("We are still obtaining the records and expert evidence and are not yet in a position to send a Letter of Claim. We ask that you preserve all records and consider whether the matter should be investigated now. Please acknowledge receipt within 14 days.")
        sign(doc, case.firm, 3)
        firm = case.firm
        addr = f"{ascii_word(firm[5].split()[0])}@{ascii_word(firm[0].split()[0])}law.example"
        email(doc, firm[5], addr, "Legal Services", f"legal.services@{ascii_word(case.defendant.split()[0])}.nhs.example",
              f"Notification of potential claim – {case.claimant}", sent_at(when, when + dt.timedelta(days=10)))
        doc.exp["references"]["other"].append(case.firm_ref) if False else None
        claim_expect(doc, case, codes=True)
        return doc
    firm_head(doc, case.firm)
    doc.lines([fmt(when, ds)])
    if w in (0, 3, 4):
        trust_legal_address(doc, case)
    else:
        org_address(doc)
    refs = [f"Our ref: {case.firm_ref}"]
    if case.ref and w in (1, 2):
        refs.append(f"Your ref: {ref_written(case.ref)}")
        doc.ref("claim", case.ref)
    doc.lines(refs)
    doc.exp["references"]["other"].append(case.firm_ref)
    sal = rng.choice(["Dear Sirs", "Dear Sir or Madam", "Dear Colleagues", "Dear Legal Services Manager"])
    if w == 0:
        doc.p(sal)
        doc.h("LETTER OF NOTIFICATION")
        doc.lines([f"Our client: {case.client_line()}", f"Date of birth: {dob_line(doc, case, 'slash')}",
                   f"NHS number: {doc.nhs(case.nhs)}", f"Treating hospital: {case.hospital}"])
        doc.p(f"We write to notify {case.defendant} of a potential claim under the Pre-Action Protocol for the Resolution of Clinical Disputes. Our investigations are continuing and a Letter of Claim will follow once we have supportive expert evidence.")
        doc.h("Summary of events")
        for t in case.story(ns, "client"):
            doc.p(t)
        doc.h("Next steps")
        doc.p("Please acknowledge this letter within 14 days and let us know whether you intend to investigate, and whether a Serious Incident or patient safety investigation has taken place.")
        sign(doc, case.firm)
    elif w == 1:
        doc.p(sal)
        doc.p(f"Re: {case.title()}")
        doc.p(f"Client: {case.client_line()} (born {dob_line(doc, case, 'long')})")
        doc.p("This is a notification, not a Letter of Claim. We have been consulted about the treatment described below and wish to give early notice so that the matter can be investigated while memories are fresh, as the Protocol encourages.")
        for t in case.story(ns, "client"):
            doc.p(t)
        doc.p("We anticipate sending a full Letter of Claim within the next six months. In the meantime we would be grateful for an acknowledgement within 14 days.")
        sign(doc, case.firm, 1)
    elif w == 2:
        doc.p(sal)
        doc.h("Notification of a potential claim for clinical negligence")
        doc.box("Claimant", case.client_line())
        doc.box("Date of birth", dob_line(doc, case, "dots4"))
        doc.box("Proposed defendant", case.defendant)
        doc.box("Date of treatment", fmt(case.d1, "dots4"))
        doc.p("We are instructed to investigate a possible claim. Under Annex C1 of the Protocol we set out our client's concerns in outline so that you may consider them at an early stage.")
        for t in case.story(ns, "client", skip_earlier=True):
            doc.p(t)
        doc.p("We ask that the records be preserved. A Letter of Claim may follow once our expert evidence is in.")
        sign(doc, case.firm, 2)
    elif w == 3:
        doc.p(rng.choice(["Dear Sirs", "Dear Head of Legal Services"]))
        doc.lines([f"Patient: {case.client_line()}", f"D.O.B.: {dob_line(doc, case, 'slash2')}", f"NHS No: {doc.nhs(case.nhs)}"])
        doc.p(f"We have been asked by the above patient to look into care provided by {case.defendant}. We are writing now, before our investigation is complete, so that you are aware of the complaint and can begin your own review.")
        for t in case.story(ns, "patient"):
            doc.p(t)
        doc.p("Limitation is not an immediate concern. Please confirm within fourteen days that you have received this notification and to whom we should write in future.")
        sign(doc, case.firm, 0)
    else:
        doc.p(sal)
        doc.h(f"{case.claimant} – Pre-Action Protocol for the Resolution of Clinical Disputes – Notification")
        doc.p(f"Claimant: {case.client_line()}; date of birth {dob_line(doc, case, 'ord')}; NHS number {doc.nhs(case.nhs)}.")
        doc.p(f"Defendant: {case.defendant}")
        doc.p("Please treat this letter as notification of a claim. It is not a formal Letter of Claim under paragraph 3.16 of the Protocol; that will follow.")
        for t in case.story(ns, "claimant"):
            doc.p(t)
        doc.p("We would welcome any early comments, and an acknowledgement within 14 days.")
        sign(doc, case.firm, 4)
        firm_footer(doc, case.firm)
    doc.set(document_date=when)
    claim_expect(doc, case)
    return doc


def letter_of_claim(w, prod):
    case = Case(cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("letter_of_claim", w)
    ds = rng.choice(LETTER_DATE)
    when = case.d3 + dt.timedelta(days=rng.randint(300, 1100))
    ns = uk()
    firm = case.firm
    if prod == "eml":
        doc.p(rng.choice(["Dear Claims Team,", "Dear Sir/Madam"]))
        if case.ref:
            doc.p(f"Your reference: {ref_written(case.ref)}")
            doc.ref("claim", case.ref)
        doc.p(f"Our client: {case.client_line()}, DOB {dob_line(doc, case, 'slash')}")
        doc.p(f"Please accept this email as our client's Letter of Claim against {case.defendant}, sent in accordance with paragraph 3.16 and Annex C2 of the Pre-Action Protocol for the Resolution of Clinical Disputes.")
        doc.p("Facts")
        for t in case.story(ns, "client"):
            doc.p(t)
        doc.p("Allegations. The care fell below the standard of a reasonably competent practitioner in the respects set out above. But for that breach of duty our client would have avoided the injury and loss described.")
        doc.p("We look forward to the Letter of Response within four months of this letter.")
        sign(doc, firm, 3)
        addr = f"{ascii_word(firm[5].split()[-1])}@{ascii_word(firm[0].split()[0])}law.example"
        email(doc, firm[5], addr, "Clinical Claims", "claims@resolution.example",
              f"{case.claimant} v {case.defendant} – Letter of Claim", sent_at(when, when + dt.timedelta(days=5)))
        claim_expect(doc, case)
        return doc
    firm_head(doc, firm)
    doc.lines([fmt(when, ds)])
    if w == 7 and case.sc.body == "practice":
        address_block(doc, [case.defendant, case.hospital, f"{rng.randint(1, 60)} Surgery Lane", "Bryn Teg", "BT7 2QQ"])
    else:
        org_address(doc)
    if case.ref:
        doc.lines([f"Your Ref: {ref_written(case.ref)}", f"Our Ref: {case.firm_ref}"])
        doc.ref("claim", case.ref)
    else:
        doc.lines([f"Our Ref: {case.firm_ref}"])
    doc.exp["references"]["other"].append(case.firm_ref)
    value = rng.choice([None, 45000, 120000, 275000, 850000, 1500000, 3200000])
    if w == 0:
        doc.p("Dear Sirs")
        doc.h("LETTER OF CLAIM")
        doc.lines([f"Our client: {case.client_line()}", f"Date of birth: {dob_line(doc, case, 'long')}", f"Defendant: {case.defendant}"])
        doc.p("We write in accordance with the Pre-Action Protocol for the Resolution of Clinical Disputes. This is our client's Letter of Claim.")
        doc.h("Summary of facts")
        for t in case.story(ns, "client"):
            doc.p(t)
        doc.h("Allegations of negligence")
        doc.p("The Defendant's staff failed to provide care of a reasonable standard, as set out above.")
        doc.h("Causation and injury")
        doc.p("Had reasonable care been given, the injuries described would have been avoided.")
        if value:
            doc.h("Value")
            doc.p(f"We value the claim at approximately {money(value)} on a full liability basis.")
            doc.amount(value)
        doc.p("We look forward to receiving your Letter of Response within four months.")
        sign(doc, firm)
    elif w == 1:
        doc.p("Dear Sir or Madam")
        doc.h(f"Re: {case.title()}")
        doc.p(f"We are instructed by the above named Claimant, {case.client_line()}, in connection with a claim arising from treatment at {case.hospital}.")
        doc.h("1. Chronology")
        for t in case.story(ns, "claimant"):
            doc.p(t)
        doc.h("2. Breach of duty")
        doc.p("The treatment fell below the standard of a reasonably competent body of practitioners.")
        doc.h("3. Causation")
        doc.p("On the balance of probabilities, with competent care the outcome would have been different.")
        doc.h("4. Quantum")
        if value:
            doc.p(f"General damages are likely to be in the region of {money(value)}, with special damages to follow in a schedule.")
            doc.amount(value)
        else:
            doc.p("A schedule of special damages will follow once the prognosis is known.")
        doc.p("This letter is the Letter of Claim for the purposes of the Protocol. Please pass it to the Trust's insurers.")
        sign(doc, firm, 1)
    elif w == 2:
        doc.p("Dear Sirs")
        doc.h("Protocol Letter of Claim")
        doc.box("Claimant", case.client_line())
        doc.box("Claimant's date of birth", dob_line(doc, case, "slash"))
        doc.box("NHS number", doc.nhs(case.nhs))
        doc.box("Proposed Defendant", case.defendant)
        doc.p("1. We act for the Claimant, whose claim is set out below.")
        for n, t in enumerate(case.story(ns, "claimant"), 2):
            doc.p(f"{n}. {t}")
        doc.p("4. The Claimant alleges that the Defendant was negligent and that the negligence caused the harm set out at paragraph 3.")
        if value:
            offer = value // 2
            doc.p(f"5. The Claimant makes an offer under Part 36 of the Civil Procedure Rules to accept {money(offer)} in settlement of the claim. That offer is made in a separate letter marked without prejudice save as to costs.")
            doc.amount(offer)
        sign(doc, firm, 2)
    elif w == 3:
        doc.p("Dear Sir/Madam")
        doc.lines([f"Patient: {case.patient}", f"NHS Number: {doc.nhs(case.nhs)}", f"Date of Birth: {dob_line(doc, case, 'dots4')}"])
        if case.patient != case.claimant:
            doc.lines([f"Our client: {case.client_line()}"])
        doc.h("Formal Letter of Claim – clinical negligence")
        doc.p(f"We now set out our client's claim against {case.defendant} in the form required by Annex C2 of the Protocol for clinical disputes.")
        for t in case.story(ns, "patient" if case.patient == case.claimant else "client"):
            doc.p(t)
        doc.p("The standard of care was breached and the breach caused the injury described. Our client's expert evidence supports both breach and causation.")
        doc.p("Please confirm that you have passed this letter to NHS Resolution. A response is due within four months.")
        sign(doc, firm, 0)
    elif w == 4:
        doc.p("Dear Sirs")
        doc.h(f"{case.claimant} (DOB {dob_line(doc, case, 'slash1')}) – Letter of Claim")
        doc.p(f"Further to our letter of notification dated {fmt(when - dt.timedelta(days=rng.randint(90, 300)), 'long')}, we now write with our client's Letter of Claim against {case.defendant}.")
        doc.h("What happened")
        for t in case.story(ns, "client"):
            doc.p(t)
        doc.h("What should have happened")
        doc.p("A reasonably competent practitioner would have acted on the findings at the first opportunity.")
        doc.h("Injuries and losses")
        doc.p("Our client's injuries and losses are set out in the enclosed condition and prognosis report.")
        if value:
            doc.p(f"Losses are provisionally estimated at {money(value)}.")
            doc.amount(value)
        sign(doc, firm, 1, faithfully=False)
    elif w == 5:
        doc.p("Dear Sirs")
        doc.h("LETTER OF CLAIM UNDER THE PRE-ACTION PROTOCOL")
        doc.p(f"Name: {case.client_line()}")
        doc.p(f"Address: {rng.randint(1, 99)} Rosemary Close, Hetherford, HF3 {rng.randint(1, 9)}ZZ")
        doc.postcode(doc.blocks[-1][1].rsplit(", ", 1)[1])
        doc.p(f"Defendant: {case.defendant}")
        doc.h("Chronology")
        dates = [(case.d1, "first attendance complained of"), (case.d2, "further attendance"), (case.d3, "later treatment")]
        if case.sc.earlier:
            dates.insert(0, (case.d0, "routine review (not criticised)"))
        for d, what in dates:
            doc.lines([f"{fmt(d, 'slash')}  {what}"])
        doc.h("Allegations")
        for t in case.story(ns, "client"):
            doc.p(t)
        doc.p("We invite the Defendant to admit liability within four months.")
        sign(doc, firm, 4)
    else:
        doc.p(rng.choice(["Dear Sirs", f"Dear {case.defendant.split()[0]} {case.defendant.split()[-1]}" if case.sc.body == "practice" else "Dear Colleagues"]))
        doc.h(f"Claim by {case.client_line()}")
        doc.p(f"We write on behalf of our client to bring a claim against {case.defendant}. This is the claim letter contemplated by the Pre-Action Protocol for the Resolution of Clinical Disputes, and it is copied to NHS Resolution.")
        for t in case.story(ns, "client"):
            doc.p(t)
        doc.p("We enclose copies of the relevant records and ask that you forward this letter to your indemnifier under the Clinical Negligence Scheme.")
        if value:
            doc.p(f"Our client would be prepared to consider settlement at {money(value)}.")
            doc.amount(value)
        sign(doc, firm, 3)
    doc.set(document_date=when)
    claim_expect(doc, case)
    return doc


def letter_of_response(w, prod):
    case = Case(cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("letter_of_response", w)
    when = case.d3 + dt.timedelta(days=rng.randint(500, 1300))
    loc = when - dt.timedelta(days=rng.randint(100, 125))
    ds = rng.choice(LETTER_DATE)
    ns = uk()
    firm, panel = case.firm, case.panel
    outcome = rng.choice(["Breach of duty is denied. Causation is denied.",
                          "Breach of duty is admitted in the respect identified below; causation is denied.",
                          "Liability is admitted in full and the parties should now turn to quantum.",
                          "It is denied that the care fell below a reasonable standard. Even if it did, it made no difference to the outcome."])
    sc = case.sc
    allegation = sc.brief.replace("damages for ", "").replace("damages under ", "").replace("damages arising from ", "")
    addr = [firm[0], firm[2], firm[3], firm[4]]
    if prod == "eml":
        doc.p(f"Dear {firm[5]},")
        doc.p(f"{case.claimant} v {case.defendant}")
        if case.ref:
            doc.p(f"Our reference: {ref_written(case.ref)}")
            doc.ref("claim", case.ref)
        doc.p(f"We act for the Trust and attach nothing further: this email is the Trust's Letter of Response to your Letter of Claim of {fmt(loc, ns)}, under paragraph 3.25 of the Protocol.")
        doc.p(f"Your client complains of {allegation}. The care in question began on {fmt(case.d1, ns)}.")
        doc.p(outcome)
        doc.p(f"Regards,\n{panel[5]}\n{panel[6]}, {panel[0]}")
        email(doc, panel[5], f"{ascii_word(panel[5].split()[-1])}@{ascii_word(panel[0].split()[0])}.example",
              firm[5], f"{ascii_word(firm[5].split()[0])}@{ascii_word(firm[0].split()[0])}law.example",
              f"Letter of Response – {case.claimant}", sent_at(when, when + dt.timedelta(days=3)))
        claim_expect(doc, case)
        return doc
    if w in (0, 2, 4):
        firm_head(doc, panel)
        sender = panel
    else:
        doc.h("NHS Resolution")
        doc.lines(["8 Example Square", "London EC1A 9ZZ", f"Tel: {doc.tel(phone())}"])
        doc.postcode("EC1A 9ZZ")
        sender = None
    doc.lines([fmt(when, ds)])
    address_block(doc, addr)
    if case.ref:
        doc.lines([f"Our ref: {ref_written(case.ref)}", f"Your ref: {case.firm_ref}"])
        doc.ref("claim", case.ref)
    else:
        doc.lines([f"Your ref: {case.firm_ref}"])
    doc.exp["references"]["other"].append(case.firm_ref)
    doc.p(rng.choice(["Dear Sirs", "Dear Colleagues", f"Dear {firm[5].split()[0]}"]))
    if w == 0:
        doc.h("LETTER OF RESPONSE")
        doc.lines([f"Your client: {case.claimant}", f"Our client: {case.defendant}"])
        doc.p(f"We write in response to your Letter of Claim dated {fmt(loc, ns)}. We have considered the allegations about the care provided from {fmt(case.d1, ns)}, namely {allegation}.")
        doc.p(outcome)
        doc.p("Copies of the records relied on are enclosed.")
        sign(doc, panel, 1)
    elif w == 1:
        doc.h(f"Re: {case.title()}")
        doc.p(f"We are the organisation that handles clinical negligence claims on behalf of {case.defendant}, and this letter is the Trust's response to your letter of claim of {fmt(loc, ns)}.")
        for t in case.story(ns, "claimant")[:1]:
            doc.p("The Trust's account of events: " + t[0].lower() + t[1:])
        doc.p(f"Your client alleges {allegation}. {outcome}")
        doc.lines(["Yours sincerely", "", rng.choice(["Grace Ellery", "Marek Zieliński", "Aisha Rahman"]), "Senior Claims Manager", "NHS Resolution"])
    elif w == 2:
        doc.h("Response under paragraph 3.25 of the Protocol")
        doc.p(f"Claimant: {case.claimant}")
        doc.p(f"We are instructed by {case.defendant} to respond to the Letter of Claim served on {fmt(loc, ns)}.")
        for n, t in enumerate(["The Trust accepts the chronology save where stated below.",
                               f"Allegation: {allegation}. Response: " + outcome]):
            doc.p(f"{n + 1}. {t}")
        doc.p(f"The treatment complained of began on {fmt(case.d1, ns)}; the Trust's records of that episode are enclosed.")
        sign(doc, panel, 2)
    elif w == 3:
        doc.h("Letter of Response")
        doc.p(f"Patient: {case.patient}")
        if case.patient != case.claimant:
            doc.p(f"Your client: {case.claimant}")
        doc.p(f"Thank you for your client's Letter of Claim dated {fmt(loc, ns)} against {case.defendant}.")
        doc.p(f"We have now completed our investigation of the treatment on {fmt(case.d1, ns)} and after, including independent expert review.")
        doc.p(outcome)
        doc.p("If your client intends to issue proceedings, please serve them on the Trust's nominated solicitors.")
        doc.lines(["Yours faithfully", "", "Clinical Claims Team", "NHS Resolution"])
    elif w == 4:
        doc.h(f"{case.claimant} – Letter of Response")
        doc.p(f"We act for the Defendant, {case.defendant}, and respond to the Letter of Claim of {fmt(loc, ns)}.")
        doc.p("Allegations and responses")
        doc.p(f"(a) Your client seeks {allegation}. " + outcome)
        offer = rng.choice([15000, 40000, 95000])
        doc.p(f"Without admission of liability and to avoid the costs of litigation, the Defendant offers {money(offer)} in full and final settlement, open for 21 days.")
        doc.amount(offer)
        doc.p(f"The care in question started on {fmt(case.d1, ns)}.")
        sign(doc, panel, 1)
    else:
        doc.p(f"Your client: {case.claimant} – Our client: {case.defendant}")
        doc.p(f"We refer to your letter of claim dated {fmt(loc, ns)}. The four-month period for a response was extended by agreement to today's date.")
        doc.p(f"The treatment under criticism took place on {fmt(case.d1, ns)} and later. {outcome}")
        doc.p("The Trust's investigation report and the relevant policies are enclosed.")
        doc.lines(["Yours faithfully", "", "NHS Resolution", "on behalf of the Trust"])
    doc.set(document_date=when)
    claim_expect(doc, case, codes=w not in (3, 5))
    return doc


# ---------------------------------------------------------------------------------------
# Court documents: the N1 claim form's boxes, pleadings with their heading, orders.

def parties_heading(doc, case, court, caps, claimant_label="Claimant"):
    c = case.claimant.upper() if caps else case.claimant
    d = case.defendant.upper() if caps else case.defendant
    doc.lines([f"Claim No. {court}" if rng.random() < 0.5 else f"Claim number: {court}"])
    doc.ref("court", court)
    doc.h(rng.choice(["IN THE HIGH COURT OF JUSTICE", "IN THE HIGH COURT OF JUSTICE KING'S BENCH DIVISION"]) if court[:2] in ("KB", "QB")
          else f"IN THE COUNTY COURT AT {rng.choice(['MARLBURY', 'TEWFORD', 'RIDSDALE', 'CRESTHAVEN'])}")
    doc.lines(["BETWEEN:", c, f"{claimant_label}", "-and-", d, "Defendant"])


def claim_form(w, prod):
    case = Case(cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("claim_form", w)
    issued = case.d3 + dt.timedelta(days=rng.randint(700, 1200))
    court = court_number("kb" if w in (1, 4) else "cc")
    value = rng.choice([50000, 150000, 300000, 1000000])
    fee = {50000: 2500, 150000: 7500, 300000: 10000, 1000000: 10000}[value]
    ds = rng.choice(["slash", "long", "dots4"])
    pc = f"HF{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice('ABDEFG')}{rng.choice('HJLNPQ')}"
    caddr = [f"{rng.randint(2, 180)} Larch Avenue", "Hetherford", pc]
    doc.postcode(pc)
    if w in (0, 2, 3):
        doc.h("Claim Form")
        doc.box("In the", "County Court Money Claims Centre" if w != 3 else "County Court at Tewford")
        doc.box("Claim no.", court)
        doc.box("Issue date", fmt(issued, ds))
        doc.box("Claimant(s) name(s) and address(es) including postcode", ", ".join([case.claimant] + caddr))
        doc.box("Defendant(s) name and address(es) including postcode", f"{case.defendant}, {case.hospital}, Infirmary Road")
        if w == 3:
            doc.box("Second Defendant", "Dr Imran Saleh, c/o the First Defendant")
            doc.exp["parties"]["defendants"] = None
        doc.box("Brief details of claim", case.brief() + (f", the care complained of having begun on {fmt(case.d1, ds)}." if w != 2 else "."))
        doc.box("Value", f"The Claimant expects to recover more than {money(value, 'comma')}.")
        doc.box("Amount claimed", "To be assessed")
        doc.box("Court fee", money(fee, "pence"))
        doc.box("Legal representative's costs", "To be assessed")
        doc.box("Claimant's or claimant's legal representative's address to which documents should be sent",
                f"{case.firm[0]}, {case.firm[2]}, {case.firm[3]}, {case.firm[4]}. Ref: {case.firm_ref}")
        doc.postcode(case.firm[4])
        doc.p("Statement of truth: The Claimant believes that the facts stated in this claim form are true.")
        doc.lines([f"Signed: {case.firm[5]}, {case.firm[6]}, {case.firm[0]}", "Claimant's legal representative"])
        doc.ref("court", court)
        doc.amount(value)
        doc.amount(fee)
        solicitor = True
    else:
        doc.h(rng.choice(["CLAIM FORM (CPR Part 7)", "Claim Form", "CLAIM FORM"]))
        doc.lines(["In the High Court of Justice" if w in (1, 4) else "In the County Court", "King's Bench Division" if w in (1, 4) else "",
                   f"Claim No. {court}", f"Date of issue: {fmt(issued, ds)}"])
        doc.ref("court", court)
        doc.lines(["Claimant", case.client_line(), *caddr])
        doc.lines(["Defendant", case.defendant])
        doc.p("Brief details of claim")
        doc.p(case.brief() + f". The treatment complained of took place on and after {fmt(case.d1, ds)}.")
        doc.p("Value")
        if w == 4:
            doc.p(f"The Claimant expects to recover more than £{value // 1000},000. The claim includes a claim for personal injury and the Claimant expects to recover more than £1,000 for pain, suffering and loss of amenity.")
            doc.amount(value)
            doc.amount(1000)
        else:
            doc.p(f"The Claimant's claim is for damages limited to {money(value, 'comma')}.")
            doc.amount(value)
        solicitor = w == 5
        if solicitor:
            doc.p(f"Claimant's legal representative: {case.firm[0]}")
        doc.p(f"Dated {fmt(issued, 'long')}")
    doc.set(document_date=issued)
    claim_expect(doc, case, solicitor=solicitor, incident=w != 2)
    if w == 3:
        doc.exp["parties"]["defendants"] = [case.defendant, "Dr Imran Saleh"]
    return doc


def statement_of_truth(doc, case, who, firm, when, ds):
    doc.h("STATEMENT OF TRUTH")
    doc.p(f"The {who} believes that the facts stated in this {'Particulars of Claim' if who == 'Claimant' else 'Defence'} are true. "
          f"The {who} understands that proceedings for contempt of court may be brought against anyone who makes a false statement in a document verified by a statement of truth without an honest belief in its truth.")
    doc.lines([f"Signed: {firm[5]}", f"{firm[6]}, {firm[0]}", f"{'Claimant' if who == 'Claimant' else 'Defendant'}'s legal representative",
               f"Dated: {fmt(when, ds)}"])


def particulars(w, prod):
    case = Case(cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("particulars_of_claim", w)
    court = court_number("kb" if w % 2 == 0 else "cc")
    when = case.d3 + dt.timedelta(days=rng.randint(700, 1200))
    ns = uk()
    parties_heading(doc, case, court, caps=w in (0, 2, 4))
    doc.h(rng.choice(["PARTICULARS OF CLAIM", "AMENDED PARTICULARS OF CLAIM" if w == 2 else "PARTICULARS OF CLAIM", "Particulars of Claim"]))
    n = 1
    body = "NHS trust" if case.sc.body != "practice" else "general practitioner"
    doc.p(f"{n}. The Claimant, {case.client_line()}, was born on {dob_line(doc, case, 'long')}." if case.sc.patient != "deceased"
          else f"{n}. The Claimant is the personal representative of the estate of {case.patient}, who was born on {dob_line(doc, case, 'long')} and died as set out below. The Claimant brings this claim on behalf of the estate and the dependants.")
    n += 1
    doc.p(f"{n}. The Defendant is a {body} responsible for the care described below and owed the Claimant a duty to exercise reasonable skill and care.")
    for t in case.story(ns, "claimant"):
        n += 1
        doc.p(f"{n}. {t}")
    doc.h("PARTICULARS OF NEGLIGENCE" if w != 3 else "Breach of duty")
    doc.p(f"{n + 1}. The Defendant, by its servants or agents, was negligent in that it caused or permitted {case.brief().replace('damages for ', '').replace('damages arising from ', '').replace('damages under ', '')}.")
    doc.h("CAUSATION AND LOSS")
    doc.p(f"{n + 2}. But for the negligence the Claimant would have avoided the injury. A schedule of loss and the medical report of {rng.choice(EXPERTS)[0]} are served with these Particulars.")
    val = rng.choice([None, 250000, 500000, 1200000])
    if val:
        doc.p(f"{n + 3}. The Claimant's losses are provisionally valued at {money(val)}.")
        doc.amount(val)
    doc.p("AND THE CLAIMANT CLAIMS damages, and interest under section 35A of the Senior Courts Act 1981." if court[:2] in ("KB", "QB")
          else "AND THE CLAIMANT CLAIMS damages and interest under section 69 of the County Courts Act 1984.")
    statement_of_truth(doc, case, "Claimant", case.firm, when, rng.choice(["long", "slash", "ord"]))
    if w == 5:
        doc.p(f"Served by {case.firm[0]}, Solicitors for the Claimant, {case.firm[2]}, {case.firm[3]} {case.firm[4]}")
        doc.postcode(case.firm[4])
    doc.set(document_date=when)
    claim_expect(doc, case)
    return doc


def defence(w, prod):
    case = Case(cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("defence", w)
    court = court_number()
    when = case.d3 + dt.timedelta(days=rng.randint(800, 1300))
    served = when - dt.timedelta(days=rng.randint(28, 60))
    ns = uk()
    parties_heading(doc, case, court, caps=w in (1, 3, 5))
    if case.ref and w in (0, 2, 5):
        doc.lines([f"Defendant's reference: {ref_written(case.ref)}"])
        doc.ref("claim", case.ref)
    doc.h(rng.choice(["DEFENCE", "DEFENCE", "Defence", "DEFENCE OF THE DEFENDANT"]))
    doc.p(f"1. This Defence responds to the Particulars of Claim served on {fmt(served, ns)}. Unless otherwise stated, references to paragraph numbers are to the paragraphs of the Particulars of Claim.")
    doc.p("2. Paragraphs 1 and 2 are admitted. The Defendant owed a duty of care in the terms of the law, not as pleaded.")
    first = case.story(ns, "claimant")[0]
    if w == 3:
        doc.p(f"3. The Claimant's claim is statute barred. The treatment complained of took place on {fmt(case.d1, ns)}, more than three years before the claim form was issued, and the Defendant relies on sections 11 and 14 of the Limitation Act 1980.")
    else:
        doc.p(f"3. As to paragraph 3, it is admitted that: {first[0].lower() + first[1:]} Save as aforesaid, paragraph 3 is not admitted.")
    doc.p(f"4. It is denied that the Defendant caused or permitted {case.brief().replace('damages for ', '').replace('damages arising from ', '').replace('damages under ', '')}, whether as alleged or at all.")
    if w == 4:
        doc.p("5. Breach of duty is admitted in that the findings should have been acted upon sooner. Causation is denied: on the balance of probabilities the outcome would have been the same.")
    else:
        doc.p("5. The Claimant is required to prove causation and the injury, loss and damage claimed.")
    doc.p("6. The Claimant's Schedule of Loss is not agreed; the Defendant will serve a Counter-Schedule.")
    doc.h("STATEMENT OF TRUTH")
    doc.p("The Defendant believes that the facts stated in this Defence are true. I am duly authorised by the Defendant to sign this statement.")
    if w == 2:
        doc.lines(["Signed: Clinical Claims Team, NHS Resolution, on behalf of the Defendant", f"Dated this {case.d1.day if False else when.day}{suffix(when.day)} day of {when:%B %Y}"])
    else:
        doc.lines([f"{case.panel[0]}", "Solicitors for the Defendant", f"Dated: {fmt(when, rng.choice(['long', 'slash', 'ord']))}"])
    doc.set(document_date=when)
    claim_expect(doc, case, solicitor=False, incident=True)
    return doc


def court_order(w, prod):
    case = Case(cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("court_order", w)
    court = court_number("kb" if w in (1, 2, 3) else "cc")
    made = case.d3 + dt.timedelta(days=rng.randint(900, 1400))
    heard = made - dt.timedelta(days=rng.randint(0, 6))
    judge = rng.choice(["District Judge Okonjo", "Deputy District Judge Faraday", "Master Cavendish", "His Honour Judge Lyle", "Deputy Master Ní Fhlannagáin"])
    ds = rng.choice(["long", "ord", "slash"])
    if w == 4:
        doc.h("General Form of Judgment or Order")
        doc.box("In the", "County Court at Marlbury")
        doc.box("Claim Number", court)
        doc.box("Date", fmt(made, "slash"))
        doc.box("Claimant", case.claimant)
        doc.box("Defendant", case.defendant)
        doc.box("Claimant's Ref", case.firm_ref)
        doc.exp["references"]["other"].append(case.firm_ref)
        if case.ref:
            doc.box("Defendant's Ref", case.ref)
            doc.ref("claim", case.ref)
        doc.ref("court", court)
        doc.p(f"Before {judge} sitting at the County Court at Marlbury, Tribunal Buildings, on {fmt(heard, ds)}.")
    else:
        parties_heading(doc, case, court, caps=w != 5)
        if case.ref and w in (1, 3):
            doc.lines([f"Defendant's reference: {case.ref}"])
            doc.ref("claim", case.ref)
        doc.h(rng.choice(["ORDER", "ORDER", "CONSENT ORDER" if w == 1 else "ORDER"]))
        doc.p(f"BEFORE {judge.upper()} sitting at {rng.choice(['the Royal Courts of Justice, Strand, London', 'Marlbury Justice Centre', 'Tewford County Court'])} on {fmt(heard, ds)}")
    amounts = []
    if w == 0:
        doc.p("UPON the Claimant's application dated " + fmt(heard - dt.timedelta(days=30), ds) + " for an extension of time")
        doc.p("AND UPON hearing counsel for the Claimant and the solicitor for the Defendant")
        doc.p("IT IS ORDERED THAT:")
        doc.p(f"1. The time for service of the Claimant's expert evidence on causation is extended to 4pm on {fmt(made + dt.timedelta(days=56), ds)}.")
        doc.p("2. The costs of the application are the Claimant's in the case.")
    elif w == 1:
        doc.p("BY CONSENT")
        doc.p("IT IS ORDERED THAT:")
        doc.p(f"1. The time for the Defendant to file and serve its Defence is extended to {fmt(made + dt.timedelta(days=42), ds)}.")
        doc.p("2. There be no order as to costs.")
        doc.lines(["We consent to an order in the above terms", f"{case.firm[0]}, Solicitors for the Claimant", f"{case.panel[0]}, Solicitors for the Defendant"])
    elif w == 2:
        doc.p("UPON the parties having agreed terms of settlement")
        doc.p("IT IS ORDERED THAT all further proceedings in this claim be stayed, except for the purpose of carrying the terms set out in the Schedule into effect. Liberty to apply.")
        doc.h("SCHEDULE")
        a = rng.choice([85000, 240000, 610000])
        c = rng.choice([32500, 47800])
        doc.p(f"1. The Defendant shall pay the Claimant {money(a)} in full and final settlement of the claim within 28 days.")
        doc.p(f"2. The Defendant shall pay the Claimant's costs, summarily assessed at {money(c)}.")
        amounts = [a, c]
    elif w == 3:
        a = rng.choice([125000, 390000, 2250000])
        doc.p("UPON the Court being asked to approve a settlement on behalf of a Claimant who is a child or protected party")
        doc.p("AND UPON reading the advice of counsel")
        doc.p(f"IT IS ORDERED THAT the settlement of the Claimant's claim in the sum of {money(a)} be approved, and that the sum be invested for the benefit of the Claimant in the Court Funds Office.")
        amounts = [a]
    elif w == 4:
        doc.p("IT IS ORDERED THAT")
        doc.p(f"1. The claim is allocated to the multi-track. 2. Disclosure by list by {fmt(made + dt.timedelta(days=60), ds)}. 3. Witness statements exchanged by {fmt(made + dt.timedelta(days=120), ds)}. 4. The trial will be listed for five days in a window starting on {fmt(made + dt.timedelta(days=400), ds)}.")
    else:
        doc.p("UPON the Defendant having failed to comply with paragraph 3 of the order dated " + fmt(heard - dt.timedelta(days=90), ds))
        doc.p("IT IS ORDERED THAT unless the Defendant provides its list of documents by 4pm on " + fmt(made + dt.timedelta(days=14), ds) + ", the Defence shall be struck out.")
    for a in amounts:
        doc.amount(a)
    if w != 4:
        doc.lines([rng.choice([f"Dated {fmt(made, 'long')}", f"Dated this {made.day}{suffix(made.day)} day of {made:%B %Y}", f"Date of order: {fmt(made, 'slash')}"])])
    doc.set(document_date=made)
    claim_expect(doc, case, solicitor=w == 1, codes=False, incident=False)
    return doc


# ---------------------------------------------------------------------------------------
# Offers, expert reports, records, early notification.

def settlement_offer(w, prod):
    case = Case(cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("settlement_offer", w)
    when = case.d3 + dt.timedelta(days=rng.randint(700, 1500))
    ds = rng.choice(LETTER_DATE)
    amount = rng.choice([17500, 62000, 145000, 387500, 1100000, 2750000])
    court = court_number() if rng.random() < 0.6 else None
    firm, panel = case.firm, case.panel
    from_claimant = w in (0, 2, 4)
    sender = firm if from_claimant else panel
    if prod == "eml":
        doc.p(f"Dear {firm[5].split()[0]},")
        doc.p(f"{case.title()}" + (f" – Claim No {court}" if court else ""))
        if court:
            doc.ref("court", court)
        if case.ref:
            doc.p(f"NHS Resolution reference {case.ref}")
            doc.ref("claim", case.ref)
        doc.p(f"Without prejudice save as to costs. I am authorised to offer your client {money(amount)} in settlement of the whole claim, inclusive of interest, net of any CRU and of NHS charges, and with costs to be assessed if not agreed. This is a Part 36 offer; the relevant period is 21 days.")
        doc.amount(amount)
        doc.p(f"Best wishes\n{rng.choice(['Grace Ellery', 'Marek Zieliński', 'Aisha Rahman'])}\nClaims Manager, NHS Resolution")
        email(doc, "NHS Resolution claims", "claims@resolution.example", firm[5],
              f"{ascii_word(firm[5].split()[0])}@{ascii_word(firm[0].split()[0])}law.example",
              f"Offer – {case.claimant}", sent_at(when, when + dt.timedelta(days=4)))
        claim_expect(doc, case, codes=False, incident=False)
        return doc
    firm_head(doc, sender)
    doc.lines([fmt(when, ds)])
    other = panel if from_claimant else firm
    address_block(doc, [other[0], other[2], other[3], other[4]])
    refs = []
    if court:
        refs.append(f"Claim No: {court}")
        doc.ref("court", court)
    if case.ref and not from_claimant:
        refs.append(f"Our ref: {ref_written(case.ref)}")
        doc.ref("claim", case.ref)
    refs.append(f"{'Our' if from_claimant else 'Your'} ref: {case.firm_ref}")
    doc.exp["references"]["other"].append(case.firm_ref)
    doc.lines(refs)
    doc.p(rng.choice(["Dear Sirs", "Dear Colleagues"]))
    if w in (0, 1, 3):
        doc.h("WITHOUT PREJUDICE SAVE AS TO COSTS")
    if w == 0:
        doc.h("CLAIMANT'S PART 36 OFFER")
        doc.p(f"Re: {case.title()}")
        doc.p(f"Our client, {case.claimant}, offers to accept {money(amount)} in full and final settlement of the whole of the claim. This offer is made under Part 36 of the Civil Procedure Rules and is intended to have the consequences of Part 36. The relevant period is 21 days from service of this letter.")
    elif w == 1:
        doc.h("DEFENDANT'S PART 36 OFFER")
        doc.p(f"Your client: {case.claimant}")
        doc.p(f"Our client, {case.defendant}, offers to pay {money(amount)} in settlement of the whole of the claim. The offer takes into account any counterclaim, is inclusive of interest, and is made net of recoverable benefits. The relevant period is 21 days.")
    elif w == 2:
        doc.h("Offer to settle – Calderbank")
        doc.p(f"Claimant: {case.claimant}  Defendant: {case.defendant}")
        doc.p(f"This offer is made without prejudice save as to costs, not under Part 36. Our client will accept {money(amount)} plus reasonable costs, in full and final settlement. It remains open for 28 days, after which we will rely on it on the question of costs.")
    elif w == 3:
        annual = rng.choice([42000, 68500, 91000])
        doc.h("Offer of settlement: lump sum and periodical payments")
        doc.p(f"Re: {case.client_line()}")
        doc.p(f"The Defendant, {case.defendant}, offers to settle the claim on the basis of a lump sum of {money(amount)} together with periodical payments for care and case management of {money(annual)} a year, index-linked to ASHE 6115 and payable for life.")
        doc.amount(amount)
        doc.amount(annual)
        amount = None
        doc.p("This offer is made under Part 36 as modified by rule 36.18.")
    elif w == 4:
        doc.h("Notice of offer to settle – Part 36 (form N242A)")
        doc.box("Claimant", case.claimant)
        doc.box("Defendant", case.defendant)
        doc.box("Offer made by", f"the Claimant, through {firm[0]}")
        doc.box("Terms", f"to accept the sum of {money(amount)} in settlement of the whole of the claim")
        doc.box("Relevant period", "21 days")
    else:
        doc.h("Offer")
        doc.p(f"{case.title()}")
        doc.p(f"Our client is prepared, without admission of liability, to pay your client {money(amount)} in full and final settlement inclusive of interest and costs. This offer is open for 14 days and is made without prejudice save as to costs.")
    if amount:
        doc.amount(amount)
    sign(doc, sender, rng.randint(0, 2))
    doc.set(document_date=when)
    claim_expect(doc, case, codes=False, incident=False)
    return doc


def expert_report(w, prod):
    case = Case(cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("expert_report", w)
    when = case.d3 + dt.timedelta(days=rng.randint(300, 900))
    exam = when - dt.timedelta(days=rng.randint(14, 60))
    name, title = rng.choice(EXPERTS)
    ns = uk()
    for_defendant = w == 4
    instructing = case.panel[0] if for_defendant else case.firm[0]
    kind = ["Report on Breach of Duty and Causation", "Condition and Prognosis Report", "Report on Causation",
            "Joint Statement of the Experts", "Expert Report", "Medico-Legal Report"][w]
    if w in (0, 4):
        doc.h(kind.upper())
        doc.box("Claimant", case.client_line())
        doc.box("Date of birth", dob_line(doc, case, "slash"))
        doc.box("Instructing solicitors", f"{instructing} (for the {'Defendant' if for_defendant else 'Claimant'})")
        doc.box("Defendant", case.defendant)
        if case.ref:
            doc.box("Reference", case.ref)
            doc.ref("claim", case.ref)
        doc.box("Expert", f"{name}, {title}")
        doc.box("Date of report", fmt(when, "long"))
    elif w == 3:
        court = court_number("kb")
        doc.lines([f"Claim No. {court}"])
        doc.ref("court", court)
        doc.h(kind.upper())
        doc.p(f"{case.claimant} v {case.defendant}")
        doc.p(f"Prepared following the discussion between {name} ({title}, for the Claimant) and Dr Lise Andersen ({title}, for the Defendant) on {fmt(exam, ns)}.")
        doc.p(f"Date: {fmt(when, 'slash')}")
    else:
        doc.h(name)
        doc.lines([title, f"{rng.randint(1, 40)} Harley Row, London W1 9ZZ" if rng.random() < 0.5 else "Consulting rooms, The Old Rectory, Wexcombe WX1 1AA"])
        doc.postcode(doc.blocks[-2][1].rsplit(" ", 2)[-2] + " " + doc.blocks[-2][1].rsplit(" ", 1)[-1])
        doc.h(kind)
        doc.lines([f"Patient: {case.patient}" if w == 5 else f"Re: {case.client_line()}", f"Date of birth: {dob_line(doc, case, rng.choice(['slash', 'long', 'dots4']))}",
                   f"Date of examination: {fmt(exam, 'long')}" if w == 1 else f"Instructed by: {instructing}",
                   f"Report dated: {fmt(when, rng.choice(['long', 'ord', 'slash']))}"])
        if w == 5 and case.patient != case.claimant:
            doc.lines([f"Claimant: {case.claimant}"])
        if w == 1:
            doc.lines([f"Instructed by: {instructing}"])
        doc.lines([f"Defendant: {case.defendant}"])
    doc.h("1. Introduction")
    doc.p(f"I have been asked by {instructing} to report on the care given by {case.defendant}. I have read the records listed in the appendix.")
    doc.h("2. History")
    for t in case.story(ns, "claimant"):
        doc.p(t)
    doc.h("3. Opinion")
    doc.p(rng.choice(["In my opinion the care fell below the standard of a reasonably competent practitioner in the specialty.",
                      "I consider that no responsible body of practitioners would have acted as the treating team did.",
                      "The experts agree that, with reasonable care, the outcome would probably have been avoided."]))
    doc.h("4. Declaration")
    doc.p("I understand that my duty is to the court and I have complied with it. I am aware of the requirements of Part 35 of the Civil Procedure Rules, Practice Direction 35 and the Guidance for the Instruction of Experts in Civil Claims. I confirm that I have made clear which facts and matters referred to in this report are within my own knowledge and which are not.")
    doc.lines([f"Signed: {name}", f"Dated: {fmt(when, 'long')}"])
    doc.set(document_date=when)
    claim_expect(doc, case, solicitor=not for_defendant)
    return doc


def medical_records(w, prod):
    case = Case(cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("medical_records", w)
    gp = case.sc.body == "practice" or w == 1
    body = case.hospital if case.sc.body == "practice" else (rng.choice(GPS)[1] if w == 1 else case.defendant)
    printed = case.d3 + dt.timedelta(days=rng.randint(200, 800))
    hosp_no = not_nhs_number()
    nhs = case.nhs
    name = case.patient
    first = case.d1
    if w == 0:
        doc.h(f"{body}")
        doc.lines(["CONTINUATION SHEET – MEDICAL NOTES", f"Surname: {name.split()[-1].upper()}   Forename(s): {' '.join(name.split()[:-1])}",
                   f"Hospital No: {hosp_no}   NHS No: {doc.nhs(nhs)}", f"DOB: {dob_line(doc, case, 'slash')}"])
        entries = [(first, "Admitted. History taken. Obs: HR 104, BP 98/60, T 38.2. Plan: bloods, cultures, review by registrar."),
                   (first + dt.timedelta(days=1), "Ward round (consultant). Improving. Continue current plan."),
                   (first + dt.timedelta(days=3), "Medically fit for discharge. TTO prescribed. GP letter sent.")]
        for d, t in entries:
            doc.lines([f"{fmt(d, 'slash')} {rng.randint(8, 20):02d}:{rng.randint(0, 59):02d}", t, "Signed: Dr M. Adebayo, FY2, GMC 7" + str(rng.randint(100000, 999999))])
        doc.p(f"Printed {fmt(printed, 'slash')} by Health Records")
    elif w == 1:
        doc.h(f"{body} – Patient Record Summary")
        doc.lines([f"Name: {name}", f"Date of Birth: {dob_line(doc, case, 'mon')}", f"NHS Number: {doc.nhs(nhs)}",
                   f"Usual GP: Dr A. Pembury", f"Printed on: {fmt(printed, 'mon')}"])
        doc.h("Consultations")
        for k in range(3):
            d = first + dt.timedelta(days=k * rng.randint(10, 40))
            doc.lines([f"{fmt(d, 'mon')}  Surgery consultation  Dr A. Pembury",
                       rng.choice(["History: cough 3/52, no haemoptysis. Examination: chest clear. Plan: safety-netting advice given.",
                                   "History: low mood. PHQ-9 14. Plan: talking therapies self-referral, review 2/52.",
                                   "History: abdominal pain. Examination: soft, non-tender. Plan: bloods, review with results."])])
        doc.h("Medication")
        doc.lines(["Omeprazole 20mg capsules – one daily", "Sertraline 50mg tablets – one daily"])
    elif w == 2:
        doc.h("DISCHARGE SUMMARY")
        doc.lines([body, f"Patient: {name}", f"NHS no. {doc.nhs(nhs)}", f"DOB {dob_line(doc, case, 'dots4')}",
                   f"Date of admission: {fmt(first, 'dots4')}", f"Date of discharge: {fmt(first + dt.timedelta(days=5), 'dots4')}",
                   f"Date of letter: {fmt(printed, 'dots4')}"])
        doc.p("Diagnosis: community acquired pneumonia. Treatment: IV co-amoxiclav then oral. Follow-up: chest X-ray in 6 weeks via GP.")
    elif w == 3:
        doc.h("EMERGENCY DEPARTMENT RECORD")
        doc.lines([body, f"Attendance: {fmt(first, 'slash')} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}", f"Name: {name}", f"DOB: {dob_line(doc, case, 'slash')}",
                   f"NHS: {doc.nhs(nhs)}", f"MRN: {hosp_no}"])
        doc.p("Presenting complaint: fall. Triage category 3. Seen by ED doctor. X-ray: no bony injury seen. Discharged with advice.")
        doc.p(f"Record printed {fmt(printed, 'slash')}.")
    elif w == 4:
        doc.h("Maternity record – intrapartum summary")
        doc.lines([body, f"Mother: {name}", f"NHS number: {doc.nhs(nhs)}", f"Date of birth: {dob_line(doc, case, 'slash')}", f"Gravida 2 Para 1"])
        doc.p(f"{fmt(first, 'slash')} 06:20 Admitted to delivery suite, 5 cm dilated. CTG commenced.")
        doc.p(f"{fmt(first, 'slash')} 09:45 CTG reviewed by midwife: classified as normal.")
        doc.p(f"Copy produced from the electronic maternity record on {fmt(printed, 'long')}.")
    else:
        doc.h(body)
        doc.lines([f"Department of {rng.choice(['Orthopaedics', 'Gastroenterology', 'Neurology', 'Surgery'])}", f"Clinic date: {fmt(first, 'long')}",
                   f"Dictated: {fmt(first + dt.timedelta(days=2), 'long')}   Typed: {fmt(printed, 'long')}"])
        doc.lines(["Dr A. Pembury", "Millbrook Surgery"])
        doc.p(f"Dear Dr Pembury")
        doc.p(f"Re: {name}, DOB {dob_line(doc, case, 'slash')}, NHS No {doc.nhs(nhs)}")
        doc.p("I reviewed this patient in clinic today. Examination was unremarkable and I have arranged an MRI scan. I will see the patient again with the result.")
        doc.lines(["Yours sincerely", "", "Mr J. Faulkner, Consultant"])
    doc.set(document_date=printed, incident_date=first, claimant=name, defendants=[body])
    return doc


def early_notification(w, prod):
    case = Case(sc=S[0], cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("early_notification", w)
    mother = case.mother
    born = case.d2
    when = born + dt.timedelta(days=rng.randint(14, 80))
    trust, site = case.defendant, case.hospital
    enref = claim_ref("CNST") if w in (2, 5) else None
    summary = (f"The baby was born on {fmt(born, uk())} at {site} following a prolonged second stage and a pathological CTG. "
               "Cord gases showed a metabolic acidosis; the baby was transferred to the neonatal unit, underwent therapeutic hypothermia (cooling) for 72 hours, "
               "and the MRI scan on day 7 was reported as showing hypoxic ischaemic encephalopathy (brain injury).")
    if prod == "eml":
        doc.p("Dear Early Notification team,")
        doc.p(f"Please find below our notification under the Early Notification scheme for a baby born at {site}.")
        doc.p(f"Mother's name: {mother}   Mother's NHS number: {doc.nhs(case.nhs)}")
        doc.p(summary)
        doc.p("The case has been referred to Maternity and Newborn Safety Investigations (MNSI) and the family have been informed under the duty of candour.")
        doc.p(f"Kind regards\nJoanna Whitfield\nMaternity Governance Lead, {trust}")
        email(doc, "Joanna Whitfield", f"j.whitfield@{ascii_word(trust.split()[0])}.nhs.example", "Early Notification", "en@resolution.example",
              f"EN submission – {site}", sent_at(when, when + dt.timedelta(days=3)))
    else:
        if w in (0, 4):
            doc.h("Early Notification Scheme – Notification Form")
            doc.box("Member (trust)", trust)
            doc.box("Site", site)
            doc.box("Mother's name", mother)
            doc.box("Mother's NHS number", doc.nhs(case.nhs))
            doc.box("Baby's date of birth", fmt(born, "slash"))
            doc.box("Criteria met", "Term baby, therapeutic cooling, abnormal MRI")
            doc.box("Date of submission", fmt(when, "slash"))
            doc.p(summary)
        else:
            doc.h(trust)
            doc.lines(["Maternity Governance", site, fmt(when, rng.choice(LETTER_DATE))])
            org_address(doc)
            if enref:
                doc.lines([f"NHS Resolution reference: {ref_written(enref)}"])
                doc.ref("claim", enref)
            doc.p("Dear Colleagues")
            doc.h(f"Re: Early Notification – {mother}" if w != 5 else f"Update on Early Notification case – {mother}")
            if w == 5:
                doc.p(f"Further to our notification of {fmt(when - dt.timedelta(days=rng.randint(30, 60)), 'long')}, we write with the outcome of the Trust's review.")
            doc.p(summary)
            if w == 3:
                doc.p("The duty of candour conversation took place on the neonatal unit and was followed up in writing. MNSI have accepted the referral.")
            doc.lines(["Yours faithfully", "", "Dr Olusegun Bakare", "Clinical Director, Women's Services"])
    doc.set(document_date=when if prod != "eml" else doc.exp["document_date"], incident_date=born, claimant=mother, defendants=[trust],
            scheme="CNST", specialty="Obstetrics", injury="Brain damage")
    if enref:
        doc.set(case_ref=enref)
    return doc


# ---------------------------------------------------------------------------------------
# FOI requests and internal reviews, primary care appeals, performance concerns.

FOI_ASKS = [
    "the number of clinical negligence claims notified to you in each year from 2019/20 to 2023/24 that relate to maternity care",
    "the total damages paid on claims involving retained surgical swabs since 2018",
    "how many claims against ambulance trusts concerned delayed responses, for each of the last five years",
    "the number of claims in which damages of more than £1 million were paid in 2023/24",
    "a copy of your current policy on the use of external legal panels, and the names of the firms on the panel",
    "the amount paid in claimant legal costs in 2022/23, broken down by scheme",
    "the number of Early Notification scheme cases that led to an admission of liability",
    "the ten specialties with the highest number of claims received in 2023/24",
]


def requester_pick(prod, us=False):
    if us:
        return rng.choice(US_REQUESTERS)
    if prod in CJK_OK and rng.random() < 0.2:
        return rng.choice(CJK_REQUESTERS)
    return rng.choice(REQUESTERS)


def req_address(name):
    base = ascii_word(name.split()[0]) or "requester"
    return rng.choice([f"{base}.{rng.randint(1, 99)}@mail.example", f"{base}{rng.randint(1, 999)}@post.example"])


def foi_request(w, prod):
    doc = Doc("foi_request", w)
    us = w == 6
    who = requester_pick(prod, us)
    ask = rng.choice(FOI_ASKS)
    when = sent_at(dt.date(2023, 1, 5), dt.date(2025, 11, 28))
    addr = req_address(who)
    if "£1 million" in ask:
        doc.amount(1000000)
    if w == 0:
        doc.p("Hi,")
        doc.p(f"Could you tell me {ask}? A spreadsheet would be great.")
        doc.p(f"Thanks\n{who.split()[0]}" if " " in who else f"Thanks\n{who}")
        if " " in who:
            doc.p(who)
        email(doc, who, addr, None, "foi@resolution.example", "Question", when)
    elif w == 1:
        doc.p("Dear Sir or Madam,")
        doc.p(f"I write to make a request for information under section 1(1) of the Freedom of Information Act 2000. I should be grateful if you would provide {ask}.")
        doc.p("If any part of this request is refused, please explain which exemption applies and why, and release the remainder. I would prefer to receive the information by email.")
        doc.p(f"Yours faithfully,\n\n{who}")
        email(doc, who, addr, "Freedom of Information Officer", "foi@resolution.example", "Freedom of Information Act request", when)
    elif w == 2:
        n = rng.randint(800000, 999999)
        doc.p("Dear NHS Resolution,")
        doc.p(f"Please send me {ask}.")
        doc.p(f"Yours faithfully,\n\n{who}")
        doc.p("-------------------------------------------------------------------")
        doc.p(f"Please use this email address for all replies to this request:\nrequest-{n}-{rng.randint(10**7, 10**8 - 1):x}@whatdotheyknow.example")
        doc.p("Is NHS Resolution the wrong authority? Let us know.")
        doc.mail(doc.blocks[-2][1].split("\n")[1])
        email(doc, who, f"request-{n}@whatdotheyknow.example", "FOI requests at NHS Resolution", "foi@resolution.example",
              f"Freedom of Information request - {ask.split(',')[0][:50]}", when)
        doc.mail(f"request-{n}@whatdotheyknow.example")
    elif w == 3:
        d = when.date()
        doc.lines([who, f"{rng.randint(1, 90)} Weaver's Close", "Stanbridge", "SB2 6UP", f"{fmt(d, rng.choice(LETTER_DATE))}"])
        doc.postcode("SB2 6UP")
        doc.lines(["Freedom of Information Officer", "NHS Resolution", "8 Example Square", "London", "EC1A 9ZZ"])
        doc.postcode("EC1A 9ZZ")
        doc.p("Dear Sir or Madam")
        doc.h("Request for information – Freedom of Information Act 2000")
        doc.p(f"I am a journalist researching patient safety. Please provide {ask}. Where figures are small, I understand they may be suppressed.")
        doc.p(f"You may contact me on {doc.tel(phone())} if anything is unclear.")
        doc.lines(["Yours faithfully", "", who])
        doc.set(document_date=d)
    elif w == 4:
        d = when.date()
        doc.h("Online request form – submission received")
        doc.box("Submitted", f"{fmt(d, 'slash')} {when:%H:%M}")
        doc.box("Type of request", "Freedom of Information")
        doc.box("Your name", who)
        doc.box("Email address", addr)
        doc.mail(addr)
        doc.box("Your request", f"I would like {ask}.")
        doc.box("Preferred format", "Email (spreadsheet)")
        doc.set(document_date=d)
    elif w == 5:
        earlier = foi_ref()
        doc.p("Dear FOI team")
        doc.p(f"Thank you for your answer to my earlier request ({foi_written(earlier)}). I would now like to ask a follow-up request under the FOI Act:")
        doc.p(f"1. {ask[0].upper() + ask[1:]};\n2. for the same period, the number of those claims that were closed with no payment.")
        doc.p(f"Best regards\n{who}\nResearch Officer, Patients for Safer Care (a registered charity)")
        email(doc, who, addr, "FOI team", "foi@resolution.example", f"New FOI request (follow-up to {earlier})", when)
        doc.ref("foi", earlier)
        doc.set(case_ref=earlier)
    elif w == 6:
        since = when.date() - dt.timedelta(days=rng.randint(400, 900))
        doc.p("Hello,")
        doc.p(f"I am a graduate student in the United States studying malpractice systems. Under your Freedom of Information law, please send {ask}, and any figures for claims closed since {fmt(since, 'us')}.")
        doc.p(f"Thank you so much,\n{who}")
        email(doc, who, addr, None, "foi@resolution.example", "Public records request", when)
    else:
        ref = foi_ref()
        doc.p("Dear FOI Officer,")
        doc.p(f"Thank you for asking me to clarify my request {foi_written(ref)}. By 'claims' I mean claims notified to NHS Resolution, not complaints, and I am asking for {ask}.")
        doc.p(f"Kind regards,\n{who}")
        email(doc, who, addr, None, "foi@resolution.example", f"RE: Clarification of your request {ref}", when)
        doc.ref("foi", ref)
        doc.set(case_ref=ref)
    doc.set(requester=who)
    return doc


def internal_review(w, prod):
    doc = Doc("foi_internal_review_request", w)
    who = requester_pick(prod)
    ref = foi_ref()
    when = sent_at(dt.date(2023, 2, 1), dt.date(2025, 11, 28))
    answered = when.date() - dt.timedelta(days=rng.randint(3, 35))
    addr = req_address(who)
    ex = rng.choice(["section 12 (cost limit)", "section 40(2) (personal information)", "section 43 (commercial interests)", "section 21 (information reasonably accessible)"])
    if w == 0:
        doc.p("Dear NHS Resolution,")
        doc.p(f"Please pass this on to the person who conducts Freedom of Information reviews.")
        doc.p(f"I am writing to request an internal review of NHS Resolution's handling of my FOI request {foi_written(ref)}. You refused it under {ex}, but gave no advice and assistance on how I might narrow it.")
        doc.p(f"Yours faithfully,\n\n{who}")
        email(doc, who, req_address(who), "FOI requests at NHS Resolution", "foi@resolution.example", f"Internal review of Freedom of Information request - {ref}", when)
    elif w == 1:
        d = when.date()
        doc.lines([who, "3 Rookery Lane", "Tewford", "TF9 2AB", fmt(d, rng.choice(LETTER_DATE))])
        doc.postcode("TF9 2AB")
        doc.lines(["The Head of Information Governance", "NHS Resolution", "8 Example Square", "London EC1A 9ZZ"])
        doc.postcode("EC1A 9ZZ")
        doc.p("Dear Head of Information Governance")
        doc.h(f"Request for internal review – your reference {foi_written(ref)}")
        doc.p(f"Your response of {fmt(answered, 'long')} withheld the information under {ex}. I do not accept that the exemption is engaged, and if it is, the public interest favours disclosure. Please review the decision.")
        doc.lines(["Yours faithfully", "", who])
        doc.set(document_date=d)
    elif w == 2:
        doc.p(f"re {foi_written(ref)} - I'm not happy with this answer at all. You've sent figures for the wrong years. Please can someone senior look at it again and do a proper review.")
        doc.p(who.split()[0] if " " in who else who)
        email(doc, None, addr, None, "foi@resolution.example", f"RE: Your FOI response {ref}", when)
        doc.exp["parties"]["requester"] = None
        who = None
    elif w == 3:
        doc.p("Dear Sir/Madam")
        doc.p(f"I refer to your reply dated {fmt(answered, uk())} to my request for information (ref {foi_written(ref)}). I ask you to reconsider the decision under your complaints and review procedure, as the Act's code of practice provides.")
        doc.p(f"The reliance on {ex} is misplaced: the figures are statistics and identify no one.")
        doc.p(f"Regards\n{who}")
        email(doc, who, addr, None, "foi@resolution.example", "Reconsideration of decision", when)
    elif w == 4:
        d = when.date()
        doc.h("Online request form – submission received")
        doc.box("Submitted", fmt(d, "slash"))
        doc.box("Type of request", "Request for an internal review of an FOI response")
        doc.box("Your name", who)
        doc.box("Email address", addr)
        doc.mail(addr)
        doc.box("Original request reference", ref)
        doc.box("Why are you unhappy?", f"The response applied {ex} to all of the request.")
        doc.set(document_date=d)
    else:
        doc.p(f"Hello,\n\nI would like an internal review of {foi_written(ref)}. The answer below does not address part 2 of my request.\n\nThanks,\n{who}")
        doc.p(f"On {fmt(answered, 'wd')}, FOI Team <foi@resolution.example> wrote:")
        doc.p(f"> Dear {who.split()[0]}\n> Our ref: {ref}\n> Thank you for your request. We hold some of the information. Please see the attached table.\n> If you are unhappy with the way your request has been handled, you can ask for an internal review.")
        email(doc, who, addr, "FOI Team", "foi@resolution.example", f"Re: {ref} - response", when)
    doc.ref("foi", ref)
    doc.set(case_ref=ref)
    if who:
        doc.set(requester=who)
    return doc


def appeal(w, prod):
    doc = Doc("primary_care_appeal", w)
    when = day(dt.date(2023, 3, 1), dt.date(2025, 11, 1))
    decision = when - dt.timedelta(days=rng.randint(5, 28))
    ref = appeal_ref() if w in (1, 3, 5) else None
    ds = rng.choice(LETTER_DATE)
    pharm = rng.choice(PHARMACIES)
    icb = rng.choice(["NHS Marlbury and Tewford Integrated Care Board", "NHS England (Midlands)", "NHS Ridsdale Integrated Care Board"])
    sig = rng.choice(NAMES)
    if prod == "eml":
        doc.p("Dear Primary Care Appeals,")
        if ref:
            doc.p(f"Your ref: {ref}")
        doc.p(f"I act for {pharm} and write to appeal against the decision of {icb} dated {fmt(decision, uk())} to refuse its application for inclusion in the pharmaceutical list, under regulation 31 of the NHS (Pharmaceutical and Local Pharmaceutical Services) Regulations 2013.")
        doc.p("Grounds: the Committee did not consider the improvement in access for patients with protected characteristics, and misread the distances in the application. Full grounds follow.")
        doc.p(f"Regards\n{sig}\nPharmacy Consultancy Partners")
        email(doc, sig, "appeals@pharmacyconsult.example", "Primary Care Appeals", "appeals@resolution.example",
              f"Appeal – {pharm}" + (f" – {ref}" if ref else ""), sent_at(when, when + dt.timedelta(days=2)))
    else:
        if w in (0, 2, 5):
            doc.lines([pharm if w != 2 else "Harbourside Dental Care Ltd", f"{rng.randint(1, 60)} Market Street", "Ridsdale", "RD3 4PQ", fmt(when, ds)])
            doc.postcode("RD3 4PQ")
            doc.lines(["Primary Care Appeals", "NHS Resolution", "8 Example Square", "London EC1A 9ZZ"])
            doc.postcode("EC1A 9ZZ")
        if w == 0:
            doc.h("NOTICE OF APPEAL")
            doc.p(f"We appeal against the decision of {icb}, notified to us on {fmt(decision, ds)}, to refuse our application to relocate our pharmacy premises. The decision is wrong because the relocation causes no significant change to the availability of services.")
            doc.lines(["Yours faithfully", "", sig, "Superintendent Pharmacist"])
        elif w == 1:
            doc.h("Appeal form – market entry (pharmacy)")
            doc.box("Appeal reference", ref)
            doc.box("Appellant", pharm)
            doc.box("Decision appealed against", f"Refusal of an application for inclusion in the pharmaceutical list by {icb}")
            doc.box("Date of decision", fmt(decision, "slash"))
            doc.box("Grounds of appeal", "The Committee failed to consider the needs of new housing developments and misapplied regulation 18.")
            doc.box("Date", fmt(when, "slash"))
        elif w == 2:
            amt = rng.choice([14250, 38900, 6120])
            doc.h("Application for dispute resolution – Personal Dental Services agreement")
            doc.p(f"Harbourside Dental Care Ltd refers a dispute with {icb} about the recovery of {money(amt)} for under-delivered units of dental activity in the contract year ending 31 March {when.year}. Local dispute resolution was completed on {fmt(decision, ds)} without agreement.")
            doc.amount(amt)
            doc.lines(["Signed", sig, "Director"])
        elif w == 3:
            doc.h(f"Re: Appeal {ref}")
            doc.lines([fmt(when, ds)])
            doc.p(f"We act for the Meadowview Medical Group, a GMS contractor. We request dispute resolution under the NHS (General Medical Services Contracts) Regulations 2015 about {icb}'s decision of {fmt(decision, ds)} to issue a breach notice.")
            doc.lines(["Yours faithfully", "", "Fairhaven Healthcare Law LLP"])
        elif w == 4:
            doc.h("Representations from an interested party")
            doc.lines([fmt(when, ds)])
            doc.p(f"{pharm} makes representations on the appeal by a competitor against {icb}'s decision of {fmt(decision, ds)}. The existing pharmaceutical services are adequate and the appeal should be dismissed.")
            doc.lines(["Yours faithfully", "", sig])
        else:
            doc.h(f"Appeal {ref}: grounds of appeal")
            doc.p(f"The appellant, {pharm}, appeals against the grant by {icb} on {fmt(decision, ds)} of a neighbouring application, which was made on the basis of unforeseen benefits that the applicant did not evidence.")
            doc.lines(["Yours faithfully", "", sig, "Director"])
        doc.set(document_date=when)
    if ref:
        doc.ref("appeal", ref)
        doc.set(case_ref=ref)
    return doc


def performance(w, prod):
    doc = Doc("performance_concern", w)
    when = day(dt.date(2023, 3, 1), dt.date(2025, 11, 1))
    trust = rng.choice(TRUSTS)[0]
    doc_kind = rng.choice(["locum consultant anaesthetist", "specialty doctor in emergency medicine", "salaried GP", "associate dentist", "pharmacist"])
    sender = rng.choice(NAMES)
    if prod == "eml":
        doc.p("Dear Practitioner Performance Advice team,")
        doc.p(f"I would be grateful for advice about a {doc_kind} at {trust}. Over the last three months colleagues have raised concerns about clinical decision-making and record keeping. We are considering whether a restriction on practice or an exclusion under MHPS is needed while we investigate, and would value a discussion with an adviser.")
        doc.p(f"Regards\n{sender}\nDeputy Medical Director\n{trust}")
        email(doc, sender, f"{ascii_word(sender.split()[-1]) or 'dmd'}@{ascii_word(trust.split()[0])}.nhs.example", "Advice team", "advice@resolution.example",
              "Request for advice – practitioner concerns", sent_at(when, when + dt.timedelta(days=2)))
    else:
        if w == 1:
            doc.h("Practitioner Performance Advice – request for advice")
            doc.box("Organisation", trust)
            doc.box("Practitioner", f"{doc_kind} (name withheld until first call)")
            doc.box("Nature of concern", "Clinical capability: two serious incidents in six weeks; concerns about communication with patients.")
            doc.box("Action taken so far", "Informal conversation; job plan adjusted.")
            doc.box("Date", fmt(when, "slash"))
        else:
            doc.h(trust if w != 4 else "Westgate Dental Practice")
            doc.lines(["Office of the Medical Director" if w != 4 else "Practice Manager", fmt(when, rng.choice(LETTER_DATE))])
            doc.lines(["Practitioner Performance Advice", "NHS Resolution", "8 Example Square", "London EC1A 9ZZ"])
            doc.postcode("EC1A 9ZZ")
            doc.p("Dear Adviser")
            if w == 0:
                doc.p(f"Re: concerns about a {doc_kind}")
                doc.p("Further to my call with your adviser last week, I write to set out the concerns. The practitioner's prescribing has been questioned by pharmacy colleagues, and audit shows gaps in consent documentation. We would like help to frame terms of reference for an investigation.")
            elif w == 2:
                doc.p("Exclusion of a practitioner – notification and request for advice")
                doc.p(f"In line with Maintaining High Professional Standards, I notify you that the Trust excluded a {doc_kind} on an immediate basis pending investigation of allegations about conduct towards patients. We would welcome advice on the review of the exclusion at four weeks.")
            elif w == 3:
                doc.p("Health concerns about a doctor in training")
                doc.p("We have concerns that a doctor's health may be affecting performance. Occupational health has been involved. We would like advice about a supportive return-to-work plan and about when the GMC should be informed.")
            elif w == 4:
                doc.p(f"We are a small practice and would like advice about our {doc_kind}, whose clinical notes are incomplete and who has received three complaints this year. We would like to know whether a clinical record review would help.")
            else:
                doc.p("Request for a performance assessment")
                doc.p(f"Following our local investigation, the case manager asks for an assessment of the clinical performance of a {doc_kind}, as the concerns appear to go beyond what the Trust can resolve locally.")
            doc.lines(["Yours sincerely", "", sender, "Medical Director" if w != 4 else "Practice Manager"])
        doc.set(document_date=when)
    return doc


# ---------------------------------------------------------------------------------------
# Correspondence (covering emails with attachments of their own type, records requests,
# chasers) and documents that fit no family.

def correspondence(w, prod):
    case = Case(cjk=prod in CJK_OK and rng.random() < 0.3)
    doc = Doc("correspondence", w)
    when = case.d3 + dt.timedelta(days=rng.randint(300, 1200))
    firm = case.firm
    faddr = f"{ascii_word(firm[5].split()[0])}@{ascii_word(firm[0].split()[0])}law.example"
    pdf = rng.choice(["reportlab", "fpdf", "typst"])
    if w == 0:
        att = letter_of_claim(rng.randint(0, 7), pdf)
        doc.p("Dear Claims Team,")
        doc.p("Please find attached our client's Letter of Claim, together with the index to the records. We look forward to hearing from you.")
        doc.p(f"Kind regards\n{firm[5]}\n{firm[6]}\n{firm[0]}")
        email(doc, firm[5], faddr, None, "claims@resolution.example", "New matter – documents attached", sent_at(when, when + dt.timedelta(days=3)))
        doc.set(claimant_solicitor=firm[0])
        attach(doc, f"{firm[1]}_{when:%Y%m%d}.pdf", att, pdf)
    elif w == 1:
        att = letter_of_notification(rng.randint(0, 4), pdf)
        t = att.exp["parties"]["defendants"][0]
        doc.p("Hello Claims team,")
        doc.p(f"We received the attached letter this morning. Please could you confirm who will be handling it. The Trust's incident report will follow.")
        doc.p(f"Thanks\nLegal Services Officer\n{t}")
        email(doc, "Legal Services", f"legal.services@{ascii_word(t.split()[0])}.nhs.example", None, "claims@resolution.example",
              "FW: incoming correspondence", sent_at(when, when + dt.timedelta(days=3)))
        attach(doc, "scan0001.pdf", att, pdf)
    elif w == 2:
        firm_head(doc, firm)
        doc.lines([fmt(when, rng.choice(LETTER_DATE))])
        trust_legal_address(doc, case)
        doc.lines([f"Our ref: {case.firm_ref}"])
        doc.exp["references"]["other"].append(case.firm_ref)
        doc.p("Dear Sirs")
        doc.h("Request for copy health records")
        doc.lines([f"Patient: {case.patient}", f"Date of birth: {dob_line(doc, case, 'slash')}", f"NHS number: {doc.nhs(case.nhs)}",
                   f"Dates of treatment: {fmt(case.d1, 'slash')} to {fmt(case.d3, 'slash')}"])
        if case.patient != case.claimant:
            doc.lines([f"Our client: {case.claimant}"])
        doc.p(f"We act for the above and enclose a signed form of authority. Please provide copies of all records held by {case.defendant} for the period above, including the CTG traces, X-rays and scans, incident reports and complaint file, within 40 days, in accordance with the Pre-Action Protocol and the UK GDPR.")
        sign(doc, firm, 0)
        doc.set(document_date=when)
        claim_expect(doc, case, codes=False)
        return doc
    elif w == 3:
        firm_head(doc, firm)
        doc.lines([fmt(when, rng.choice(LETTER_DATE))])
        org_address(doc)
        loc = when - dt.timedelta(days=rng.randint(130, 200))
        if case.ref:
            doc.lines([f"Your ref: {ref_written(case.ref)}"])
            doc.ref("claim", case.ref)
        doc.p("Dear Sirs")
        doc.p(f"Re: {case.title()}")
        doc.p(f"We refer to our Letter of Claim dated {fmt(loc, 'long')}. The Letter of Response was due four months later and has not arrived. Please let us know by return when we may expect it; otherwise our client will issue proceedings without further notice.")
        sign(doc, firm, 1)
        doc.set(document_date=when)
        claim_expect(doc, case, codes=False, incident=False)
        return doc
    elif w == 4:
        kind = rng.choice([expert_report, defence])
        att = kind(rng.randint(0, 5), pdf)
        panel = case.panel
        doc.p(f"Dear {rng.choice(['Grace', 'Marek', 'Aisha'])},")
        doc.p("Please see attached, served on us today. We will let you have our comments by the end of next week.")
        doc.p(f"Kind regards\n{panel[5]}\n{panel[0]}")
        email(doc, panel[5], f"{ascii_word(panel[5].split()[-1])}@{ascii_word(panel[0].split()[0])}.example", None, "claims@resolution.example",
              "Document served", sent_at(when, when + dt.timedelta(days=3)))
        attach(doc, "Document served.pdf", att, pdf)
    elif w == 5:
        doc.p("Dear Sirs,")
        doc.p(f"{case.title()}")
        if case.ref:
            doc.p(f"Your reference {ref_written(case.ref)}")
            doc.ref("claim", case.ref)
        doc.p("We write to ask for a three-month extension of the time for the Letter of Response, as the Trust's expert has not yet reported. We propose a standstill agreement for limitation purposes in the meantime.")
        doc.p(f"Yours faithfully\n{case.panel[0]}")
        email(doc, case.panel[5], f"{ascii_word(case.panel[5].split()[-1])}@{ascii_word(case.panel[0].split()[0])}.example", firm[5], faddr,
              f"{case.claimant} – extension", sent_at(when, when + dt.timedelta(days=3)))
        doc.set(claimant=case.claimant, defendants=[case.defendant], scheme=case.scheme)
        if case.ref:
            doc.set(case_ref=case.ref)
        return doc
    else:
        att = medical_records(rng.randint(0, 5), "docx")
        doc.p("Good afternoon,")
        doc.p("As requested, I attach the patient's records. Please note that third-party information has been redacted.")
        doc.p("Best wishes\nPractice Manager")
        email(doc, "Practice Manager", "practice.manager@surgery.nhs.example", None, "claims@resolution.example",
              "Records as requested", sent_at(when, when + dt.timedelta(days=3)))
        attach(doc, "records.docx", att, "docx")
    return doc


def unknown(w, prod):
    doc = Doc("unknown", w)
    when = day(dt.date(2023, 1, 1), dt.date(2025, 11, 1))
    ds = rng.choice(LETTER_DATE)
    if w == 0:
        doc.h("Board of Directors – meeting held in public")
        doc.lines([f"Date: {fmt(when, ds)}", "Time: 10:00–13:00", "Venue: Boardroom, Elstow General Hospital"])
        for i, item in enumerate(["Apologies and declarations of interest", "Minutes of the previous meeting", "Chief Executive's report",
                                  "Integrated performance report", "Freedom to Speak Up Guardian report", "Any other business"], 1):
            doc.lines([f"{i}. {item}"])
    elif w == 1:
        doc.h("Learning from claims – bulletin")
        doc.p(f"Published {fmt(when, 'long')}")
        doc.p("This issue looks at themes in claims about falls in hospital, and at the value of clear documentation of risk assessments. It includes a case study and questions for team discussion.")
    elif w == 2:
        net = rng.choice([240, 1180, 356])
        vat = net // 5
        doc.h("INVOICE")
        doc.lines(["Swift Print & Post Ltd", "Unit 9, Canal Side", "Marlbury MB2 8TT", f"Invoice date: {fmt(when, 'slash')}", f"Invoice no: INV-{rng.randint(10000, 99999)}"])
        doc.postcode("MB2 8TT")
        doc.p(f"Printing and binding of trial bundles: {money(net, 'pence')}")
        doc.p(f"VAT at 20%: {money(vat, 'pence')}")
        doc.p(f"Total due: {money(net + vat, 'pence')}")
        for a in (net, vat, net + vat):
            doc.amount(a)
    elif w == 3:
        ref = foi_ref()
        who = rng.choice(REQUESTERS)
        doc.h("NHS Resolution")
        doc.lines([fmt(when, ds), f"Our ref: {ref}"])
        doc.p(f"Dear {who}")
        doc.p("Our response")
        doc.p("Thank you for your request for information. We hold the information requested and it is set out in the table below. Numbers from one to four are shown as '<5' to protect patient confidentiality.")
        doc.p("If you are unhappy with this response you may ask for an internal review within 40 working days, and after that complain to the Information Commissioner.")
        doc.ref("foi", ref)
        doc.set(case_ref=ref, requester=who)
    elif w == 4:
        doc.h("Vacancy: Claims Handler (Band 5)")
        doc.p(f"Closing date: {fmt(when, 'long')}")
        doc.p("We are looking for a claims handler to join our busy team. You will manage a caseload of claims, working with panel solicitors and members. Salary in line with Agenda for Change.")
    else:
        doc.h("Strategy 2025 to 2030: advise, resolve and learn")
        doc.p("Our purpose is to provide expertise to the NHS on resolving concerns fairly, sharing learning for improvement and preserving resources for patient care. Over the next five years we will focus on three themes.")
        doc.p(f"Approved by the Board on {fmt(when, 'long')}.")
    doc.set(document_date=when if w != 4 else None)
    return doc


# ---------------------------------------------------------------------------------------
# Producers.

CJK_OK = {"docx", "html", "txt", "eml"}


def text_lines(doc):
    out = []
    for b in doc.blocks:
        if b[0] == "box":
            out.append(f"{b[1]}: {b[2]}" if rng.random() < 0.5 else f"{b[1]}\n    {b[2]}")
        elif b[0] == "h":
            out.append(b[1])
        elif b[0] == "l":
            out.append(b[1])
        else:
            out.append(b[1] + "\n" if b[1] else "")
    return "\n".join(out).rstrip() + "\n"


def render_txt(doc, path):
    with open(path, "wb") as f:
        f.write(text_lines(doc).encode("utf-8"))


def render_html(doc, path):
    parts = ['<!DOCTYPE html>', '<html lang="en-GB"><head><meta charset="utf-8"><title>Document</title>',
             '<style>body{font-family:Arial,sans-serif} td{border:1px solid #999;padding:4px}</style></head><body>']
    in_table = False
    for b in doc.blocks:
        if b[0] == "box":
            if not in_table:
                parts.append("<table>")
                in_table = True
            parts.append(f"<tr><th>{html_escape(b[1])}</th><td>{html_escape(b[2])}</td></tr>")
            continue
        if in_table:
            parts.append("</table>")
            in_table = False
        if b[0] == "h":
            parts.append(f"<h2>{html_escape(b[1])}</h2>")
        elif b[0] == "l":
            parts.append(f"<div>{html_escape(b[1]) or '&nbsp;'}</div>")
        elif b[1]:
            parts.append("<p>" + html_escape(b[1]).replace("\n", "<br>") + "</p>")
    if in_table:
        parts.append("</table>")
    parts.append("</body></html>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")


def render_reportlab(doc, path):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table
    from xml.sax.saxutils import escape
    pdfmetrics.registerFont(TTFont("DejaVu", FONT))
    body = ParagraphStyle("b", fontName="DejaVu", fontSize=10, leading=13)
    head = ParagraphStyle("h", fontName="DejaVu", fontSize=12.5, leading=16, spaceBefore=6, spaceAfter=4)
    flow = []
    rows = []
    for b in doc.blocks + [("end", "")]:
        if b[0] == "box":
            rows.append([Paragraph(escape(b[1]), body), Paragraph(escape(b[2]), body)])
            continue
        if rows:
            flow.append(Table(rows, colWidths=[150, 320]))
            rows = []
        if b[0] == "h":
            flow.append(Paragraph(escape(b[1]), head))
        elif b[0] == "l":
            flow.append(Paragraph(escape(b[1]) or "&nbsp;", body))
        elif b[0] == "p" and b[1]:
            flow.append(Paragraph(escape(b[1]).replace("\n", "<br/>"), body))
            flow.append(Spacer(1, 6))
        elif b[0] == "p":
            flow.append(Spacer(1, 8))
    SimpleDocTemplate(path, pagesize=A4, invariant=1, title="", author="").build(flow)


def render_fpdf(doc, path):
    from fpdf import FPDF
    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    pdf.add_font("DejaVu", "", FONT)
    pdf.add_page()
    pdf.set_margins(20, 20, 20)
    for b in doc.blocks:
        if b[0] == "box":
            pdf.set_font("DejaVu", "", 9)
            y = pdf.get_y()
            pdf.multi_cell(55, 5, b[1], border=1, new_x="RIGHT", new_y="TOP")
            pdf.multi_cell(0, 5, b[2], border=1, new_x="LMARGIN", new_y="NEXT")
            pdf.set_y(max(pdf.get_y(), y + 5))
        elif b[0] == "h":
            pdf.set_font("DejaVu", "", 12)
            pdf.multi_cell(0, 7, b[1], new_x="LMARGIN", new_y="NEXT")
        elif b[0] == "l":
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(0, 5, b[1] or " ", new_x="LMARGIN", new_y="NEXT")
        elif b[1]:
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(0, 5, b[1], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        else:
            pdf.ln(4)
    pdf.output(path)


def render_typst(doc, path):
    import typst

    def esc(t):
        for ch in "\\#$*_@<>`[]~=/-+\"":
            t = t.replace(ch, "\\" + ch)
        return t

    src = ['#set page(paper: "a4", margin: 2cm)', '#set text(font: "DejaVu Sans", size: 10pt, lang: "en")', "#set par(justify: true)"]
    rows = []
    for b in doc.blocks + [("end", "")]:
        if b[0] == "box":
            rows.append(f"[{esc(b[1])}], [{esc(b[2])}],")
            continue
        if rows:
            src.append("#table(columns: (35%, 65%), " + " ".join(rows) + ")")
            rows = []
        if b[0] == "h":
            src.append(f"#text(weight: \"bold\", size: 12pt)[{esc(b[1])}]\n")
        elif b[0] == "l":
            src.append(f"{esc(b[1])} \\" if b[1] else "#v(4pt)")
        elif b[0] == "p" and b[1]:
            src.append(esc(b[1]).replace("\n", " \\\n") + "\n")
        elif b[0] == "p":
            src.append("#v(6pt)")
    tmp = path + ".typ"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(src))
    typst.compile(tmp, output=path, font_paths=[FONT_DIR])
    os.remove(tmp)


def render_docx(doc, path):
    import docx
    d = docx.Document()
    d.core_properties.created = dt.datetime(2024, 1, 1)
    d.core_properties.modified = dt.datetime(2024, 1, 1)
    d.core_properties.title = ""
    table = None
    for b in doc.blocks:
        if b[0] == "box":
            if table is None:
                table = d.add_table(rows=0, cols=2)
            row = table.add_row().cells
            row[0].text, row[1].text = b[1], b[2]
            continue
        table = None
        if b[0] == "h":
            d.add_heading(b[1], level=2)
        elif b[1] or b[0] == "l":
            d.add_paragraph(b[1])
    d.save(path)


RENDER = {"reportlab": ("pdf", render_reportlab), "fpdf": ("pdf", render_fpdf), "typst": ("pdf", render_typst),
          "docx": ("docx", render_docx), "html": ("html", render_html), "txt": ("txt", render_txt)}


def render_bytes(doc, producer):
    ext, fn = RENDER[producer]
    tmp = os.path.join(OUT, f"_tmp.{ext}")
    fn(doc, tmp)
    with open(tmp, "rb") as f:
        data = f.read()
    os.remove(tmp)
    return data


def render_eml(doc, path):
    e = doc.email
    msg = EmailMessage()
    msg["From"] = e["sender"]
    msg["To"] = e["to"]
    if e.get("cc"):
        msg["Cc"] = e["cc"]
    msg["Subject"] = e["subject"]
    msg["Date"] = format_datetime(e["date"])
    msg["Message-ID"] = f"<{hashlib.sha256(path.encode()).hexdigest()[:16]}@mail.example>"
    body = text_lines(doc)
    msg.set_content(body)
    if e.get("html"):
        msg.add_alternative("<html><body>" + "".join(f"<p>{html_escape(p)}</p>" for p in body.split("\n\n")) + "</body></html>", subtype="html")
    for filename, att, producer in doc.attachments:
        ext = RENDER[producer][0]
        mime = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}[ext]
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(render_bytes(att, producer), maintype=maintype, subtype=subtype, filename=filename)
    with open(path, "wb") as f:
        f.write(bytes(msg))


# ---------------------------------------------------------------------------------------
# The set: per type, its wordings (some of them emails) and how many documents.

TYPES = [
    # (function, wordings, emailed wordings, count)
    (letter_of_notification, 6, {5}, 20),
    (letter_of_claim, 8, {7}, 26),
    (letter_of_response, 6, {5}, 20),
    (claim_form, 6, set(), 18),
    (particulars, 6, set(), 18),
    (defence, 6, set(), 18),
    (settlement_offer, 6, {5}, 18),
    (expert_report, 6, set(), 18),
    (medical_records, 6, set(), 18),
    (court_order, 6, set(), 18),
    (foi_request, 8, {0, 1, 2, 5, 6, 7}, 24),
    (internal_review, 6, {0, 2, 3, 5}, 18),
    (appeal, 6, {4}, 18),
    (performance, 6, {0, 5}, 18),
    (early_notification, 6, {1}, 18),
    (correspondence, 7, {0, 1, 4, 5, 6}, 24),
    (unknown, 6, set(), 12),
]
PRINTED = ["reportlab", "fpdf", "typst", "docx", "html", "txt"]


def main():
    if os.path.isdir(OUT):
        for f in os.listdir(OUT):
            if f.startswith("doc-") or f == "manifest.json":
                os.remove(os.path.join(OUT, f))
    os.makedirs(OUT, exist_ok=True)
    plan = []
    k = 0
    for fn, wordings, emailed, count in TYPES:
        for i in range(count):
            w = i % wordings
            prod = "eml" if w in emailed else PRINTED[(i + k) % len(PRINTED)]
            plan.append((fn, w, prod))
        k += 1
    rng.shuffle(plan)
    manifest = []
    for n, (fn, w, prod) in enumerate(plan):
        doc = fn(w, prod)
        if prod == "eml" and doc.email is None:
            raise SystemExit(f"{fn.__name__} wording {w} made no email")
        if prod != "eml" and doc.email is not None:
            raise SystemExit(f"{fn.__name__} wording {w} made an email for {prod}")
        ext = "eml" if prod == "eml" else RENDER[prod][0]
        name = f"doc-{n:03d}.{ext}"
        path = os.path.join(OUT, name)
        if prod == "eml":
            render_eml(doc, path)
        else:
            RENDER[prod][1](doc, path)
        with open(path + ".expected.json", "w", encoding="utf-8") as f:
            json.dump(doc.expected(), f, ensure_ascii=False, indent=2, sort_keys=True)
            f.write("\n")
        entry = {"file": name, "part": "held_out" if held_out(name) else "tuning", "doc_type": doc.kind,
                 "producer": prod, "wording": f"{doc.kind}/{w}"}
        if doc.attachments:
            entry["attachments"] = [{"doc_type": a.kind, "producer": p, "wording": f"{a.kind}/{a.wording}"} for _, a, p in doc.attachments]
        manifest.append(entry)
    with open(os.path.join(OUT, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"split": f"held out when int(sha256(file name)[:8], 16) % 100 < {HELD_OUT_PERCENT}",
                   "documents": manifest}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    held = sum(1 for m in manifest if m["part"] == "held_out")
    print(f"{len(manifest)} documents in {OUT} ({held} held out)")


if __name__ == "__main__":
    main()
