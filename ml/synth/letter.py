"""Writing on synthetic pages: pens, lines with exact baselines, and the layout of a letter.

`write` draws one line of text on the sheet and returns what a line segmenter learns from it:
the ink box, the baseline (the line letters without descenders sit on, sampled every ~120 px so
that a bending line is followed) and the x-height. The baseline is exact because it is not
measured afterwards: the text is drawn on a known baseline and every later distortion (slant,
drift, bend) is a known function of x.

A letter is laid out as letterhead (print, 1-3 lines, centred or flush left), date (top right,
sometimes running over the right margin onto a second line), body (salutation, paragraphs,
closing; handwritten or typewritten), signature (a large cursive name, sometimes underlined
with a flourish) and sometimes a side note in the left margin in a smaller hand.

Reading order: the block numbers below, in increasing order (letterhead, date, body, signature,
side note last: marginalia come after the main text, as transcribers put them), and within a
block top to bottom. Block numbers are fixed per role, so a letter without a letterhead has no
block 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ml.synth.fonts import Font
from ml.synth.paper import first_rule
from ml.synth.render import fit_text_to_font, truetype

if TYPE_CHECKING:
    from ml.synth.page import PageStyle
    from ml.synth.text import TextSampler

Point = tuple[float, float]
LETTERHEAD, DATE, BODY, SIGNATURE, SIDE_NOTE = range(5)
BASELINE_STEP = 120  # paper pixels between baseline points

NAMES = ("Mary", "John", "Anna", "Henry", "Edith", "Arthur", "Clara", "Walter", "Ruth", "James")
SURNAMES = ("Brown", "Fenwick", "Harlow", "Whitaker", "Morgan", "Ellis", "Carver", "Lindqvist")
PLACES = ("London", "Bristol", "Paris", "Boston", "Leeds", "Geneva", "York", "Dover")
STREETS = ("Mill Street", "High Street", "Park Road", "Station Road", "Church Lane", "Quay")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
SALUTATIONS = ("Dear {},", "My dear {},", "Dear Sir,", "Dear Madam,", "Dear Mr {},")
CLOSINGS = ("Yours sincerely,", "Yours faithfully,", "With kind regards,", "Yours truly,",
            "Ever yours,", "With best wishes,", "Affectionately,")  # fmt: skip


@dataclass(frozen=True)
class Pen:
    """One hand or machine: font, ink colour, line kind, slant and how much lines drift."""

    font: Font
    ink: tuple[int, int, int]
    kind: str  # "handwritten" | "print" | "typewritten" | "signature"
    slant: float = 0.0  # horizontal shift per pixel above the baseline (italic > 0)
    wobble: float = 0.0  # baseline drift and bend, as a share of the font size; 0 = straight


@dataclass(frozen=True)
class Pens:
    """The pens of one page: the writer's, the signature's, and print/typewriter if any."""

    hand: Pen
    signature: Pen
    print: Pen | None = None
    typewriter: Pen | None = None


@dataclass(frozen=True)
class Written:
    """A line as drawn on the sheet, in paper pixels."""

    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the ink
    baseline: tuple[Point, ...]  # left to right
    x_height: float
    kind: str
    block: int


def write(
    paper: np.ndarray,
    text: str,
    pen: Pen,
    size: int,
    at: Point,
    max_width: float,
    rng: np.random.Generator,
    block: int,
    *,
    align: str = "left",
    flourish: bool = False,
) -> Written | None:
    """Draw `text` with its baseline starting at `at` (ending there when align="right").

    Words that do not fit in `max_width` are left off; None when nothing fits or the ink would
    leave the sheet.
    """
    face = truetype(str(pen.font.path), size)
    stroke = _stroke(pen, size, rng)
    text, glyphs, end = _layout(fit_text_to_font(text, pen.font), face, pen, rng, max_width, stroke)
    if not text:
        return None
    drawn = _ink(glyphs, end, face, pen, rng, stroke, flourish)
    if drawn is None:
        return None
    mask, baseline_at = drawn
    h, w = mask.shape
    left = round(at[0] - w if align == "right" else at[0])
    top = round(at[1] - baseline_at(0.0))
    if left < 0 or top < 0 or left + w > paper.shape[1] or top + h > paper.shape[0]:
        return None
    alpha = mask.astype(np.float32)[..., None] * np.float32(rng.uniform(0.8, 1.0) / 255)
    region = paper[top : top + h, left : left + w]
    region += alpha * (np.float32(pen.ink) - region)
    xs = np.linspace(0, w, max(2, int(np.ceil(w / BASELINE_STEP)) + 1))
    baseline = tuple((left + float(x), top + baseline_at(float(x))) for x in xs)
    x_height = _x_height(face, text, stroke)
    return Written(text, (left, top, left + w, top + h), baseline, x_height, pen.kind, block)


def _stroke(pen: Pen, size: int, rng: np.random.Generator) -> int:
    if pen.kind in ("print", "typewritten"):
        return 0
    return int(rng.choice([0, 0, 0, 0, 1, 1, 2])) if size >= 56 else int(rng.random() < 0.25)


def _layout(text, face, pen, rng, max_width, stroke) -> tuple[str, list[tuple[str, float]], float]:
    """The words that fit, what to draw where (x from the line's start), and where ink ends.

    Hands space words irregularly and sometimes spread their letters; machines space evenly.
    """
    space = face.getlength(" ") or face.size * 0.3
    machine = pen.kind in ("print", "typewritten")
    tracking = face.size * rng.uniform(-0.04, 0.12) if not machine and rng.random() < 0.25 else 0
    kept, glyphs, x, end = [], [], 0.0, 0.0
    for word in text.split():
        parts = _letters(word, face, tracking) if tracking else [(word, 0.0)]
        length = parts[-1][1] + face.getlength(parts[-1][0]) + 2 * stroke
        if x + length + abs(pen.slant) * face.size > max_width:
            break
        kept.append(word)
        glyphs += [(part, x + dx) for part, dx in parts]
        end = x + length
        x = end + (space if machine else space * rng.uniform(0.7, 1.8))
    return " ".join(kept), glyphs, end


def _letters(word: str, face, tracking: float) -> list[tuple[str, float]]:
    """A letter-spaced word: each letter with its x from the word's start."""
    out, x = [], 0.0
    for char in word:
        out.append((char, x))
        x += face.getlength(char) + tracking
    return out


def _ink(glyphs, end, face, pen, rng, stroke, flourish):
    """The line's ink (uint8 mask cropped to the ink) and its baseline y as a function of x."""
    size = face.size
    ascent, descent = face.getmetrics()
    base_row, start = ascent + size * 0.3 + stroke, size * 0.5
    width, height = int(end + size + 4 * stroke), int(base_row + descent + size * 0.7)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for part, x in glyphs:
        draw.text(
            (start + x, base_row),
            part,
            fill=255,
            font=face,
            anchor="ls",
            stroke_width=stroke,
            stroke_fill=255,
        )
    mask = np.asarray(canvas).copy()
    if flourish:
        _flourish(mask, base_row, start, start + end, size, rng)
    slant = pen.slant + (rng.normal(0, 0.03) if pen.wobble else 0.0)
    mask = _slant(mask, slant, base_row)
    drift = _drift(mask.shape[1], size, pen.wobble, rng)
    if pen.wobble:
        mask, room = _apply_drift(mask, drift)
        base_row += room
    rows, cols = np.flatnonzero(mask.max(axis=1)), np.flatnonzero(mask.max(axis=0))
    if rows.size == 0:
        return None
    r0, c0 = int(rows[0]), int(cols[0])
    crop = mask[r0 : rows[-1] + 1, c0 : cols[-1] + 1]

    def baseline_at(x: float) -> float:
        return float(base_row + drift(x + c0) - r0)

    return crop, baseline_at


def _slant(mask: np.ndarray, slant: float, base_row: float) -> np.ndarray:
    """Shear about the baseline row, so the baseline stays where it was drawn.

    x' = x + pad - slant * (y - base_row): letters lean right when slant > 0.
    """
    if abs(slant) < 1e-3:
        return mask
    h, w = mask.shape
    pad = abs(slant) * max(base_row, h - base_row) + 1
    matrix = np.float32([[1, -slant, pad + slant * base_row], [0, 1, 0]])
    return cv2.warpAffine(mask, matrix, (int(w + 2 * pad), h), flags=cv2.INTER_LINEAR)


def _drift(width: int, size: int, wobble: float, rng: np.random.Generator):
    """The baseline's vertical offset at x: a slope plus a slow bend; zero for machines."""
    if not wobble:
        return lambda x: 0.0 * x
    slope = float(np.clip(rng.normal(0, 0.008), -0.02, 0.02))
    amplitude = float(rng.uniform(0, wobble)) * size
    phase, periods = rng.uniform(0, 2 * np.pi), rng.uniform(0.2, 1.0)
    omega = 2 * np.pi * periods / max(width, 1)
    return lambda x: slope * (x - width / 2) + amplitude * np.sin(phase + omega * x)


def _apply_drift(mask: np.ndarray, drift) -> tuple[np.ndarray, int]:
    """Move each column down by drift(x); returns the mask and the rows added on top."""
    h, w = mask.shape
    offsets = drift(np.arange(w, dtype=np.float32)).astype(np.float32)
    room = int(np.ceil(np.abs(offsets).max())) + 1
    padded = np.pad(mask, ((room, room), (0, 0)))
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h + 2 * room, dtype=np.float32))
    return cv2.remap(padded, xs, ys - offsets[None, :], cv2.INTER_LINEAR), room


