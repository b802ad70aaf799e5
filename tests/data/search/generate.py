#!/usr/bin/env python3
"""Writes the labelled search set: ~60 fictional documents (docs/*.txt) and the queries
(queries.tsv: kind, query, expected file names) that tests/it/search.rs measures recall@10
on. Fictional people; NHS numbers in the 999 range with a valid modulus 11 check digit.
Deterministic: run it again and nothing changes."""
import os, random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(21)

def nhs(n9):
    digits = [int(c) for c in n9]
    total = sum(d * (10 - i) for i, d in enumerate(digits))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return None
    return n9 + str(check)

people = [
    ("Aldous", "Fenwick"), ("Marguerite", "Okonkwo-Blythe"), ("Tobias", "Quillfeather"),
    ("Zoë", "Hartley-Baines"), ("Siobhán", "O'Connell"), ("Rashid", "Penhaligon"),
    ("Ingrid", "Vasquez-Thorne"), ("Cornelius", "Ashdown"), ("Priya", "Ravensworth"),
    ("Benedict", "Marchbanks"), ("Olúwaseun", "Adeyemi-Clarke"), ("Henrietta", "Goldsworthy"),
    ("Lachlan", "Pemberton"), ("Anouk", "de Vries"), ("Thaddeus", "Brackenridge"),
]
numbers = []
i = 0
while len(numbers) < len(people):
    n = nhs("999%06d" % (123000 + i * 37))
    if n:
        numbers.append(n)
    i += 1

topics = {
    "mri": ("delayed MRI scan", "the MRI of the lumbar spine was delayed by nine weeks", "radiology"),
    "sepsis": ("missed sepsis", "signs of sepsis were not escalated and antibiotics were late", "sepsis"),
    "fracture": ("undiagnosed fracture", "an X-ray showed a fractured scaphoid that was not reported", "orthopaedics"),
    "birth": ("birth injury", "the midwife did not act on an abnormal CTG trace during labour", "obstetrics"),
    "medication": ("medication error", "a tenfold overdose of morphine was prescribed on the ward", "pharmacy"),
}
topic_names = list(topics)

forms = [
    ("letter_of_claim", "LETTER OF CLAIM\nWithout prejudice save as to costs.\n\nDear Sirs,\n\nOur client: {name} (date of birth {dob}), NHS number {nhs_written}.\nYour reference: {ref}.\n\nWe write under the Pre-Action Protocol for the Resolution of Clinical Disputes. This is a letter of claim concerning {topic_title}: {topic_text}. Our client alleges a failure to diagnose and treat in time.\n\nYours faithfully,\nHarrow & Vane Solicitors"),
    ("medical_report", "EXPERT MEDICAL REPORT\nPrepared for the court in the matter of {name}.\nClaim {ref}. NHS number {nhs_written}.\n\nSummary of opinion: {topic_text}. In my opinion the standard of care in {specialty} fell below that of a reasonably competent practitioner, and on the balance of probabilities this caused the injury.\n\nDr Imogen Saltmarsh FRCS"),
    ("court_order", "IN THE HIGH COURT OF JUSTICE\nKING'S BENCH DIVISION\nClaim No. {court}\n\nBETWEEN {name} (Claimant) and the NHS Trust (Defendant)\n\nORDER: The claim is stayed for three months for settlement negotiations about the {topic_title}. Costs in the case.\n\nDated this day."),
    ("correspondence", "Dear Claims Team,\n\nFurther to our call about {name}, please find attached the records you asked for. Our ref {ref}.\nThe patient's NHS number is {nhs_written}. The concern is the {topic_title}.\n\nKind regards,\nPatient Advice and Liaison Service"),
]

foi_subjects = [
    ("agency staff spending", "the total spent on agency nursing staff in each of the last three years"),
    ("parking charges", "income from hospital car parking charges and the number of penalty notices"),
    ("waiting times", "the median waiting time for hip replacement surgery by month"),
    ("cyber security", "the number of ransomware incidents reported and the cost of recovery"),
    ("interpreter services", "spending on interpreter and translation services by language"),
]

docs = {}
labels = {}  # file -> dict(person, ref, nhs, court, topic, kind)
n = 0
for p, (first, last) in enumerate(people):
    name = f"{first} {last}"
    ref = f"CNST/{24 + p % 2}/{4500 + p * 7:06d}"
    court = f"KB-{2023 + p % 3}-{1200 + p * 13:06d}"
    topic = topic_names[p % len(topic_names)]
    title, text, specialty = topics[topic]
    num = numbers[p]
    count = 3 + p % 2
    for k in range(count):
        kind, template = forms[(p + k) % len(forms)]
        written = num if (k % 2 == 0) else f"{num[:3]} {num[3:6]} {num[6:]}"
        dob = f"{1950 + p * 3 % 50}-{1 + p % 12:02d}-{1 + p % 27:02d}"
        body = template.format(name=name, dob=dob, nhs_written=written, ref=ref, court=court,
                               topic_title=title, topic_text=text, specialty=specialty)
        fname = f"doc{n:02d}-{kind}.txt"
        docs[fname] = body
        labels[fname] = dict(person=name, last=last, ref=ref, nhs=num, court=court if kind == "court_order" else None,
                             topic=topic, kind=kind, refmentioned=("{ref}" in template))
        n += 1

