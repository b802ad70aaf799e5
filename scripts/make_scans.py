#!/usr/bin/env python3
"""Builds postroom's scanned test set, tests/data/scans/: born-digital letters from
tests/data/documents/ (fictional people, 999-range NHS numbers) rasterised as a scanner and
a phone camera would produce them, with their true text and their labels.

Run by a developer through scripts/make-scans (which provides Pillow in .venv and poppler's
pdftoppm/pdftotext); the outputs are committed. Deterministic: one seed, fixed conditions.

Writes:
  <page>.jpg             the degraded page image (8-bit grey JPEG, as scanners write them)
  <doc>.txt              the true text of the source page (pdftotext, reading order)
  <doc>.labels.json      the source's labels (its .expected.json)
  contract-line.png      one rendered line of known text, for the OCR contract suite
  manifest.json          every page: image, source, condition, dpi, rotation, skew, text, labels
"""
import io
import json
import math
import os
import random
import shutil
import subprocess
import sys

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "tests", "data", "documents")
OUT = os.path.join(ROOT, "tests", "data", "scans")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
SEED = 20261207

# Letters from four PDF producers and several kinds of letter.
DOCS = [
    "letter_of_claim-01.fpdf",
    "letter_of_claim-02.typst",
    "letter_of_claim-04.reportlab",
    "letter_of_notification-04.fpdf",
    "settlement_offer-01.typst",
    "court_order-03.reportlab",
]

# condition: (dpi, rotation, skew degrees or None for "+/- up to max", degradations)
# "scan-200" is the goal condition: 200 dpi, scanner noise and up to 2 degrees of skew.
CONDITIONS = {
    "clean-300": dict(dpi=300, rotate=0, skew=0.0, noise=0, speckle=0.0, blur=0.0, jpeg=85, light=False),
    "scan-300": dict(dpi=300, rotate=0, skew=1.5, noise=7, speckle=0.002, blur=0.6, jpeg=70, light=False),
    "scan-200": dict(dpi=200, rotate=0, skew=2.0, noise=7, speckle=0.002, blur=0.5, jpeg=70, light=False),
    "scan-150": dict(dpi=150, rotate=0, skew=1.0, noise=7, speckle=0.001, blur=0.4, jpeg=70, light=False),
    "phone-200": dict(dpi=200, rotate=0, skew=1.0, noise=14, speckle=0.0, blur=1.1, jpeg=50, light=True),
    "rot90-200": dict(dpi=200, rotate=90, skew=0.5, noise=7, speckle=0.001, blur=0.5, jpeg=70, light=False),
    "rot180-200": dict(dpi=200, rotate=180, skew=0.5, noise=7, speckle=0.001, blur=0.5, jpeg=70, light=False),
    # A page fed in crooked (3.6 to 6 degrees): where straightening it first helps.
    "skew6-200": dict(dpi=200, rotate=0, skew=6.0, noise=7, speckle=0.002, blur=0.5, jpeg=70, light=False),
}
# Which documents each condition uses (all six for the goal condition; two otherwise,
# to keep the committed set to a few megabytes).
PLAN = {
    "clean-300": DOCS[:1],
    "scan-300": DOCS[3:4],
    "scan-200": DOCS,
    "scan-150": DOCS[:2],
    "phone-200": DOCS[3:5],
    "rot90-200": DOCS[4:6],
    "rot180-200": DOCS[1:3],
    "skew6-200": DOCS[2:4],
}


def run(args):
    return subprocess.run(args, check=True, capture_output=True).stdout


def rasterise(pdf, dpi):
    png = run(["pdftoppm", "-f", "1", "-l", "1", "-r", str(dpi), "-gray", "-png", pdf])
    return Image.open(io.BytesIO(png)).convert("L")


def crop_to_content(img, dpi):
    """Trims the blank foot of the page (a scanner's auto-crop), keeping side margins."""
    inverted = ImageChops.invert(img)
    box = inverted.point(lambda v: 255 if v > 60 else 0).getbbox()
    if not box:
        return img
    bottom = min(img.height, box[3] + int(0.6 * dpi))
    return img.crop((0, 0, img.width, bottom))


def gaussian_lut(sigma):
    """Maps a uniform byte to a Gaussian offset around 128 (inverse CDF, 256 steps)."""
    lut = []
    for i in range(256):
        p = (i + 0.5) / 256.0
        # Acklam-free approximation of the probit: good enough for scanner noise.
        z = math.sqrt(2) * inverse_erf(2 * p - 1)
        lut.append(max(0, min(255, int(round(128 + sigma * z)))))
    return lut


def inverse_erf(x):
    a = 0.147
    ln = math.log(1 - x * x)
    t = 2 / (math.pi * a) + ln / 2
    return math.copysign(math.sqrt(math.sqrt(t * t - ln / a) - t), x)


