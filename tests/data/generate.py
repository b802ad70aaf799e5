#!/usr/bin/env python3
"""Builds postroom's labelled test set: tests/data/documents/<name>.<ext> and
<name>.expected.json (the fields a careful case handler would record).

Every person, firm, hospital and number here is fictional; NHS numbers are in the 999
range reserved for testing. The documents are rendered by four producers so the
extractor sees different PDF writers and formats:
  reportlab (Python PDF library), fpdf2 (another Python PDF library), Typst (its PyPI
  compiler), python-docx (DOCX), and Python's email package (RFC 822, with attachments).

Run once by a developer (not by CI): python3 tests/data/generate.py
needs: pip install reportlab fpdf2 typst python-docx, and DejaVu fonts
(Debian fonts-dejavu-core). The outputs are committed.
"""
import datetime as dt
import io
import json
import os
import random
import shutil
from email.message import EmailMessage
from email.utils import format_datetime

ROOT = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(ROOT, "documents")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

rng = random.Random(20241121)

CLAIMANTS = [
    "Zoë Pemberton", "Łukasz Nowakowski", "Siobhán O'Rourke", "Nguyễn Thị Lan", "Amélie Durand",
    "Petra Dvořáková", "Aoife Ní Bhriain", "Ewa Wiśniewska", "Björn Håkansson", "Chloé Marchetti",
    "Jürgen Schäfer", "Kwame Mensah", "Priya Raghunathan", "Oisín Mac Giolla", "Ángel Fernández",
    "Tomasz Żółkiewski", "Małgorzata Krawczyk", "Dagný Sigurðardóttir", "Şebnem Yıldız", "Radu Ionescu",
]
REQUESTERS = [
    "Harriet Quennell", "Émile Beaufort", "Grzegorz Brzęczyszczykiewicz", "Fionnuala Ó Dónaill",
    "Søren Kierkby", "Lena Müller-Thurgau", "Ines Gonçalves", "Daniel Ng", "Ruth Abernethy", "Miloš Janković",
]
TRUSTS = [
    "Northshire Hospitals NHS Foundation Trust", "Westbridge University Hospitals NHS Trust",
    "Eastmere Community Health NHS Foundation Trust", "Riverdale and Fenbrook NHS Foundation Trust",
    "Southvale Ambulance Service NHS Trust", "Harrowfield Mental Health NHS Foundation Trust",
    "Kingsmoor Teaching Hospitals NHS Trust",
]
PRACTICES = ["Meadowbank Surgery", "Castlegate Medical Centre", "Ferncliffe Health Centre"]
FIRMS = ["Hartley & Moss Solicitors", "Brennan Walsh LLP", "Okafor Clinical Law LLP", "Fairweather Pryce Solicitors", "Lindqvist & Rowe LLP"]
PANEL = ["Carrington Vale LLP", "Ashdown Keane LLP"]
TOWNS = [("Northtown", "NT1 4QX"), ("Westbridge", "WB2 7LP"), ("Eastmere", "EM3 9RT"), ("Riverdale", "RD4 2HN"), ("Kingsmoor", "KM5 1AB")]

SCENARIOS = [
    # specialty, cause, injury, story (with {d1} {d2} {d3} dates), defendant kind
    ("Obstetrics", "Fail / Delay Treatment", "Brain damage",
     "On {d1} our client was admitted to the labour ward. The CTG was pathological from {d2} but the midwife failed to escalate and there was a delay in delivery. The baby was born on {d3} in poor condition and has since been diagnosed with hypoxic ischaemic encephalopathy and cerebral palsy.", "trust"),
    ("Orthopaedic Surgery", "Failure/Delay Diagnosis", None,
     "On {d1} our client attended after a fall onto an outstretched hand. X-rays were reported as normal and a scaphoid fracture was missed. A delayed diagnosis of the scaphoid fracture was made on {d2} after a further X-ray, by which time avascular necrosis had developed; surgery followed on {d3}.", "trust"),
    ("General Surgery", "Intra-operative problems", None,
     "On {d1} our client underwent a laparoscopic cholecystectomy. The common bile duct was damaged during surgery and the injury was not repaired until a laparotomy on {d2}. A further hernia repair was needed on {d3}.", "trust"),
    (None, "Failure/Delay Diagnosis", "Cancer",
     "Our client consulted her GP on {d1} with a breast lump. She was reassured and not referred. She returned on {d2} and was referred; a carcinoma was diagnosed on {d3}. There was a delay in diagnosis of about nine months.", "practice"),
    ("Ambulance", "Fail / Delay Treatment", "Fatality",
     "On {d1} a 999 call was made for the late Mr Farrow's father. The ambulance was dispatched late and the paramedic crew failed to convey him to hospital until {d2}. He died on {d3}; an inquest was held.", "ambulance"),
    ("Psychiatry", "Fail / Delay Treatment", None,
     "Our client was under the care of the mental health crisis team from {d1}. Despite repeated self-harm the team failed to act and she was not admitted until {d2}. She was discharged on {d3}.", "mental"),
    ("Dentistry", "Fail To Warn-Informed Consent", None,
     "On {d1} our client attended the dental department for the extraction of a lower wisdom tooth. She was not warned of the material risk of nerve damage and did not give informed consent. Numbness persisted at a review on {d2} and again on {d3}.", "trust"),
    (None, None, None,
     "Our client attended the outpatient clinic on {d1} and again on {d2}. She complains about the care she received up to {d3}.", "trust"),
]

