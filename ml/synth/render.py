"""Render a text line in a handwriting font onto paper, the way a phone sees it.

The ink is drawn word by word (irregular spacing, a wandering baseline, optional letter
tracking) into a mask, which is slanted, rotated, bent and distorted; the mask is then laid on
paper (texture, ruled or squared lines, neighbouring lines' ascenders and descenders) in some ink
colour, and the whole image goes through camera effects. The label is the text actually drawn:
characters the font lacks are replaced by their unaccented forms or dropped first.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ml.charset import collapse_whitespace
from ml.synth import augment
from ml.synth.fonts import Font


@dataclass(frozen=True)
class RenderedLine:
    image: np.ndarray  # (H, W) uint8, dark ink on light paper
    text: str
    font: str


@lru_cache(maxsize=512)
def truetype(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A cached font face; BASIC layout renders the same with or without libraqm."""
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)


def fit_text_to_font(text: str, font: Font) -> str:
    """The text with every character the font cannot draw replaced or removed."""
    out = []
    for char in text:
        if char in font.charset:
            out.append(char)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append("".join(c for c in base if c in font.charset))
    return collapse_whitespace("".join(out))


def render_line(text: str, font: Font, rng: np.random.Generator) -> RenderedLine | None:
    """Render `text`; None when nothing drawable is left of it in this font."""
    text = fit_text_to_font(text.upper() if font.caps_only else text, font)
    if not text:
        return None
    size = int(rng.integers(12, 21)) * 4  # 48..80 px, in steps so the font cache stays small
    face = truetype(str(font.path), size)
    mask = draw_ink(text, face, size, rng)
    if mask is None:
        return None
    mask = distort_ink(mask, rng, size)
    image = _compose(mask, rng, size, face)
    image = augment.augment_photo(image, rng)
    return RenderedLine(image=image, text=text, font=font.name)


def draw_ink(
    text: str, face: ImageFont.FreeTypeFont, size: int, rng: np.random.Generator
) -> np.ndarray | None:
    """The ink of a line as a uint8 mask (255 = ink) cropped to the ink; None if blank.

    Words are drawn one by one with irregular gaps and a wandering baseline, sometimes with
    extra letter spacing or a bolder stroke.
    """
    words = text.split(" ")
    space = face.getlength(" ") or size * 0.3
    tracking = size * rng.uniform(-0.04, 0.12) if rng.random() < 0.25 else 0.0
    jitter = size * rng.uniform(0, 0.05)
    advances = [_word_length(face, w, tracking) for w in words]
    gaps = [space * rng.uniform(0.7, 1.8) for _ in words]
    width = int(sum(advances) + sum(gaps) + size * 2)
    height = int(size * 2.2)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    stroke = int(rng.choice([0, 0, 0, 0, 1, 1, 2])) if size >= 56 else int(rng.random() < 0.25)
    x, baseline = size * 0.5, size * 1.3
    for word, advance, gap in zip(words, advances, gaps, strict=True):
        y = baseline + rng.normal(0, jitter)
        if tracking:
            cx = x
            for char in word:
                draw.text(
                    (cx, y),
                    char,
                    fill=255,
                    font=face,
                    anchor="ls",
                    stroke_width=stroke,
                    stroke_fill=255,
                )
                cx += face.getlength(char) + tracking
        else:
            draw.text(
                (x, y), word, fill=255, font=face, anchor="ls", stroke_width=stroke, stroke_fill=255
            )
        x += advance + gap
    mask = np.asarray(canvas)
    rows, cols = np.flatnonzero(mask.max(axis=1)), np.flatnonzero(mask.max(axis=0))
    if rows.size == 0 or cols.size == 0:
        return None
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _word_length(face: ImageFont.FreeTypeFont, word: str, tracking: float) -> float:
    if not tracking:
        return face.getlength(word)
    return sum(face.getlength(c) + tracking for c in word)