def degrade(img, c, rng, skew_sign):
    dpi = c["dpi"]
    if c["skew"]:
        angle = skew_sign * c["skew"] * (0.6 + 0.4 * rng.random())
        img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    else:
        angle = 0.0
    if c["blur"]:
        img = img.filter(ImageFilter.GaussianBlur(c["blur"] * dpi / 200))
    if c["light"]:
        # A phone photo's uneven light: darker towards one corner.
        w, h = img.size
        grad = Image.linear_gradient("L").resize((w, h)).rotate(30, fillcolor=0)
        shade = grad.point(lambda v: 255 - v * 70 // 255)
        img = ImageChops.multiply(img, shade)
    if c["noise"]:
        w, h = img.size
        uniform = Image.frombytes("L", (w, h), rng.randbytes(w * h))
        noise = uniform.point(gaussian_lut(c["noise"]))
        img = ImageChops.add(img, noise, scale=1.0, offset=-128)
    if c["speckle"]:
        w, h = img.size
        px = img.load()
        for _ in range(int(w * h * c["speckle"])):
            x, y = rng.randrange(w), rng.randrange(h)
            px[x, y] = 0 if rng.random() < 0.5 else 255
    if c["rotate"] == 90:
        img = img.transpose(Image.ROTATE_90)
    elif c["rotate"] == 180:
        img = img.transpose(Image.ROTATE_180)
    return img, angle


def contract_line():
    """One line of known text at 200 dpi (12 pt serif), for the contract suite."""
    font = ImageFont.truetype(FONT, 33)
    text = "Please quote reference CNST/22/001854 on every letter."
    img = Image.new("L", (1500, 120), 255)
    ImageDraw.Draw(img).text((40, 35), text, font=font, fill=0)
    img.save(os.path.join(OUT, "contract-line.png"), optimize=True)
    with open(os.path.join(OUT, "contract-line.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")


def main():
    for tool in ("pdftoppm", "pdftotext"):
        if not shutil.which(tool):
            sys.exit(f"make_scans: {tool} (poppler-utils) is needed")
    rng = random.Random(SEED)
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    contract_line()
    pages = []
    for doc in DOCS:
        pdf = os.path.join(SRC, doc + ".pdf")
        text = run(["pdftotext", "-f", "1", "-l", "1", "-enc", "UTF-8", pdf, "-"]).decode("utf-8")
        with open(os.path.join(OUT, doc + ".txt"), "w", encoding="utf-8") as f:
            f.write(text.replace("\f", "").strip() + "\n")
        shutil.copy(pdf + ".expected.json", os.path.join(OUT, doc + ".labels.json"))
    for condition, c in CONDITIONS.items():
        for i, doc in enumerate(PLAN[condition]):
            img = crop_to_content(rasterise(os.path.join(SRC, doc + ".pdf"), c["dpi"]), c["dpi"])
            img, angle = degrade(img, c, rng, 1 if i % 2 == 0 else -1)
            name = f"{condition}--{doc}.jpg"
            img.save(os.path.join(OUT, name), quality=c["jpeg"], optimize=True)
            pages.append({
                "image": name,
                "source": doc,
                "condition": condition,
                "dpi": c["dpi"],
                "rotation": c["rotate"],
                "skew_degrees": round(angle, 2),
                "noise_sigma": c["noise"],
                "speckle": c["speckle"],
                "blur": c["blur"],
                "jpeg_quality": c["jpeg"],
                "uneven_light": c["light"],
                "text": doc + ".txt",
                "labels": doc + ".labels.json",
            })
    with open(os.path.join(OUT, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"seed": SEED, "goal_condition": "scan-200", "pages": pages}, f, indent=1)
        f.write("\n")


# The demo's scanned letter (samples/10-scanned-letter.pdf): a fictional follow-up to the
# demo's letter of claim, typed onto an A4 page at 200 dpi, scanned as the goal condition
# degrades a page, and saved as an image-only PDF (one JPEG a page, no text layer).
SAMPLE_LINES = [
    ("Hartley & Moss Solicitors", 40),
    ("56 Chancery Row, Northtown NT1 4QX", 33),
    ("", 33),
    ("2 December 2023", 33),
    ("", 33),
    ("Clinical Negligence Team", 33),
    ("2 Quayside Chambers, Leeds LS1 4ZZ", 33),
    ("", 33),
    ("Your ref: CNST/25/008879", 33),
    ("Our ref: HM/ZP/22337", 33),
    ("", 33),
    ("Dear Sirs", 33),
    ("", 33),
    ("Re: Zoe Pemberton v Northshire Hospitals NHS Foundation Trust", 33),
    ("", 33),
    ("We write further to our letter of claim dated 14 August 2023.", 33),
    ("We enclose copies of our client's GP records for the period", 33),
    ("from 2018 to 2021, which we received from the practice last week.", 33),
    ("", 33),
    ("Please confirm that the Trust's letter of response will be sent", 33),
    ("within four months of the letter of claim, as the Pre-Action", 33),
    ("Protocol for the Resolution of Clinical Disputes requires.", 33),
    ("", 33),
    ("Yours faithfully", 33),
    ("", 33),
    ("Hartley & Moss Solicitors", 33),
]


def scanned_sample():
    dpi = 200
    img = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(img)
    y = 190
    for text, size in SAMPLE_LINES:
        if text:
            draw.text((190, y), text, font=ImageFont.truetype(FONT, size), fill=0)
        y += int(size * 1.55)
    img, _ = degrade(img, CONDITIONS["scan-200"], random.Random(SEED + 10), 1)
    out = os.path.join(ROOT, "samples", "10-scanned-letter.pdf")
    img.save(out, "PDF", resolution=dpi, quality=70)


if __name__ == "__main__":
    if sys.argv[1:] == ["--sample"]:
        scanned_sample()
    else:
        main()