FOI_TOPICS = [
    ("claims by specialty", "the number of clinical negligence claims received in each of the last five financial years, broken down by specialty"),
    ("maternity claims", "the total damages paid on maternity claims under CNST for each year from 2019/20 to 2023/24"),
    ("legal costs", "the amount spent on claimant legal costs in 2023/24, and the number of claims to which those costs relate"),
    ("never events", "the number of claims notified in 2023 that relate to retained foreign bodies"),
    ("ambulance delays", "the number of claims against ambulance trusts that concern delayed response times, by year since 2018"),
    ("panel firms", "a list of the law firms on your legal panel and the value of fees paid to each in 2023/24"),
    ("early notification", "how many cases were reported under the Early Notification scheme in 2022 and 2023"),
    ("mental health", "the number of claims received relating to mental health trusts in each of the last three years"),
]


def ascii_name(word):
    import unicodedata
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if c.isascii() and (c.isalnum() or c == "-"))


def nhs_number():
    while True:
        digits = [9, 9, 9] + [rng.randint(0, 9) for _ in range(6)]
        total = sum(d * (10 - i) for i, d in enumerate(digits))
        check = 11 - total % 11
        check = 0 if check == 11 else check
        if check != 10:
            digits.append(check)
            s = "".join(map(str, digits))
            return f"{s[:3]} {s[3:6]} {s[6:]}"


def date_between(start, end):
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def fmt_date(d, style):
    suffix = "th" if 11 <= d.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
    return {
        "long": f"{d.day} {d:%B %Y}",
        "ordinal": f"{d.day}{suffix} {d:%B %Y}",
        "weekday": f"{d:%A} {d.day} {d:%B %Y}",
        "slash": f"{d:%d/%m/%Y}",
        "short": f"{d.day} {d:%b %Y}",
        "dots": f"{d.day}.{d.month}.{d:%Y}",
    }[style]


STYLES = ["long", "ordinal", "weekday", "slash", "short", "long", "dots"]


def claim_ref(scheme):
    return f"{scheme}/{rng.randint(19, 25):02d}/{rng.randint(100, 9999):06d}"


def messy(ref):
    """A claim reference as an incoming letter might write it."""
    scheme, year, num = ref.split("/")
    return rng.choice([ref, f"{scheme.lower()}/{year}/{num}", f"{scheme} / {year} / {num}", f"Ref: {scheme.lower()} / {year} / {num}"])


def phone():
    return f"01632 {rng.randint(900000, 999999)}"  # Ofcom drama range


def address(name, town_pc, street=None):
    town, pc = town_pc
    street = street or f"{rng.randint(1, 200)} {rng.choice(['High Street', 'Mill Lane', 'Station Road', 'Church Walk', 'Queen Street'])}"
    return [name, street, town, pc]


# ---------------------------------------------------------------------------------------
# Documents: each returns (blocks, expected). Blocks: ("h", text) heading, ("p", text).

class Doc:
    def __init__(self, name, kind):
        self.name, self.kind = name, kind
        self.blocks = []
        self.pd = {"nhs": set(), "dob": set(), "pc": set(), "email": set(), "phone": set()}
        self.exp = {
            "doc_type": kind, "document_date": None, "incident_date": None,
            "references": {"case_ref": None, "claim": [], "court": [], "foi": [], "appeal": [], "other": []},
            "parties": {"claimant": None, "defendants": [], "claimant_solicitor": None, "requester": None},
            "clinical": {"scheme": None, "specialty": None, "cause": None, "injury": None},
            "amounts_gbp": [],
        }

    def h(self, text):
        self.blocks.append(("h", text))

    def p(self, text):
        self.blocks.append(("p", text))

    def lines(self, lines):
        for line in lines:
            self.blocks.append(("l", line))
        self.blocks.append(("p", ""))

    def addr(self, lines):
        self.lines(lines)
        self.pd["pc"].add(lines[-1].replace(" ", ""))

    def ref(self, kind, value):
        lst = self.exp["references"][kind]
        if value not in lst:
            lst.append(value)

    def expected(self):
        e = dict(self.exp)
        e["personal_data"] = {"nhs_numbers": len(self.pd["nhs"]), "dates_of_birth": len(self.pd["dob"]),
                              "postcodes": len(self.pd["pc"]), "emails": len(self.pd["email"]), "phone_numbers": len(self.pd["phone"])}
        for k in ("document_date", "incident_date"):
            if isinstance(e[k], dt.date):
                e[k] = e[k].isoformat()
        return e


def letterhead(doc, firm, town_pc):
    tel, email = phone(), f"clinneg@{firm.split()[0].lower()}-law.example"
    doc.lines([firm, f"{rng.randint(1, 90)} Chancery Row", town_pc[0], town_pc[1], f"Tel: {tel}", f"Email: {email}"])
    doc.pd["pc"].add(town_pc[1].replace(" ", ""))
    doc.pd["phone"].add(tel.replace(" ", ""))
    doc.pd["email"].add(email)


