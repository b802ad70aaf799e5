#!/usr/bin/env python3
"""Builds the labelled set for matching documents to cases (issue 18):
tests/data/matching/cases.csv (imported first), docs/<name>.txt, and expected.csv
(`file,expected_case,has_reference`: the case each document belongs to, `-` for none).

Every person, trust and number here is fictional; NHS numbers are in the 999 range
reserved for testing (ten digits, modulus 11 check digit valid). Documents whose name
starts `1-` carry one of our references; `2-` carry none (court forms with a court
number, medical records with NHS number and date of birth, expert reports naming the
claimant `SURNAME, Forename` with a date of birth, letters naming the parties and the
incident date); `3-` belong to no case. They are ingested in name order.

Run once by a developer (not by CI): python3 tests/data/matching/generate.py
The outputs are committed.
"""
import csv
import datetime as dt
import os
import random
import shutil

ROOT = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(ROOT, "docs")
rng = random.Random(18)

TRUSTS = [
    "Barsetshire Hospitals NHS Foundation Trust",
    "Wessex Vale NHS Trust",
    "Fenbrook University Hospitals NHS Foundation Trust",
    "Loamshire Integrated Care Board",
    "Casterbridge Medical Centre",
    "Melchester NHS Trust",
]
# (forename, surname): shared surnames and initials on purpose.
PEOPLE = [
    ("Zoë", "Pemberton-Hale"), ("Łukasz", "Nowakowski"), ("Siobhán", "Ó Dálaigh"),
    ("Anita", "Patel"), ("Arjun", "Patel"), ("Chidi", "Okonkwo"), ("Grace", "Okonkwo"),
    ("Amélie", "Durand"), ("Björn", "Håkansson"), ("Kwame", "Mensah"), ("Ruth", "Abernethy"),
    ("Jane", "Smith"), ("John", "Smith"), ("Petra", "Dvořáková"), ("Oisín", "Mac Giolla"),
    ("Ines", "Gonçalves"), ("Daniel", "Ng"), ("Harriet", "Quennell"), ("Émile", "Beaufort"),
    ("Miloš", "Janković"), ("Aoife", "Byrne"), ("Tomasz", "Żółkiewski"), ("Priya", "Raghunathan"),
    ("Samuel", "Whitlock"), ("Leah", "Fairbrother"), ("Owen", "Prothero"), ("Nia", "Prothero"),
    ("Farah", "Haddad"), ("Ewan", "McAllister"), ("Dagný", "Sigurðardóttir"),
]
SCHEMES = ["CNST", "CNST", "CNST", "ELS", "CNSGP"]


def nhs_number():
    while True:
        digits = [9, 9, 9] + [rng.randrange(10) for _ in range(6)]
        total = sum(d * (10 - i) for i, d in enumerate(digits))
        check = 11 - total % 11
        check = 0 if check == 11 else check
        if check != 10:
            d = "".join(map(str, digits + [check]))
            return d


def spaced(n):
    return f"{n[:3]} {n[3:6]} {n[6:]}"


def court_number(i):
    if i % 2:
        return f"KB-{2023 + i % 3}-{rng.randrange(1000, 999999):06d}"
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return f"{rng.choice(letters)}{rng.randrange(10, 99)}{rng.choice(letters)}{rng.choice(letters)}{rng.randrange(100, 999)}"


def uk(d):
    return d.strftime("%d/%m/%Y")


def long_date(d):
    return f"{d.day} {d.strftime('%B %Y')}"


def upper_surname(c):
    return f"{c['surname'].upper()}, {c['forename']}"


def build_cases():
    cases = []
    for i, (forename, surname) in enumerate(PEOPLE):
        scheme = SCHEMES[i % len(SCHEMES)]
        year = 22 + i % 4
        ref = f"{scheme}/{year}/{100200 + i * 37:06d}"
        dob = dt.date(1950 + rng.randrange(60), rng.randrange(1, 13), rng.randrange(1, 29))
        incident = dt.date(2021 + i % 3, rng.randrange(1, 13), rng.randrange(1, 29))
        cases.append({
            "i": i, "ref": ref, "scheme": scheme, "forename": forename, "surname": surname,
            "name": f"{forename} {surname}", "dob": dob, "incident": incident,
            "nhs": nhs_number(), "court": court_number(i),
            "trust": TRUSTS[i % len(TRUSTS)],
            # What the organisation's system already knows: some cases lack the NHS
            # number, the date of birth or the court number, which filed documents teach.
            "import_nhs": i % 3 != 0, "import_dob": i % 4 != 1, "import_court": i % 2 == 0,
        })
    return cases