for f, (subject, detail) in enumerate(foi_subjects):
    for k in range(2):
        requester = ["Edwina Stroud", "Malcolm Tenterden", "Yusuf Abernethy", "Clementine Haworth", "Gideon Farrow"][f]
        num = f"FOI_{6400 + f * 5 + k}"
        body = (f"Freedom of Information request\n\nFrom: {requester}\n\nDear FOI Officer,\n\n"
                f"Under the Freedom of Information Act 2000 please send me {detail}. "
                f"{'This follows my earlier request ' + ('FOI_%d' % (6400 + f * 5)) + '.' if k else ''}\n\nYours sincerely,\n{requester}")
        fname = f"doc{n:02d}-foi_request.txt"
        docs[fname] = body
        labels[fname] = dict(person=requester, last=requester.split()[-1], ref=None, nhs=None, court=None,
                             topic="foi:" + subject, kind="foi_request",
                             # The reference a request quotes (a new one gets its own at ingest).
                             foi=[f"FOI_{6400 + f * 5}"] if k else [])
        n += 1

os.makedirs(os.path.join(HERE, "docs"), exist_ok=True)
for fname, body in docs.items():
    with open(os.path.join(HERE, "docs", fname), "w", encoding="utf-8") as fh:
        fh.write(body + "\n")

def having(pred):
    return sorted(f for f, l in labels.items() if pred(f, l))

queries = []
for first, last in people:
    full = f"{first} {last}"
    queries.append(("name", full, having(lambda f, l: l["person"] == full)))
    queries.append(("name", last, having(lambda f, l: l["last"] == last)))
# Names as people type them: without accents.
queries.append(("name", "Zoe Hartley-Baines", having(lambda f, l: l["last"] == "Hartley-Baines")))
queries.append(("name", "Siobhan O'Connell", having(lambda f, l: l["last"] == "O'Connell")))
queries.append(("name", "Oluwaseun Adeyemi-Clarke", having(lambda f, l: l["last"] == "Adeyemi-Clarke")))
for p in range(len(people)):
    ref = f"CNST/{24 + p % 2}/{4500 + p * 7:06d}"
    queries.append(("reference", ref, having(lambda f, l: l["ref"] == ref and l["kind"] != "court_order")))
    num = numbers[p]
    queries.append(("reference", num, having(lambda f, l: l["nhs"] == num and l["kind"] != "court_order")))
    queries.append(("reference", f"{num[:3]} {num[3:6]} {num[6:]}", having(lambda f, l: l["nhs"] == num and l["kind"] != "court_order")))
    court = f"KB-{2023 + p % 3}-{1200 + p * 13:06d}"
    hits = having(lambda f, l: l.get("court") == court)
    if hits:
        queries.append(("reference", court, hits))
for f in range(len(foi_subjects)):
    ref = f"FOI_{6400 + f * 5}"
    queries.append(("reference", ref, having(lambda fn, l: ref in l.get("foi", []))))
queries.append(("phrase", '"letter of claim"', having(lambda f, l: l["kind"] == "letter_of_claim")))
queries.append(("phrase", '"failure to diagnose"', having(lambda f, l: l["kind"] == "letter_of_claim")))
queries.append(("phrase", '"freedom of information act"', having(lambda f, l: l["kind"] == "foi_request")))
queries.append(("phrase", '"claim is stayed"', having(lambda f, l: l["kind"] == "court_order")))
queries.append(("phrase", '"balance of probabilities"', having(lambda f, l: l["kind"] == "medical_report")))
for topic, (title, text, specialty) in topics.items():
    queries.append(("topic", title, having(lambda f, l: l["topic"] == topic and l["kind"] != "medical_report")))
queries.append(("topic", "fractured scaphoid", having(lambda f, l: l["topic"] == "fracture" and l["kind"] in ("letter_of_claim", "medical_report"))))
queries.append(("topic", "morphine overdose", having(lambda f, l: l["topic"] == "medication" and l["kind"] in ("letter_of_claim", "medical_report"))))
for subject, _ in foi_subjects:
    queries.append(("topic", subject.split()[0] + " " + subject.split()[1], having(lambda f, l: l["topic"] == "foi:" + subject)))

with open(os.path.join(HERE, "queries.tsv"), "w", encoding="utf-8") as fh:
    fh.write("# kind\tquery\texpected documents (file names), generated by generate.py\n")
    for kind, q, expected in queries:
        assert expected, q
        fh.write(f"{kind}\t{q}\t{','.join(expected)}\n")
print(len(docs), "documents,", len(queries), "queries")