def claim_letter(i, kind):
    sc = SCENARIOS[i % len(SCENARIOS)]
    specialty, cause, injury, story, defkind = sc
    doc = Doc(f"{kind}-{i:02d}", kind)
    claimant = CLAIMANTS[i % len(CLAIMANTS)]
    firm = FIRMS[i % len(FIRMS)]
    scheme = "CNSGP" if defkind == "practice" else rng.choice(["CNST", "CNST", "CNST", "ELS"] if kind != "letter_of_notification" else ["CNST"])
    defendant = {"practice": PRACTICES[i % len(PRACTICES)], "ambulance": "Southvale Ambulance Service NHS Trust", "mental": "Harrowfield Mental Health NHS Foundation Trust"}.get(defkind, TRUSTS[i % 4])
    d1 = date_between(dt.date(2019, 1, 1), dt.date(2022, 6, 30))
    d2 = d1 + dt.timedelta(days=rng.randint(1, 200))
    d3 = d2 + dt.timedelta(days=rng.randint(1, 200))
    dob = date_between(dt.date(1950, 1, 1), dt.date(2001, 12, 31))
    letter_date = date_between(dt.date(2023, 6, 1), dt.date(2025, 3, 31))
    ref = claim_ref(scheme)
    our = f"{''.join(w[0] for w in firm.split()[:2]).upper()}/{''.join(w[0] for w in claimant.split())}/{rng.randint(10000, 99999)}"
    nhs = nhs_number()
    style = STYLES[i % len(STYLES)]

    letterhead(doc, firm, TOWNS[i % len(TOWNS)])
    doc.lines([fmt_date(letter_date, style)])
    doc.addr(address("Clinical Negligence Team" if scheme != "CNSGP" else "Claims Team", ("Leeds", "LS1 4ZZ"), "2 Quayside Chambers") if rng.random() < 0.5 else address("NHS Resolution", ("London", "EC1A 9ZZ"), "8 Example Square"))
    if kind == "letter_of_claim" and rng.random() < 0.7:
        doc.lines([f"Your ref: {messy(ref)}", f"Our ref: {our}"])
    else:
        doc.lines([f"Our ref: {our}", f"Your ref: {ref}"])
    doc.ref("claim", ref)
    doc.ref("other", our)
    doc.p("Dear Sirs")
    heading = {"letter_of_claim": "LETTER OF CLAIM", "letter_of_notification": "LETTER OF NOTIFICATION"}[kind]
    doc.h(heading)
    doc.p(f"Our client: {claimant} (date of birth {fmt_date(dob, 'slash')}), NHS number {nhs}")
    doc.pd["nhs"].add(nhs)
    doc.pd["dob"].add(dob)
    if "was born on" in story:
        doc.pd["dob"].add(d3)  # the baby's date of birth, told in prose
    doc.p(f"Defendant: {defendant}")
    if kind == "letter_of_claim":
        doc.p(f"We are instructed by our client in connection with a claim for clinical negligence against {defendant}. This letter is sent in accordance with the Pre-Action Protocol for the Resolution of Clinical Disputes and we look forward to receiving a Letter of Response within four months.")
    else:
        doc.p(f"We have been consulted by our client regarding a potential claim against {defendant}. This Letter of Notification is sent under the Pre-Action Protocol for the Resolution of Clinical Disputes. We would be grateful if you would acknowledge within 14 days.")
    doc.h("Summary of facts")
    doc.p(story.format(d1=fmt_date(d1, style), d2=fmt_date(d2, "long"), d3=fmt_date(d3, "ordinal")))
    if kind == "letter_of_claim":
        doc.h("Allegations of negligence")
        doc.p("It is alleged that there was a breach of duty in the respects set out above and that, on the balance of probabilities, the breach caused the injuries described. Causation will be addressed in expert evidence.")
        if rng.random() < 0.6:
            amount = rng.choice([125000, 250000, 1250000, 87500])
            doc.p(f"We estimate the value of the claim at £{amount:,}." if amount < 1_000_000 else f"We estimate the value of the claim at £{amount/1e6:g}m.")
            doc.exp["amounts_gbp"].append(float(amount))
    doc.p("Yours faithfully")
    doc.p(firm)
    doc.exp.update(document_date=letter_date, incident_date=d1)
    doc.exp["references"]["case_ref"] = ref
    doc.exp["parties"].update(claimant=claimant, defendants=[defendant], claimant_solicitor=firm)
    doc.exp["clinical"].update(scheme=scheme, specialty=specialty, cause=cause, injury=injury)
    return doc


def letter_of_response(i):
    doc = Doc(f"letter_of_response-{i:02d}", "letter_of_response")
    claimant = CLAIMANTS[(i + 7) % len(CLAIMANTS)]
    panel = PANEL[i % 2]
    firm = FIRMS[(i + 2) % len(FIRMS)]
    trust = TRUSTS[(i + 1) % 4]
    ref = claim_ref("CNST")
    when = date_between(dt.date(2023, 1, 1), dt.date(2025, 6, 30))
    d1 = date_between(dt.date(2019, 1, 1), dt.date(2021, 12, 31))
    letterhead(doc, panel, TOWNS[(i + 2) % len(TOWNS)])
    doc.lines([fmt_date(when, STYLES[(i + 3) % len(STYLES)])])
    doc.addr(address(firm, TOWNS[i % len(TOWNS)]))
    doc.lines([f"Our ref: {ref}"])
    doc.ref("claim", ref)
    doc.p("Dear Sirs")
    doc.h("LETTER OF RESPONSE")
    doc.p(f"Your client: {claimant}")
    doc.p(f"We act for {trust} and write in response to your Letter of Claim. We have considered the allegations relating to the care provided on {fmt_date(d1, 'long')} and thereafter.")
    doc.p(rng.choice(["Breach of duty is denied. Causation is denied.", "Breach of duty is admitted in part but causation is denied.", "Liability is denied."]))
    doc.p("Yours faithfully")
    doc.p(panel)
    doc.exp.update(document_date=when, incident_date=d1)
    doc.exp["references"]["case_ref"] = ref
    doc.exp["parties"].update(claimant=claimant, defendants=[trust], claimant_solicitor=firm)
    doc.exp["clinical"]["scheme"] = "CNST"
    return doc


