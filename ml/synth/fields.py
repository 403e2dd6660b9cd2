"""Form fields and block capitals: names, addresses, dates and codes as people write them.

Our first model read modern block-capital names on form crops three times worse than PP-OCRv6:
letter-spaced capitals came out split into fragments (`MA RIE - CLA IRE`), letters were read as
digits, and the printed field labels were read as text. This module renders what those crops
look like: the text (names of many languages, addresses, dates, codes, phone numbers, from
`Faker`'s locales), written in capitals, often one letter per printed box (a comb), inside a
frame or on a dotted line, with the field's printed label beside it. The label is part of the
form, not of what the person wrote, so it is never in the transcription.
"""

from __future__ import annotations

import random
from functools import cache

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ml.charset import DEFAULT_CHARSET, collapse_whitespace
from ml.synth import augment
from ml.synth.fonts import Font
from ml.synth.render import RenderedLine, distort_ink, draw_ink, fit_text_to_font, truetype

# Faker locales: names and addresses of the countries whose people write our Latin alphabet.
LOCALES = (
    "fr_FR", "fr_FR", "fr_CA", "fr_CH", "en_GB", "en_US", "en_IE", "en_AU", "de_DE", "de_AT",
    "es_ES", "es_MX", "it_IT", "nl_NL", "pt_PT", "pt_BR", "pl_PL", "cs_CZ", "sv_SE", "da_DK",
    "no_NO", "fi_FI", "ro_RO", "hu_HU", "tr_TR", "hr_HR", "sk_SK", "sl_SI", "et_EE", "lt_LT",
)  # fmt: skip
KINDS = {  # what a field holds, and how often
    "surname": 18,
    "first_name": 16,
    "full_name": 16,
    "address": 8,
    "city": 7,
    "date": 10,
    "code": 9,
    "phone": 6,
    "number": 5,
    "email": 2,
    "company": 3,
}
LABELS = {
    "surname": ("NOM", "Nom :", "NOM DE NAISSANCE", "Surname", "Last name", "NAME", "Nachname"),
    "first_name": ("PRENOM", "Prénom :", "PRÉNOMS", "First name", "Forename", "Given name"),
    "full_name": ("Name", "NOM ET PRÉNOM", "Full name", "Signataire", "Patient"),
    "address": ("Address", "ADRESSE", "Adresse :", "Street", "Rue"),
    "city": ("City", "VILLE", "Ville :", "Town", "Lieu de naissance"),
    "date": ("Date", "DATE DE NAISSANCE", "Date of birth", "DOB", "Le", "Date :"),
    "code": ("Ref.", "N°", "ID", "Code", "Postcode", "CODE POSTAL", "Dossier"),
    "phone": ("Tel.", "Phone", "TÉL.", "Mobile", "Téléphone"),
    "number": ("Amount", "Montant", "Qty", "Total", "Age"),
    "email": ("E-mail", "Email", "Courriel"),
    "company": ("Company", "Société", "Employer", "Employeur"),
}
DATE_PATTERNS = (
    "%d/%m/%Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%Y-%m-%d", "%d %b %Y", "%d %B %Y",
    "%m/%d/%Y", "%b %d %Y", "%d%m%Y",
)  # fmt: skip


@cache
def _faker(locale: str):
    from faker import Faker  # only rendering needs it: a few MB of locale data

    return Faker(locale)