def distort_ink(mask: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Slant, rotate, bend and wobble an ink mask (255 = ink) the way hands vary."""
    mask = np.pad(mask, 4)
    if rng.random() < 0.7:
        mask = augment.shear(mask, rng.uniform(-0.45, 0.35), fill=0)
    if rng.random() < 0.4:
        mask = augment.rotate(mask, rng.uniform(-2.0, 2.0), fill=0)
    if rng.random() < 0.25:
        mask = augment.bend(mask, rng, rng.uniform(1, size * 0.08), fill=0)
    if rng.random() < 0.4:
        mask = augment.elastic(mask, rng, rng.uniform(0.5, 2.0), fill=0, grain=size / 2)
    if rng.random() < 0.3:
        mask = augment.stroke_width(mask, int(rng.choice([-2, -1, 1, 2, 3])), ink_is_bright=True)
    return mask


def _compose(
    mask: np.ndarray, rng: np.random.Generator, size: int, face: ImageFont.FreeTypeFont
) -> np.ndarray:
    """Lay the ink mask on paper with margins, ruling and bits of neighbouring lines."""
    h, w = mask.shape
    top = int(size * rng.uniform(0.05, 0.5))
    bottom = int(size * rng.uniform(0.05, 0.5))
    left, right = (int(size * rng.uniform(0.05, 0.8)) for _ in range(2))
    height, width = h + top + bottom, w + left + right
    paper_level = rng.uniform(175, 252)
    paper = np.full((height, width), paper_level, np.float32)
    if rng.random() < 0.5:  # paper grain: fibres and uneven whiteness
        grain = rng.normal(0, rng.uniform(2, 8), (max(2, height // 6), max(2, width // 6)))
        paper += cv2.resize(
            grain.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC
        )
    _draw_ruling(paper, rng, top + h, size, paper_level)
    ink_mask = np.zeros((height, width), np.float32)
    ink_mask[top : top + h, left : left + w] = mask.astype(np.float32) / 255.0
    if rng.random() < 0.25:
        _add_neighbour_strokes(ink_mask, rng, size, face)
    opacity = rng.uniform(0.75, 1.0)
    ink_level = rng.choice([rng.uniform(0, 50), rng.uniform(40, 120)], p=[0.8, 0.2])
    image = paper * (1 - ink_mask * opacity) + ink_level * ink_mask * opacity
    return np.clip(image, 0, 255).astype(np.uint8)


def _draw_ruling(
    paper: np.ndarray, rng: np.random.Generator, baseline: int, size: int, paper_level: float
) -> None:
    roll = rng.random()
    if roll > 0.4:
        return
    height, width = paper.shape
    darkness = rng.uniform(20, 90)
    thickness = int(rng.integers(1, 4))
    spacing = int(size * rng.uniform(0.9, 1.4))
    first = baseline + int(rng.integers(-3, max(4, size // 6)))
    for y in range(first % spacing, height, spacing):
        paper[y : y + thickness, :] -= darkness
    if roll < 0.12:  # squared paper: vertical lines too
        step = int(spacing * rng.uniform(0.45, 1.0))
        for x in range(int(rng.integers(0, step)), width, step):
            paper[:, x : x + thickness] -= darkness
    if rng.random() < 0.1:  # the margin line
        x = int(rng.integers(0, max(1, width // 6)))
        paper[:, x : x + thickness + 1] -= darkness * 1.2
    np.clip(paper, 0, 255, out=paper)


def _add_neighbour_strokes(
    ink: np.ndarray, rng: np.random.Generator, size: int, face: ImageFont.FreeTypeFont
) -> None:
    """Descenders of the line above or ascenders of the line below, cut by the crop."""
    height, width = ink.shape
    fragment = "".join(rng.choice(list("gjpqyfhklbdt lgyp fhk"), size=int(rng.integers(4, 16))))
    canvas = Image.new("L", (width, size * 2), 0)
    ImageDraw.Draw(canvas).text(
        (rng.uniform(0, width * 0.5), size * 1.3), fragment, fill=255, font=face, anchor="ls"
    )
    strokes = np.asarray(canvas).astype(np.float32) / 255.0
    keep = max(1, int(size * rng.uniform(0.1, 0.3)))
    baseline = int(size * 1.3)
    if rng.random() < 0.5:  # the line above: its descenders hang into our top edge
        piece = strokes[baseline + 2 : baseline + 2 + keep]
        ink[: piece.shape[0]] = np.maximum(ink[: piece.shape[0]], piece[:height])
    else:  # the line below: the tops of its ascenders reach our bottom edge
        piece = strokes[int(size * 0.4) : int(size * 0.4) + keep][:height]
        ink[height - piece.shape[0] :] = np.maximum(ink[height - piece.shape[0] :], piece)