def part36(i):
    doc = Doc(f"settlement_offer-{i:02d}", "settlement_offer")
    claimant = CLAIMANTS[(i + 3) % len(CLAIMANTS)]
    firm = FIRMS[(i + 1) % len(FIRMS)]
    ref = claim_ref(rng.choice(["CNST", "ELS"]))
    court = f"KB-{rng.randint(2022, 2025)}-{rng.randint(1, 9999):06d}"
    when = date_between(dt.date(2024, 1, 1), dt.date(2025, 6, 30))
    amount = rng.choice([45000, 175000, 312500, 2400000])
    letterhead(doc, firm, TOWNS[(i + 1) % len(TOWNS)])
    doc.lines([fmt_date(when, STYLES[i % len(STYLES)])])
    doc.lines([f"Your ref: {ref}", f"Claim No: {court}"])
    doc.ref("claim", ref)
    doc.ref("court", court)
    doc.h("WITHOUT PREJUDICE SAVE AS TO COSTS")
    doc.h("PART 36 OFFER")
    doc.p(f"Re: {claimant} v {TRUSTS[i % 4]}")
    amount_text = f"£{amount:,}" if amount < 1_000_000 else f"£{amount/1e6:g} million"
    doc.p(f"This offer is made pursuant to Part 36 of the Civil Procedure Rules. Our client offers to accept {amount_text} in full and final settlement of the whole of the claim. The relevant period is 21 days from the date of this letter.")
    doc.exp["amounts_gbp"].append(float(amount))
    doc.p("Yours faithfully")
    doc.p(firm)
    doc.exp.update(document_date=when)
    doc.exp["references"]["case_ref"] = ref
    doc.exp["parties"].update(claimant=claimant, defendants=[TRUSTS[i % 4]], claimant_solicitor=firm)
    doc.exp["clinical"]["scheme"] = ref.split("/")[0]
    return doc


def court_order(i):
    doc = Doc(f"court_order-{i:02d}", "court_order")
    claimant = CLAIMANTS[(i + 11) % len(CLAIMANTS)]
    trust = TRUSTS[(i + 2) % 4]
    cc = rng.choice([f"F{rng.randint(10, 99)}YJ{rng.randint(100, 999)}", f"KB-2024-{rng.randint(1, 9999):06d}"])
    when = date_between(dt.date(2024, 1, 1), dt.date(2025, 6, 30))
    hearing = when - dt.timedelta(days=rng.randint(1, 20))
    ref = claim_ref("CNST")
    doc.lines([f"Claim No. {cc}"])
    doc.ref("court", cc)
    doc.h("IN THE COUNTY COURT AT NORTHTOWN" if cc[0] == "F" else "IN THE HIGH COURT OF JUSTICE KING'S BENCH DIVISION")
    doc.lines(["BETWEEN:", f"{claimant.upper()}", "Claimant", "and", trust.upper(), "Defendant"])
    doc.h("ORDER")
    doc.p(f"Before District Judge Carmody sitting at Northtown on {fmt_date(hearing, 'long')}. UPON hearing counsel for both parties IT IS ORDERED THAT:")
    doc.p(f"1. The Defendant shall file and serve its Defence by 4pm on {fmt_date(when + dt.timedelta(days=28), 'long')}.")
    doc.p("2. Costs in the case.")
    doc.p(f"Defendant's reference: {ref}")
    doc.ref("claim", ref)
    doc.lines([f"Dated {fmt_date(when, 'long')}" if i % 2 else f"Dated this {fmt_date(when, 'ordinal').split()[0]} day of {when:%B %Y}"])
    doc.exp.update(document_date=when)
    doc.exp["references"]["case_ref"] = ref
    # The claimant is read from the court heading (the convention labelled2 shares).
    doc.exp["parties"].update(claimant=claimant, defendants=[trust])
    doc.exp["clinical"]["scheme"] = "CNST"
    return doc


def expert_report(i):
    sc = SCENARIOS[(i + 1) % 6]
    specialty, cause, injury, story, defkind = sc
    doc = Doc(f"expert_report-{i:02d}", "expert_report")
    claimant = CLAIMANTS[(i + 5) % len(CLAIMANTS)]
    ref = claim_ref("CNST")
    when = date_between(dt.date(2023, 6, 1), dt.date(2025, 6, 30))
    d1 = date_between(dt.date(2019, 1, 1), dt.date(2022, 1, 1))
    d2 = d1 + dt.timedelta(days=rng.randint(5, 90))
    d3 = d2 + dt.timedelta(days=rng.randint(5, 90))
    dob = date_between(dt.date(1955, 1, 1), dt.date(1999, 1, 1))
    doc.h("MEDICO-LEGAL REPORT ON BREACH OF DUTY AND CAUSATION")
    doc.lines([f"Claimant: {claimant}", f"Date of birth: {fmt_date(dob, 'slash')}", f"Claim reference: {ref}", f"Date of report: {fmt_date(when, 'long')}", "Expert: Professor Idris Vallance FRCS"])
    doc.pd["dob"].add(dob)
    doc.ref("claim", ref)
    doc.h("1. Instructions")
    doc.p(f"I am instructed by {FIRMS[i % len(FIRMS)]} on behalf of the claimant. I understand my duty to the court and have complied with it, and with Part 35 of the Civil Procedure Rules.")
    doc.h("2. Summary of care")
    doc.p(story.format(d1=fmt_date(d1, "long"), d2=fmt_date(d2, "long"), d3=fmt_date(d3, "long")).replace("our client", "the claimant").replace("Our client", "The claimant"))
    doc.h("3. Opinion")
    doc.p("In my opinion the standard of care fell below that of a reasonably competent practitioner.")
    defendant = {"practice": PRACTICES[0], "ambulance": "Southvale Ambulance Service NHS Trust", "mental": "Harrowfield Mental Health NHS Foundation Trust"}.get(defkind, TRUSTS[i % 4])
    doc.p(f"The care in question was provided by {defendant}.")
    doc.exp.update(document_date=when, incident_date=d1)
    doc.exp["references"]["case_ref"] = ref
    doc.exp["parties"].update(claimant=claimant, defendants=[defendant], claimant_solicitor=FIRMS[i % len(FIRMS)])
    doc.exp["clinical"].update(scheme="CNST", specialty=specialty, cause=cause, injury=injury)
    return doc