def write_csv(cases):
    with open(os.path.join(ROOT, "cases.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["reference", "kind", "claimant", "opened", "defendants", "court_ref",
                    "date_of_birth", "nhs_number", "scheme"])
        for c in cases:
            claimant = upper_surname(c) if c["i"] % 2 else c["name"]
            w.writerow([c["ref"], "claim", claimant, "2024-06-01", c["trust"],
                        c["court"] if c["import_court"] else "",
                        uk(c["dob"]) if c["import_dob"] else "",
                        spaced(c["nhs"]) if c["import_nhs"] else "", c["scheme"]])


def letter_of_claim(c):
    ref = c["ref"] if c["i"] % 3 else c["ref"].lower().replace("/", " / ")
    return f"""Pemberley & Quayle Solicitors LLP
1 High Street, Barchester

Your ref: {ref}
Our ref: PQ/{c['i']:03d}/MED

{long_date(c['incident'] + dt.timedelta(days=400))}

Dear Sirs

LETTER OF CLAIM
Pre-Action Protocol for the Resolution of Clinical Disputes

Our client: {c['name']}
Date of birth: {uk(c['dob'])}
NHS number: {spaced(c['nhs'])}
Date of incident: {uk(c['incident'])}
Defendant: {c['trust']}

We are instructed by the above named in a claim against {c['trust']}. Breach of duty
and causation are set out below, with a chronology. We ask for a letter of response
within four months.

Yours faithfully
Pemberley & Quayle Solicitors LLP
"""


def correspondence(c):
    return f"""Dear Sirs

Re: your reference {c['ref']}

Thank you for your letter. We enclose our client's signed form of authority and will
write again once the records have been reviewed.

Yours faithfully
Pemberley & Quayle Solicitors LLP
"""


def court_order(c):
    court = c["court"]
    head = ("IN THE HIGH COURT OF JUSTICE\nKING'S BENCH DIVISION" if court.startswith(("KB", "QB"))
            else "IN THE COUNTY COURT AT BARCHESTER")
    return f"""{head}

Claim No: {court}

BETWEEN
{c['name'].upper()}
Claimant
and
{c['trust'].upper()}
Defendant

ORDER

Before District Judge Marlow sitting at Barchester.
UPON READING the parties' agreed directions
IT IS ORDERED THAT:
1. The Defendant shall file and serve its Defence by 4pm on 14 March 2025.
2. Costs in the case.
"""


def court_numbered_ref(c):
    # Correspondence with our reference naming the court number: the case learns it.
    return f"""Dear Sirs

Your ref: {c['ref']}
Claim number: {c['court']}

We confirm the claim form was issued and will be served within four months.

Yours faithfully
Pemberley & Quayle Solicitors LLP
"""


def medical_records(c):
    return f"""{c['trust']}
CLINICAL NOTES - printed on 02/09/2024

Patient: {upper_surname(c)}   DOB: {uk(c['dob'])}
NHS No: {spaced(c['nhs'])}

{uk(c['incident'])} 09:40 Ward round. Presenting complaint: abdominal pain.
Observations stable. Plan: review by surgical registrar.
Entry by: Staff Nurse K Lowell
"""


def expert_report(c):
    name = upper_surname(c) if c["i"] % 2 else f"{c['forename'][0]}. {c['surname']}"
    return f"""MEDICO-LEGAL REPORT ON CAUSATION

Claimant: {name}
Date of birth: {long_date(c['dob'])}

Expert report prepared under Part 35. I understand my duty to the court.
In my opinion, on the balance of probabilities, earlier treatment would have
avoided the injury. Condition and prognosis are set out below.
"""


