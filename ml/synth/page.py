"""Synthetic note pages with exact line ground truth, for the page pipeline's tests and benchmarks.

A page is composed like a real one: paper (plain, ruled, squared, with or without a margin
line), an optional heading, one or two blocks of handwritten lines in one "writer's" font and
ink, bullets and short lines; then photographed: laid on a table, rotated, seen in perspective,
unevenly lit, blurred, noisy, JPEG-compressed. Every line's ground-truth polygon goes through the
same geometric transforms as the pixels, so it stays exact.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ml.synth import augment
from ml.synth.fonts import Font
from ml.synth.render import draw_ink, fit_text_to_font, truetype
from ml.synth.text import TextSampler

Point = tuple[float, float]

INK_COLOURS = ((20, 20, 25), (25, 35, 120), (15, 40, 90), (60, 60, 60), (90, 30, 30))
RULING_BLUE = (170, 190, 225)
MARGIN_RED = (210, 120, 120)


@dataclass(frozen=True)
class PageLine:
    text: str
    polygon: tuple[Point, ...]  # 4 corners, photo pixels, clockwise from top-left
    block: int

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        xs, ys = [p[0] for p in self.polygon], [p[1] for p in self.polygon]
        return int(min(xs)), int(min(ys)), int(np.ceil(max(xs))), int(np.ceil(max(ys)))


@dataclass(frozen=True)
class SyntheticPage:
    image: np.ndarray  # (H, W, 3) uint8 RGB photo
    lines: tuple[PageLine, ...]  # in reading order: blocks left to right, lines top to bottom


@dataclass(frozen=True)
class PageStyle:
    paper_width: int = 1240  # A4 at 150 dpi
    paper_height: int = 1754
    columns: int = 1
    paper: str = "ruled"  # "plain" | "ruled" | "squared"
    rotation: float = 0.0  # degrees
    perspective: float = 0.0  # corner jitter as a share of the page size
    photo_scale: float = 1.0  # photo pixels per paper pixel
    lighting: float = 0.0  # strength of gradients and shadows (0-1)
    heading: bool = True

    @classmethod
    def random(cls, rng: np.random.Generator) -> PageStyle:
        return cls(
            columns=int(rng.choice([1, 1, 1, 2])),
            paper=str(rng.choice(["plain", "ruled", "ruled", "squared"])),
            rotation=float(rng.uniform(-4, 4)),
            perspective=float(rng.uniform(0, 0.06)),
            photo_scale=float(rng.uniform(0.9, 1.3)),
            lighting=float(rng.uniform(0, 1)),
            heading=bool(rng.random() < 0.6),
        )


def render_page(
    fonts: Sequence[Font],
    sampler: TextSampler,
    rng: np.random.Generator,
    style: PageStyle | None = None,
) -> SyntheticPage:
    """Compose and photograph one page."""
    style = style or PageStyle.random(rng)
    font = fonts[int(rng.integers(len(fonts)))]
    ink = INK_COLOURS[int(rng.integers(len(INK_COLOURS)))]
    spacing = int(rng.integers(48, 66))  # ruled-paper line pitch in paper pixels
    paper = _paper(style, spacing, rng)
    lines = _write_lines(paper, style, spacing, font, ink, sampler, rng)
    photo, homography = _photograph(paper, style, rng)
    placed = tuple(
        PageLine(text, _transform(polygon, homography), block) for text, polygon, block in lines
    )
    return SyntheticPage(image=photo, lines=placed)


def _paper(style: PageStyle, spacing: int, rng: np.random.Generator) -> np.ndarray:
    h, w = style.paper_height, style.paper_width
    tone = rng.uniform(232, 252)
    paper = np.empty((h, w, 3), np.float32)
    paper[...] = (tone, tone, tone - rng.uniform(0, 12))
    grain = cv2.resize(rng.normal(0, 3, (h // 8, w // 8)).astype(np.float32), (w, h))
    paper += grain[..., None]
    if style.paper in ("ruled", "squared"):
        for y in range(int(spacing * 2.5), h - spacing // 2, spacing):
            paper[y : y + 2] = RULING_BLUE
        if style.paper == "squared":
            step = spacing // 2
            for x in range(step, w, step):
                paper[:, x : x + 1] = RULING_BLUE
            for y in range(step, h, step):
                paper[y : y + 1] = RULING_BLUE
        if rng.random() < 0.6:
            paper[:, 110:112] = MARGIN_RED
    return np.clip(paper, 0, 255)


def _write_lines(paper, style, spacing, font, ink, sampler, rng):
    """Draw the lines; returns (text, polygon in paper pixels, block) in reading order."""
    h, w = paper.shape[:2]
    left, right, top = 130, w - 70, int(spacing * 2.5)
    lines = []
    row = top
    if style.heading:
        text = sampler.line(max_words=4, max_chars=30).upper()
        placed = _place(
            paper, text, font, ink, left + 20, row, int(spacing * 1.1), (right - left) * 0.8, rng
        )
        if placed:
            lines.append((placed[0], placed[1], 0))
        row += spacing * 2
    gutter = 50
    column_width = (right - left - gutter * (style.columns - 1)) / style.columns
    for column in range(style.columns):
        x0 = left + column * (column_width + gutter)
        y = row
        while y < h - spacing * 2:
            if rng.random() < 0.12:  # a skipped line between paragraphs
                y += spacing
                continue
            indent = float(rng.choice([0, 0, 0, 30, 60])) if column_width > 500 else 0.0
            max_chars = int(column_width / (spacing * 0.42))
            text = sampler.line(max_words=int(rng.integers(1, 10)), max_chars=max_chars)
            if rng.random() < 0.15:
                text = "- " + text
            placed = _place(
                paper,
                text,
                font,
                ink,
                x0 + indent,
                y,
                int(spacing * 0.8),
                column_width - indent,
                rng,
            )
            if placed:
                lines.append((placed[0], placed[1], column))
            y += spacing
    return lines


def _place(paper, text, font, ink, x, baseline, size, max_width, rng):
    """Draw one line with its baseline on `baseline`; returns (text, polygon) or None."""
    text = fit_text_to_font(text, font)
    if not text:
        return None
    face = truetype(str(font.path), size)
    while text and face.getlength(text) > max_width:
        text = text.rsplit(" ", 1)[0] if " " in text else ""
    if not text:
        return None
    mask = draw_ink(text, face, size, rng)
    if mask is None:
        return None
    if rng.random() < 0.5:
        mask = augment.shear(mask, rng.uniform(-0.3, 0.2), fill=0)
    ascent, descent = face.getmetrics()
    h, w = mask.shape
    # draw_ink crops to the ink; put the ink's bottom slightly below the baseline when the
    # line has descenders, on it otherwise.
    descends = any(c in "gjpqy,;()" for c in text)
    top = int(baseline - h + (descent * 0.7 if descends else 0) + rng.normal(0, 2))
    left = int(x + rng.uniform(0, 15))
    ph, pw = paper.shape[:2]
    if top < 0 or left < 0 or top + h > ph or left + w > pw:
        return None
    alpha = mask.astype(np.float32)[..., None] / 255.0 * rng.uniform(0.8, 1.0)
    region = paper[top : top + h, left : left + w]
    region[...] = region * (1 - alpha) + np.asarray(ink, np.float32) * alpha
    polygon = ((left, top), (left + w, top), (left + w, top + h), (left, top + h))
    return text, polygon


def _photograph(paper: np.ndarray, style: PageStyle, rng: np.random.Generator):
    """Lay the paper on a table and take a photo; returns the photo and paper->photo homography."""
    h, w = paper.shape[:2]
    border = int(0.08 * max(h, w))
    out_w, out_h = (
        int((w + 2 * border) * style.photo_scale),
        int((h + 2 * border) * style.photo_scale),
    )
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    centre = np.float32([out_w / 2, out_h / 2])
    angle = np.deg2rad(style.rotation)
    rotation = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = (corners - np.float32([w / 2, h / 2])) * style.photo_scale @ rotation.T + centre
    target += (
        rng.uniform(-1, 1, (4, 2)).astype(np.float32)
        * style.perspective
        * np.float32([out_w, out_h])
    )
    homography = cv2.getPerspectiveTransform(corners, target)
    table = np.empty((out_h, out_w, 3), np.float32)
    table[...] = rng.uniform(40, 140, 3)
    table += cv2.resize(
        rng.normal(0, 8, (out_h // 16, out_w // 16)).astype(np.float32), (out_w, out_h)
    )[..., None]
    warped = cv2.warpPerspective(
        paper,
        homography,
        (out_w, out_h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    inside = cv2.warpPerspective(np.ones((h, w), np.float32), homography, (out_w, out_h))
    photo = table * (1 - inside[..., None]) + warped * inside[..., None]
    if style.lighting:
        shade = (
            augment.lighting(
                np.full((out_h, out_w), 128, np.uint8), rng, 60 * style.lighting
            ).astype(np.float32)
            / 128.0
        )
        photo *= shade[..., None]
    photo = np.clip(photo + rng.normal(0, 3, photo.shape), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.4, 1.0))
    ok, encoded = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 95))])
    return cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED), homography


def _transform(polygon, homography) -> tuple[Point, ...]:
    points = cv2.perspectiveTransform(np.float32(polygon)[None], homography)[0]
    return tuple((float(x), float(y)) for x, y in points)


def sample_pages(
    fonts: Sequence[Font], vocabulary, count: int, seed: int, style: PageStyle | None = None
) -> list[SyntheticPage]:
    """A fixed set of pages (tests, benchmarks)."""
    rng = np.random.default_rng(seed)
    sampler = TextSampler(vocabulary, random.Random(seed))
    return [render_page(fonts, sampler, rng, style) for _ in range(count)]