def medical_records(i):
    doc = Doc(f"medical_records-{i:02d}", "medical_records")
    patient = CLAIMANTS[(i + 9) % len(CLAIMANTS)]
    trust = TRUSTS[(i + 3) % 4]
    nhs = nhs_number()
    dob = date_between(dt.date(1940, 1, 1), dt.date(2005, 1, 1))
    admit = date_between(dt.date(2020, 1, 1), dt.date(2023, 1, 1))
    printed = admit + dt.timedelta(days=rng.randint(300, 900))
    doc.h(f"{trust} — Clinical Notes")
    doc.lines([f"Patient name: {patient}", f"NHS number: {nhs}", f"DOB: {fmt_date(dob, 'slash')}", f"Printed on: {fmt_date(printed, 'slash')}"])
    doc.pd["nhs"].add(nhs)
    doc.pd["dob"].add(dob)
    for k in range(3):
        day = admit + dt.timedelta(days=k)
        doc.lines([f"{fmt_date(day, 'slash')} 09:{10 + k * 7:02d} Entry by Dr R. Okonkwo (Registrar)", rng.choice([
            "Admitted via ED with abdominal pain. Obs stable. Plan: bloods, analgesia, review by surgical team.",
            "Ward round. Patient comfortable. Discharge summary to follow.",
            "Reviewed. Wound clean. Plan: continue antibiotics for 5 days.",
        ])])
    doc.exp.update(document_date=printed, incident_date=admit)
    doc.exp["parties"].update(claimant=patient, defendants=[trust])
    return doc


def early_notification(i):
    doc = Doc(f"early_notification-{i:02d}", "early_notification")
    trust = TRUSTS[i % 4]
    ref = claim_ref("CNST")
    born = date_between(dt.date(2021, 1, 1), dt.date(2024, 1, 1))
    when = born + dt.timedelta(days=rng.randint(20, 90))
    mother = CLAIMANTS[(i + 13) % len(CLAIMANTS)]
    doc.h("Early Notification Scheme — report to NHS Resolution")
    doc.lines([f"Reporting trust: {trust}", f"NHSR reference: {ref}", f"Date of report: {fmt_date(when, 'long')}", f"Mother: {mother}"])
    doc.ref("claim", ref)
    doc.pd["dob"].add(born)
    doc.p(f"The baby was born on {fmt_date(born, 'long')} by emergency caesarean section after a prolonged second stage of labour. The baby required therapeutic cooling and an MRI showed hypoxic ischaemic encephalopathy. The case has been referred to Maternity and Newborn Safety Investigations.")
    doc.exp.update(document_date=when, incident_date=born)
    doc.exp["references"]["case_ref"] = ref
    doc.exp["parties"].update(claimant=mother, defendants=[trust])
    doc.exp["clinical"].update(scheme="CNST", specialty="Obstetrics", injury="Brain damage")
    return doc


def particulars(i):
    doc = Doc(f"particulars_of_claim-{i:02d}", "particulars_of_claim")
    claimant = CLAIMANTS[(i + 15) % len(CLAIMANTS)]
    trust = TRUSTS[(i + 1) % 4]
    court = f"KB-{rng.randint(2023, 2025)}-{rng.randint(1, 9999):06d}"
    d1 = date_between(dt.date(2019, 1, 1), dt.date(2022, 1, 1))
    when = date_between(dt.date(2023, 1, 1), dt.date(2025, 6, 1))
    doc.lines([f"Claim No: {court}"])
    doc.ref("court", court)
    doc.h("IN THE HIGH COURT OF JUSTICE")
    doc.lines(["BETWEEN", claimant.upper(), "Claimant", "-and-", trust.upper(), "Defendant"])
    doc.h("PARTICULARS OF CLAIM")
    doc.p(f"1. On {fmt_date(d1, 'long')} the Claimant was admitted to the Defendant's hospital for a hip replacement.")
    doc.p("2. PARTICULARS OF NEGLIGENCE: the Defendant failed to recognise a post-operative infection.")
    doc.p("AND THE CLAIMANT CLAIMS damages exceeding £200,000.")
    doc.exp["amounts_gbp"].append(200000.0)
    doc.lines([f"Dated: {fmt_date(when, 'slash')}"])
    doc.exp.update(document_date=when, incident_date=d1)
    doc.exp["parties"].update(claimant=claimant, defendants=[trust])
    doc.exp["clinical"].update(scheme="CNST", specialty="Orthopaedic Surgery", cause="Failure to recognise complication")
    return doc