def letter_of_response(c):
    return f"""{c['trust']}
Legal Services

LETTER OF RESPONSE

Claimant: {c['name']}
Date of incident: {uk(c['incident'])}

In response to your letter of claim, breach of duty is denied. Causation is denied.
{c['trust']} will rely on the expert evidence in due course.

Yours faithfully
Head of Legal Services
"""


def stranger_records(i):
    forename, surname = ["Marta", "Wilkins"] if i == 0 else ["Ivo", "Barrowclough"]
    dob = dt.date(1971 + i, 3, 9)
    return f"""Wessex Vale NHS Trust
CLINICAL NOTES - printed on 02/09/2024

Patient: {surname.upper()}, {forename}   DOB: {uk(dob)}
NHS No: {spaced(nhs_number())}

Ward round. Presenting complaint: chest pain. Plan: discharge.
"""


def circular():
    return """Dear colleague

Our annual conference will be held in Barchester in May. Please register by the end of
the month.

With best wishes
The Events Team
"""


def main():
    cases = build_cases()
    if os.path.isdir(DOCS):
        shutil.rmtree(DOCS)
    os.makedirs(DOCS)
    write_csv(cases)
    rows = []

    def doc(name, text, case, has_ref):
        with open(os.path.join(DOCS, name + ".txt"), "w", encoding="utf-8") as f:
            f.write(text)
        rows.append([name + ".txt", case["ref"] if case else "-", "yes" if has_ref else "no"])

    for c in cases:
        n = f"{c['i']:02d}"
        doc(f"1-{n}a-letter-of-claim", letter_of_claim(c), c, True)
        if c["i"] % 2 == 1:
            doc(f"1-{n}b-correspondence", correspondence(c), c, True)
        if not c["import_court"] and c["i"] % 4 == 1:
            doc(f"1-{n}c-court-number", court_numbered_ref(c), c, True)
        if c["import_court"] or c["i"] % 4 == 1:
            doc(f"2-{n}a-court-order", court_order(c), c, False)
        if c["i"] % 3 != 2:
            doc(f"2-{n}b-medical-records", medical_records(c), c, False)
        if c["i"] % 2 == 1 or c["i"] % 5 == 0:
            doc(f"2-{n}c-expert-report", expert_report(c), c, False)
        if c["i"] % 3 == 2:
            doc(f"2-{n}d-letter-of-response", letter_of_response(c), c, False)
    # Harder ones: initials shared by two claimants of one surname, an NHS number with a
    # wrong check digit, a court number mistyped, a court number of one case with another
    # case's NHS number (never filed by rule), a forename without a date of birth.
    anita, arjun, jane, john = cases[3], cases[4], cases[11], cases[12]
    doc("2-90-expert-report-initials", expert_report(dict(arjun, i=0, forename="A")), arjun, False)
    bad = medical_records(anita).replace(spaced(anita["nhs"]), spaced(anita["nhs"])[:-1] + str((int(anita["nhs"][-1]) + 1) % 10))
    doc("2-91-medical-records-bad-nhs", bad, anita, False)
    mistyped = court_order(dict(john, court=john["court"][:-1] + str((int(john["court"][-1]) + 1) % 10)))
    mistyped = mistyped.replace("BETWEEN", f"Claimant: Mr {john['name']}\n\nBETWEEN")
    doc("2-92-court-order-mistyped", mistyped, john, False)
    mixed = court_order(jane).replace("ORDER\n", f"ORDER\nNHS No: {spaced(john['nhs'])}\n", 1)
    doc("2-93-court-order-two-cases", mixed, jane, False)
    doc("2-94-letter-forename-only", f"""Dear Sirs

Re: our client Mr {john['name']}
Claimant: {john['name']}

We write about the claim against {TRUSTS[0]} and will send the expert evidence shortly.

Yours faithfully
Pemberley & Quayle Solicitors LLP
""", john, False)
    doc("3-00-stranger-records", stranger_records(0), None, False)
    doc("3-01-stranger-records", stranger_records(1), None, False)
    doc("3-02-circular", circular(), None, False)
    with open(os.path.join(ROOT, "expected.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "expected_case", "has_reference"])
        w.writerows(rows)
    print(f"{len(cases)} cases, {len(rows)} documents")


if __name__ == "__main__":
    main()