def _flourish(mask, base_row, x0, x1, size, rng) -> None:
    """An underline stroke below a signature: a shallow, slightly tilted curve."""
    t = np.linspace(0, 1, 40)
    xs = x0 + rng.uniform(-0.1, 0.2) * (x1 - x0) + t * (x1 - x0) * rng.uniform(0.8, 1.05)
    ys = base_row + size * (rng.uniform(0.2, 0.4) + rng.uniform(-0.15, 0.2) * 4 * t * (1 - t))
    ys += size * rng.uniform(-0.1, 0.1) * t
    points = np.stack([xs, np.minimum(ys, mask.shape[0] - 3)], 1).round().astype(np.int32)
    cv2.polylines(mask, [points], False, 255, max(2, size // 25), cv2.LINE_AA)


def _x_height(face: ImageFont.FreeTypeFont, text: str, stroke: int) -> float:
    """The font's 'x' height; for lines without lowercase letters 0.7 x its cap height."""
    if any(c.islower() for c in text):
        return float(-face.getbbox("x", anchor="ls")[1] + stroke)
    return 0.7 * float(-face.getbbox("H", anchor="ls")[1] + stroke)


def write_letter(
    paper: np.ndarray,
    style: PageStyle,
    spacing: int,
    pens: Pens,
    sampler: TextSampler,
    rng: np.random.Generator,
) -> list[Written]:
    """Lay out and write a letter; returns its lines in reading order."""
    h, w = paper.shape[:2]
    margin, right = rng.uniform(110, 160), w - rng.uniform(80, 130)
    left = margin + (rng.uniform(150, 200) if style.side_note else 0)  # room for the side note
    lines: list[Written] = []
    y = rng.uniform(100, 140)
    if style.heading and pens.print:
        y = _letterhead(paper, pens.print, (margin, right), y, rng, lines)
    typed = style.typewritten and pens.typewriter is not None
    pen = pens.typewriter if typed else pens.hand
    size = int(rng.uniform(22, 30)) if typed else int(spacing * 0.8)
    pitch = size * rng.uniform(1.5, 2.1) if typed else spacing
    # Handwriting sits on the ruling (invisible on plain paper); a typewriter keeps its own pitch.
    y = y + size * 1.5 if typed else _next_rule(y + spacing * 0.8, spacing)
    y = _date(paper, pen, size, pitch, right, y, rng, lines)
    y += pitch * (2 if rng.random() < 0.6 else 1)
    body_top = y
    closing_x, y = _body(paper, pen, size, pitch, (left, right), y, sampler, rng, lines)
    _signature(paper, pens.signature, spacing, closing_x, y, rng, lines)
    if style.side_note:
        hand = Pen(pens.hand.font, (95, 95, 100), "handwritten", pens.hand.slant, pens.hand.wobble)
        pen = hand if rng.random() < 0.4 else pens.hand  # often in pencil
        span, rows = (margin - 90, left - 25), (body_top, y)
        _side_note(paper, pen, spacing, span, rows, sampler, rng, lines)
    return sorted(lines, key=lambda line: line.block)


def _next_rule(y: float, spacing: int) -> int:
    """The first ruled line at or below y."""
    k = max(0, int(np.ceil((y - first_rule(spacing)) / spacing)))
    return first_rule(spacing) + k * spacing


def _letterhead(paper, pen, span, y, rng, lines) -> float:
    """1-3 printed lines (name, address, telephone), centred or flush left, maybe a rule."""
    left, right = span
    name, partner = pick(rng, SURNAMES), pick(rng, SURNAMES)
    firm = pick(rng, (f"{name} & {partner}", f"{name} Brothers", f"The {name} Company",
                       f"{name} & Co. Ltd", f"Dr {pick(rng, NAMES)} {name}"))  # fmt: skip
    texts = [firm.upper() if rng.random() < 0.5 else firm]
    texts.append(f"{int(rng.integers(1, 200))} {pick(rng, STREETS)}, {pick(rng, PLACES)}")
    texts.append(f"Telephone {int(rng.integers(100, 9999))}" if rng.random() < 0.5 else "")
    count, centred = int(rng.integers(1, 4)), rng.random() < 0.6
    for i, text in enumerate(t for t in texts[:count] if t):
        size = int(rng.uniform(34, 48)) if i == 0 else int(rng.uniform(18, 24))
        y += size * 1.05
        length = truetype(str(pen.font.path), size).getlength(text)
        x = (left + right - length) / 2 if centred else left
        _add(lines, write(paper, text, pen, size, (x, y), right - x, rng, LETTERHEAD))
        y += size * 0.35
    if rng.random() < 0.5:  # a printed rule under the letterhead: not a line of text
        cv2.line(paper, (int(left), int(y + 10)), (int(right), int(y + 10)), pen.ink, 2)
    return y + 20


def _date(paper, pen, size, pitch, right, y, rng, lines) -> float:
    """The date at the top right; sometimes begun too far right and finished on the next line."""
    text = fit_text_to_font(_date_text(rng), pen.font)
    length = truetype(str(pen.font.path), size).getlength(text) * 1.2
    if rng.random() < 0.65:
        at = (right - rng.uniform(0, 30), y)
        _add(lines, write(paper, text, pen, size, at, length, rng, DATE, align="right"))
        return y
    x = right - length * rng.uniform(0.55, 0.8)
    first = _add(lines, write(paper, text, pen, size, (x, y), right - x, rng, DATE))
    done = len(first.text.split()) if first else 0
    rest = " ".join(text.split()[done:])
    if first and rest:
        at = (x + rng.uniform(-10, 30), y + pitch)
        _add(lines, write(paper, rest, pen, size, at, right + 40 - at[0], rng, DATE))
        return y + pitch
    return y


def _date_text(rng: np.random.Generator) -> str:
    day, month, year = int(rng.integers(1, 29)), pick(rng, MONTHS), int(rng.integers(1890, 2025))
    suffix = "th" if 10 <= day <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    place = pick(rng, PLACES)
    forms = (f"{day} {month} {year}", f"{month} {day}, {year}", f"{place}, {day} {month} {year}",
             f"{place}, {month} {day}{suffix} {year}",
             f"{place}, {day}.{MONTHS.index(month) + 1}.{year % 100:02d}")  # fmt: skip
    return pick(rng, forms)


def _body(paper, pen, size, pitch, span, y, sampler, rng, lines) -> tuple[float, float]:
    """Salutation, paragraphs and closing; returns the closing's x and baseline."""
    left, right = span
    salutation = pick(rng, SALUTATIONS).format(pick(rng, NAMES + SURNAMES))
    _add(lines, write(paper, salutation, pen, size, (left, y), right - left, rng, BODY))
    room = int((paper.shape[0] - 260 - y) / pitch) - 2  # keep room for closing and signature
    new_paragraph, jitter = True, 0.0 if pen.kind == "typewritten" else 2.0
    for _ in range(int(rng.integers(max(1, room // 2), max(2, room + 1)))):
        y += pitch
        x = left + (rng.uniform(40, 90) if new_paragraph else 0) + rng.uniform(0, jitter * 4)
        new_paragraph = rng.random() < 0.15  # a short line ends its paragraph
        if new_paragraph:
            text = sampler.line(max_words=5, max_chars=int((right - x) / (size * 0.5)))
        else:
            text = _running_text(sampler, truetype(str(pen.font.path), size), right - x)
        at = (x, y + rng.normal(0, jitter))
        _add(lines, write(paper, text, pen, size, at, right - x, rng, BODY))
    y += pitch * (2 if rng.random() < 0.5 else 1)
    x = left if rng.random() < 0.4 else left + (right - left) * rng.uniform(0.35, 0.55)
    _add(lines, write(paper, pick(rng, CLOSINGS), pen, size, (x, y), right - x, rng, BODY))
    return x, y


def _running_text(sampler, face, width: float) -> str:
    """Text at least `width` long: `write` ends it at the margin, as a writer would."""
    text = sampler.line(max_words=12, max_chars=120)
    while face.getlength(text) < width and len(text) < 400:
        text += " " + sampler.line(max_words=12, max_chars=120)
    return text


def _signature(paper, pen, spacing, x, y, rng, lines) -> None:
    """A large cursive name under the closing, sometimes underlined with a flourish."""
    first, surname = pick(rng, NAMES), pick(rng, SURNAMES)
    name = pick(rng, (f"{first} {surname}", f"{first[0]}. {surname}", surname, first))
    size = int(spacing * rng.uniform(1.1, 1.6))
    # Big script runs long: start further left rather than lose the surname at the edge.
    length = truetype(str(pen.font.path), size).getlength(name) * 1.15 + abs(pen.slant) * size
    right = paper.shape[1] - 40
    at = (min(x + rng.uniform(-20, 80), right - length), y + spacing * rng.uniform(1.6, 2.2))
    flourish = rng.random() < 0.5
    width = right - at[0]
    _add(lines, write(paper, name, pen, size, at, width, rng, SIGNATURE, flourish=flourish))


def _side_note(paper, pen, spacing, span, rows, sampler, rng, lines) -> None:
    """A few short lines in the left margin, in a smaller hand, beside the body."""
    left, right = max(20.0, span[0]), span[1]
    size = int(spacing * rng.uniform(0.42, 0.58))
    pitch = size * rng.uniform(1.3, 1.6)
    y = rng.uniform(rows[0], max(rows[0], rows[1] - 4 * pitch))
    for _ in range(int(rng.integers(2, 5))):
        text = sampler.line(max_words=2, max_chars=14)
        x = left + rng.uniform(0, 10)
        _add(lines, write(paper, text, pen, size, (x, y), right - x, rng, SIDE_NOTE))
        y += pitch


def _add(lines: list[Written], line: Written | None) -> Written | None:
    if line is not None:
        lines.append(line)
    return line


def pick(rng: np.random.Generator, options):
    """One of `options`, drawn with `rng`."""
    return options[int(rng.integers(len(options)))]