def defence(i):
    doc = Doc(f"defence-{i:02d}", "defence")
    claimant = CLAIMANTS[(i + 2) % len(CLAIMANTS)]
    trust = TRUSTS[(i + 3) % 4]
    court = f"KB-{rng.randint(2023, 2025)}-{rng.randint(1, 9999):06d}"
    ref = claim_ref("CNST")
    when = date_between(dt.date(2024, 1, 1), dt.date(2025, 6, 1))
    doc.lines([f"Claim No: {court}", f"NHS Resolution reference: {ref}"])
    doc.ref("court", court)
    doc.ref("claim", ref)
    doc.lines(["BETWEEN", claimant.upper(), "Claimant", "and", trust.upper(), "Defendant"])
    doc.h("DEFENCE")
    doc.p("1. It is admitted that the Defendant owed the Claimant a duty of care. It is denied that the Defendant was in breach of duty as alleged or at all. No admissions are made as to causation and the Claimant is required to prove the same.")
    doc.lines([f"Dated: {fmt_date(when, 'long')}", PANEL[i % 2]])
    doc.exp.update(document_date=when)
    doc.exp["references"]["case_ref"] = ref
    doc.exp["parties"].update(claimant=claimant, defendants=[trust])
    doc.exp["clinical"]["scheme"] = "CNST"
    return doc


def claim_form(i):
    doc = Doc(f"claim_form-{i:02d}", "claim_form")
    claimant = CLAIMANTS[(i + 17) % len(CLAIMANTS)]
    trust = TRUSTS[i % 4]
    cc = f"K{rng.randint(10, 99)}YX{rng.randint(100, 999)}"
    issued = date_between(dt.date(2024, 1, 1), dt.date(2025, 6, 1))
    doc.h("Claim Form")
    doc.lines(["In the County Court Money Claims Centre", f"Claim no. {cc}", f"Issue date: {fmt_date(issued, 'slash')}"])
    doc.ref("court", cc)
    doc.lines(["Claimant's full name and address", claimant] + address("", TOWNS[i % len(TOWNS)])[1:])
    doc.pd["pc"].add(TOWNS[i % len(TOWNS)][1].replace(" ", ""))
    doc.lines(["Defendant's name and address", trust])
    doc.p("Brief details of claim: damages for personal injury and loss arising from clinical negligence in the Defendant's emergency department.")
    doc.p("Value: the Claimant expects to recover more than £25,000.")
    doc.exp["amounts_gbp"].append(25000.0)
    doc.exp.update(document_date=issued)
    doc.exp["parties"].update(claimant=None, defendants=[trust])
    doc.exp["clinical"].update(specialty="Casualty / A & E")
    return doc


def foi_body(i, topic):
    return f"Dear Sir or Madam,\n\nUnder the Freedom of Information Act 2000 I would like to request {topic}.\n\nPlease provide the information in an electronic format.\n\nYours faithfully,\n\n{REQUESTERS[i % len(REQUESTERS)]}"


def foi_email(i):
    doc = Doc(f"foi_request-{i:02d}", "foi_request")
    title, topic = FOI_TOPICS[i % len(FOI_TOPICS)]
    requester = REQUESTERS[i % len(REQUESTERS)]
    sent = dt.datetime(2025, 1 + i % 9, 3 + i, 9 + i % 7, 15, tzinfo=dt.timezone.utc)
    body = foi_body(i, topic)
    ref = f"FOI_{6400 + i * 7}" if i % 3 == 0 else None
    if ref:
        body = body.replace("Dear Sir or Madam,", f"Dear Sir or Madam,\n\nThis follows my earlier request {ref}.")
        doc.ref("foi", ref)
        doc.exp["references"]["case_ref"] = ref
    email = f"{ascii_name(requester.split()[0])}.{i}@mail.example"
    doc.pd["email"].update({email, "foi@resolution.example"})
    doc.email = dict(sender=f"{requester} <{email}>", to="FOI Team <foi@resolution.example>", subject=f"Freedom of Information request – {title}", date=sent, body=body)
    doc.exp.update(document_date=sent.date())
    doc.exp["parties"]["requester"] = requester
    return doc


def internal_review(i):
    doc = Doc(f"foi_internal_review_request-{i:02d}", "foi_internal_review_request")
    requester = REQUESTERS[(i + 4) % len(REQUESTERS)]
    ref = f"FOI_{5100 + i * 13}"
    sent = dt.datetime(2025, 2 + i, 10 + i, 14, 5, tzinfo=dt.timezone.utc)
    body = f"Dear FOI Team,\n\nRe: {ref}/IR\n\nI am writing to request an internal review of your response to my request {ref}. I am not satisfied with your response because you applied section 12 without offering advice on narrowing the request.\n\nKind regards,\n{requester}"
    doc.ref("foi", f"{ref}/IR")
    doc.ref("foi", ref)
    email = f"{ascii_name(requester.split()[-1])}@post.example"
    doc.pd["email"].update({email, "foi@resolution.example"})
    doc.email = dict(sender=f"{requester} <{email}>", to="foi@resolution.example", subject=f"Internal review – {ref}", date=sent, body=body)
    doc.exp.update(document_date=sent.date())
    doc.exp["references"]["case_ref"] = ref
    doc.exp["parties"]["requester"] = requester
    return doc