class FieldText:
    """Random field contents; deterministic for a seeded `random.Random`."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def sample(self, kind: str | None = None) -> tuple[str, str]:
        """(kind, text): the text in its usual mixed case, normalized onto our charset."""
        rng = self.rng
        kind = kind or rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        fake = _faker(rng.choice(LOCALES))
        fake.seed_instance(rng.getrandbits(32))
        text = getattr(self, f"_{kind}")(fake)
        return kind, collapse_whitespace(DEFAULT_CHARSET.normalize(text))

    def capitals(self, kind: str | None = None) -> tuple[str, str]:
        kind, text = self.sample(kind)
        return kind, text.upper()

    def _surname(self, fake) -> str:
        name = fake.last_name()
        if self.rng.random() < 0.1:
            name += "-" + fake.last_name()
        return name

    def _first_name(self, fake) -> str:
        name = fake.first_name()
        if self.rng.random() < 0.15:  # Marie-Claire, Jean-Pierre: common on French forms
            name += "-" + fake.first_name()
        return name

    def _full_name(self, fake) -> str:
        first, last = self._first_name(fake), self._surname(fake)
        return self.rng.choice((f"{first} {last}", f"{last} {first}", f"{last}, {first}"))

    def _address(self, fake) -> str:
        return fake.street_address().replace("\n", " ")

    def _city(self, fake) -> str:
        return self.rng.choice((fake.city(), f"{fake.postcode()} {fake.city()}"))

    def _date(self, fake) -> str:
        return fake.date_between("-100y", "+5y").strftime(self.rng.choice(DATE_PATTERNS))

    def _code(self, fake) -> str:
        rng = self.rng
        pattern = rng.choice(("??-####", "###-??-###", "?#?-#?#", "##########", "?? ### ??"))
        return rng.choice((fake.postcode(), fake.bothify(pattern).upper(), fake.license_plate()))

    def _phone(self, fake) -> str:
        return fake.phone_number()

    def _number(self, fake) -> str:
        rng = self.rng
        return rng.choice(
            (str(rng.randint(1, 120)), f"{rng.uniform(1, 9999):.2f}", f"{rng.randint(1, 99999):,}")
        )

    def _email(self, fake) -> str:
        return fake.email()

    def _company(self, fake) -> str:
        return fake.company()


def render_field(
    text: str, font: Font, rng: np.random.Generator, label: str = "", label_font: Font | None = None
) -> RenderedLine | None:
    """A form-field crop: `text` written in `font`, one letter per box (comb), in a frame, on a
    dotted line or plain, with the printed `label` (in `label_font`) to its left.

    The transcription is the written text only. None when nothing of it is drawable.
    """
    text = fit_text_to_font(text.upper() if font.caps_only else text, font)
    if not text:
        return None
    size = int(rng.integers(10, 19)) * 4
    face = truetype(str(font.path), size)
    style = rng.choice(("comb", "comb", "frame", "dotted", "plain"))
    if style == "comb":
        ink, cells = _comb_ink(text, face, size, rng)
    else:
        ink, cells = draw_ink(text, face, size, rng), None
        if ink is not None:
            ink = distort_ink(ink, rng, size)
    if ink is None:
        return None
    label = fit_text_to_font(label, label_font) if label and label_font else ""
    image = _compose_field(ink, cells, style, size, rng, label, label_font)
    return RenderedLine(image=augment.augment_photo(image, rng), text=text, font=font.name)


def _comb_ink(text: str, face, size: int, rng: np.random.Generator):
    """Each character centred in its own cell, as in boxed form fields; spaces get a cell too.

    Returns the ink mask and the cell width (the boxes are drawn with the same pitch).
    """
    cell = int(size * rng.uniform(0.85, 1.35))
    height = int(size * 1.6)
    canvas = Image.new("L", (cell * len(text) + 2, height), 0)
    draw = ImageDraw.Draw(canvas)
    stroke = int(rng.random() < 0.3)
    for i, char in enumerate(text):
        if char == " ":
            continue
        x = i * cell + cell / 2 + rng.normal(0, cell * 0.06)
        y = height * 0.78 + rng.normal(0, size * 0.04)
        draw.text((x, y), char, fill=255, font=face, anchor="ms", stroke_width=stroke,
                  stroke_fill=255)  # fmt: skip
    mask = np.asarray(canvas)
    if not mask.any():
        return None, cell
    if rng.random() < 0.5:
        mask = augment.elastic(mask, rng, rng.uniform(0.5, 1.5), fill=0, grain=size / 2)
    return mask, cell


def _compose_field(ink, cells, style, size, rng, label, label_font) -> np.ndarray:
    h, w = ink.shape
    label_face = (
        truetype(str(label_font.path), max(12, int(size * rng.uniform(0.35, 0.6))))
        if (label)
        else None
    )
    label_width = int(label_face.getlength(label)) + size // 3 if label_face else 0
    pad = int(size * rng.uniform(0.15, 0.4))
    left = label_width + int(size * rng.uniform(0.1, 0.5))
    height = h + 2 * pad
    width = left + w + int(size * rng.uniform(0.2, 0.8))
    paper = np.full((height, width), rng.uniform(200, 252), np.float32)
    form = Image.new("L", (width, height), 0)  # printed parts: boxes, lines, label
    draw = ImageDraw.Draw(form)
    line_width = int(rng.integers(1, 3))
    top, bottom = pad // 2, height - 1 - pad // 2
    if style == "comb":
        for i in range(len(range(0, w - 1, cells)) + 1):
            x = left + i * cells
            draw.line((x, top, x, bottom), fill=255, width=line_width)
        draw.line((left, bottom, left + (w // cells) * cells, bottom), fill=255, width=line_width)
        if rng.random() < 0.7:
            draw.line((left, top, left + (w // cells) * cells, top), fill=255, width=line_width)
    elif style == "frame":
        draw.rectangle((left - pad // 2, top, width - 2, bottom), outline=255, width=line_width)
    elif style == "dotted":
        step = int(rng.integers(3, 8))
        for x in range(left - pad // 2, width - 2, step):
            draw.point((x, bottom), fill=255)
    if label_face:
        y = rng.choice((height * 0.55, top + label_face.size))  # beside the writing, or above-left
        draw.text((size // 6, y), label, fill=255, font=label_face, anchor="ls")
    printed = np.asarray(form).astype(np.float32) / 255.0
    form_tone = rng.choice([rng.uniform(0, 80), rng.uniform(90, 170)])  # black or pale print
    paper = paper * (1 - printed) + form_tone * printed
    handwriting = np.zeros((height, width), np.float32)
    handwriting[pad : pad + h, left : left + w] = ink[:, : width - left].astype(np.float32) / 255
    opacity = rng.uniform(0.8, 1.0)
    ink_level = rng.uniform(0, 70)
    image = paper * (1 - handwriting * opacity) + ink_level * handwriting * opacity
    if rng.random() < 0.5:  # the crop cuts into the neighbouring field or row
        cut = int(rng.integers(1, max(2, pad)))
        image[:cut] = np.minimum(image[:cut], rng.uniform(40, 160))
    return np.clip(cv2.GaussianBlur(image, (0, 0), 0.5), 0, 255).astype(np.uint8)