def appeal(i):
    doc = Doc(f"primary_care_appeal-{i:02d}", "primary_care_appeal")
    ref = f"SHA/{rng.randint(20000, 29999)}" if i % 2 == 0 else f"REV/{rng.randint(1000, 99999)}"
    when = date_between(dt.date(2024, 1, 1), dt.date(2025, 6, 1))
    decision = when - dt.timedelta(days=rng.randint(5, 25))
    pharmacy = rng.choice(["Kestrel Pharmacy Ltd", "Ashgrove Chemists Ltd", "Bellwood Pharmacy"])
    doc.lines([pharmacy, f"{rng.randint(1, 50)} Market Place", TOWNS[i % len(TOWNS)][0], TOWNS[i % len(TOWNS)][1]])
    doc.pd["pc"].add(TOWNS[i % len(TOWNS)][1].replace(" ", ""))
    doc.lines([fmt_date(when, "long")])
    doc.lines(["Primary Care Appeals", "NHS Resolution"])
    doc.h("NOTICE OF APPEAL")
    doc.p(f"Appeal reference: {ref}")
    doc.ref("appeal", ref)
    doc.p(f"We appeal against the decision of NHS England dated {fmt_date(decision, 'long')} to refuse our application for inclusion in the pharmaceutical list under the NHS (Pharmaceutical and Local Pharmaceutical Services) Regulations 2013.")
    doc.h("Grounds of appeal")
    doc.p("The decision failed to take into account the needs of the population and the appellant's evidence.")
    doc.exp.update(document_date=when)
    doc.exp["references"]["case_ref"] = ref
    return doc


def covering(i):
    doc = Doc(f"correspondence-{i:02d}", "correspondence")
    firm = FIRMS[(i + 3) % len(FIRMS)]
    ref = claim_ref("CNST")
    when = date_between(dt.date(2024, 1, 1), dt.date(2025, 6, 1))
    letterhead(doc, firm, TOWNS[(i + 3) % len(TOWNS)])
    doc.lines([fmt_date(when, "long")])
    doc.lines([f"Your ref: {ref}"])
    doc.ref("claim", ref)
    doc.p("Dear Sirs")
    doc.p("Thank you for your letter. We enclose a copy of the medical records index and will write again shortly with our client's schedule of loss.")
    doc.p("Yours faithfully")
    doc.p(firm)
    doc.exp["parties"]["claimant_solicitor"] = firm
    doc.exp.update(document_date=when)
    doc.exp["references"]["case_ref"] = ref
    doc.exp["clinical"]["scheme"] = "CNST"
    return doc


def performance(i):
    doc = Doc(f"performance_concern-{i:02d}", "performance_concern")
    when = date_between(dt.date(2024, 1, 1), dt.date(2025, 6, 1))
    doc.lines([fmt_date(when, "long")])
    doc.h("Request for advice: concern about a practitioner")
    doc.p(f"We would welcome Practitioner Performance Advice on concerns about the performance of a locum consultant at {TRUSTS[i % 4]}. The medical director is considering a restriction of practice while concerns are investigated.")
    doc.exp.update(document_date=when)
    return doc


# ---------------------------------------------------------------------------------------
# Producers.

def render_reportlab(doc, path):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
    from xml.sax.saxutils import escape
    pdfmetrics.registerFont(TTFont("DejaVu", FONT))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", FONT_BOLD))
    body = ParagraphStyle("b", fontName="DejaVu", fontSize=10.5, leading=14)
    head = ParagraphStyle("h", fontName="DejaVu-Bold", fontSize=12, leading=16, spaceBefore=6, spaceAfter=4)
    flow = []
    for kind, text in doc.blocks:
        if kind == "h":
            flow.append(Paragraph(escape(text), head))
        elif kind == "l":
            flow.append(Paragraph(escape(text), body))
        elif text:
            flow.append(Paragraph(escape(text).replace("\n", "<br/>"), body))
            flow.append(Spacer(1, 6))
        else:
            flow.append(Spacer(1, 8))
    SimpleDocTemplate(path, pagesize=A4, title=doc.name, author="postroom test set", invariant=1).build(flow)


def render_fpdf(doc, path):
    from fpdf import FPDF
    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    pdf.add_font("DejaVu", "", FONT)
    pdf.add_font("DejaVu", "B", FONT_BOLD)
    pdf.add_page()
    pdf.set_margins(20, 20, 20)
    for kind, text in doc.blocks:
        if kind == "h":
            pdf.set_font("DejaVu", "B", 12)
            pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        elif kind == "l":
            pdf.set_font("DejaVu", "", 10)
            pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        elif text:
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        else:
            pdf.ln(4)
    pdf.output(path)


def render_typst(doc, path):
    import typst

    def esc(t):
        for ch in "\\#$*_@<>`[]~=/-+":
            t = t.replace(ch, "\\" + ch)
        return t

    src = ['#set page(paper: "a4", margin: 2cm)', '#set text(font: "DejaVu Sans", size: 10pt, lang: "en")', "#set par(justify: false)"]
    for kind, text in doc.blocks:
        if kind == "h":
            src.append(f"#text(weight: \"bold\", size: 12pt)[{esc(text)}]\n")
        elif kind == "l":
            src.append(f"{esc(text)} \\")
        elif text:
            src.append(esc(text).replace("\n", " \\\n") + "\n")
        else:
            src.append("#v(6pt)")
    tmp = path + ".typ"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(src))
    typst.compile(tmp, output=path, font_paths=[os.path.dirname(FONT)])
    os.remove(tmp)


def render_docx(doc, path):
    import docx
    d = docx.Document()
    d.core_properties.created = dt.datetime(2024, 1, 1)
    d.core_properties.modified = dt.datetime(2024, 1, 1)
    section = d.sections[0]
    section.header.paragraphs[0].text = "CONFIDENTIAL"
    for kind, text in doc.blocks:
        if kind == "h":
            d.add_heading(text, level=2)
        elif text or kind == "l":
            d.add_paragraph(text)
    d.save(path)


def render_eml(doc, path, attachment=None):
    e = doc.email
    msg = EmailMessage()
    msg["From"] = e["sender"]
    msg["To"] = e["to"]
    msg["Subject"] = e["subject"]
    msg["Date"] = format_datetime(e["date"])
    msg["Message-ID"] = f"<{doc.name}@mail.example>"
    msg.set_content(e["body"])
    if attachment:
        name, data, mime = attachment
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    with open(path, "wb") as f:
        f.write(bytes(msg))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    docs = []
    for i in range(8):
        docs.append(claim_letter(i, "letter_of_claim"))
    for i in range(5):
        docs.append(claim_letter(i + 3, "letter_of_notification"))
    for i in range(4):
        docs.append(letter_of_response(i))
    for i in range(4):
        docs.append(part36(i))
    for i in range(4):
        docs.append(court_order(i))
    for i in range(4):
        docs.append(expert_report(i))
    for i in range(3):
        docs.append(medical_records(i))
    for i in range(3):
        docs.append(early_notification(i))
    for i in range(2):
        docs.append(particulars(i))
    for i in range(2):
        docs.append(defence(i))
    for i in range(2):
        docs.append(claim_form(i))
    for i in range(4):
        docs.append(appeal(i))
    for i in range(3):
        docs.append(covering(i))
    for i in range(2):
        docs.append(performance(i))
    emails = [foi_email(i) for i in range(8)] + [internal_review(i) for i in range(4)]

    producers = [("pdf", render_reportlab), ("pdf", render_fpdf), ("pdf", render_typst), ("docx", render_docx)]
    made = []
    for n, doc in enumerate(docs):
        ext, render = producers[n % len(producers)]
        producer = render.__name__.replace("render_", "")
        name = f"{doc.name}.{producer}.{ext}"
        render(doc, os.path.join(OUT, name))
        made.append((name, doc))
    for n, doc in enumerate(emails):
        attachment = None
        if n % 3 == 1:
            # A covering email with a letter attached: the email itself is the request,
            # the attachment is the same text as a PDF.
            buf = os.path.join(OUT, "_tmp.pdf")
            render_reportlab(doc, buf) if doc.blocks else None
            att = Doc(doc.name + "-letter", doc.kind)
            att.p(doc.email["body"])
            render_fpdf(att, buf)
            attachment = (f"request-{n}.pdf", open(buf, "rb").read(), "application/pdf")
            os.remove(buf)
        name = f"{doc.name}.eml"
        render_eml(doc, os.path.join(OUT, name), attachment)
        made.append((name, doc))
    for name, doc in made:
        with open(os.path.join(OUT, name + ".expected.json"), "w", encoding="utf-8") as f:
            json.dump(doc.expected(), f, ensure_ascii=False, indent=2, sort_keys=True)
            f.write("\n")
    print(f"{len(made)} documents in {OUT}")


def demo_samples():
    """The bundled samples of `postroom demo`: one claim's story, FOI requests, an appeal,
    an unreferenced letter, a duplicate and a hostile file."""
    out = os.path.join(ROOT, "..", "..", "samples")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    state = rng.getstate()
    rng.seed(7)
    claim = claim_letter(0, "letter_of_claim")
    ref = claim.exp["references"]["case_ref"]
    render_reportlab(claim, os.path.join(out, "01-letter-of-claim.pdf"))
    shutil.copy(os.path.join(out, "01-letter-of-claim.pdf"), os.path.join(out, "07-letter-of-claim-copy.pdf"))
    report = expert_report(0)
    report.blocks = [(k, t.replace(report.exp["references"]["case_ref"], ref)) for k, t in report.blocks]
    render_typst(report, os.path.join(out, "02-expert-report.pdf"))
    offer = part36(0)
    offer.blocks = [(k, t.replace(offer.exp["references"]["case_ref"], ref)) for k, t in offer.blocks]
    render_docx(offer, os.path.join(out, "03-part-36-offer.docx"))
    render_eml(foi_email(1), os.path.join(out, "04-foi-request.eml"))
    render_eml(internal_review(0), os.path.join(out, "05-internal-review.eml"))
    render_fpdf(appeal(0), os.path.join(out, "06-notice-of-appeal.pdf"))
    loose = Doc("loose", "correspondence")
    loose.p("Dear Sir or Madam,")
    loose.p("I enclose the documents you asked for at our meeting last week. Please let me know if you need anything else.")
    loose.p("Yours faithfully,")
    loose.p("Ruth Abernethy")
    render_fpdf(loose, os.path.join(out, "08-letter-without-reference.pdf"))
    with open(os.path.join(out, "09-photo-named-as.pdf"), "wb") as f:
        f.write(b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00" + bytes(range(256)) * 8)
    rng.setstate(state)
    print(f"demo samples in {out} (claim {ref})")


if __name__ == "__main__":
    main()
    demo_samples()
