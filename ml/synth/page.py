"""Synthetic photographed pages with exact line ground truth, for line segmentation.

A page is composed like a real one and then photographed:
- paper (`ml.synth.paper`): plain, ruled, squared, linen (a visible woven crosshatch), laid or
  recycled; white to aged brown, with foxing, show-through of the reverse side, stains, folds,
  punch holes, dust and hair;
- a layout: "notes" (an optional heading, one or two columns of handwritten lines, bullets,
  skipped lines), "letter" (`ml.synth.letter`: printed letterhead, date at the top right,
  handwritten or typewritten body, signature, side note) or "blank" (no line at all: a page of
  texture and artefacts must read as empty);
- the photo: the sheet on a table (dark for archive shots, with a ruler and/or colour chart
  beside or partly on the sheet, never over writing), rotated, in perspective, unevenly lit,
  blurred, noisy, JPEG-compressed.

Ground truth, per line, in photo pixels (each point goes through the same homography as the
pixels, so it stays exact):
- `polygon`: the 4 corners of the line's ink box on the sheet, clockwise from top-left;
- `baseline`: the line letters without descenders sit on, where the text was drawn, left to
  right, at least 2 points (about every 120 paper pixels, following drift and bends);
- `x_height`: the font's 'x' height at the line's size, measured at the middle of the line;
  for lines without lowercase letters (capitals, digits) 0.7 x the font's cap height;
- `kind`: "handwritten", "print", "typewritten" or "signature";
- `block`: reading order is by block, then line: for notes the heading and left column are
  block 0 and the right column block 1; for letters see `ml.synth.letter`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ml.synth import augment, paper
from ml.synth.fonts import Font
from ml.synth.letter import Pen, Pens, Written, pick, write, write_letter
from ml.synth.render import fit_text_to_font, truetype
from ml.synth.text import TextSampler

Point = tuple[float, float]

KINDS = ("handwritten", "print", "typewritten", "signature")
LAYOUTS = ("notes", "letter", "blank")
INK_COLOURS = ((20, 20, 25), (25, 35, 120), (15, 40, 90), (60, 60, 60), (90, 30, 30))
PRINT_INKS = ((15, 15, 15), (30, 30, 30), (20, 30, 90), (110, 20, 25), (25, 70, 40))
TYPE_INKS = ((25, 25, 25), (45, 45, 50), (40, 35, 80))
TYPEWRITER_FONTS = frozenset({"courier-prime", "cutive-mono", "special-elite", "ibm-plex-mono"})
# Flowing scripts that look like signatures; any handwriting font serves when none is given.
SIGNATURE_FONTS = frozenset({
    "allura", "great-vibes", "mr-de-haviland", "herr-von-muellerhoff", "ms-madi", "sacramento",
    "meddon", "qwigley", "kristi", "la-belle-aurore", "dancing-script", "marck-script", "satisfy",
    "yellowtail", "cedarville-cursive", "homemade-apple", "nothing-you-could-do", "bad-script",
    "waiting-for-the-sunrise", "dawning-of-a-new-day", "zeyada", "cookie", "vibur",
})  # fmt: skip


@dataclass(frozen=True)
class PageLine:
    """One line's ground truth (see the module docstring for what each field means)."""

    text: str
    polygon: tuple[Point, ...]  # 4 corners of the ink box, photo pixels, clockwise from top-left
    block: int
    baseline: tuple[Point, ...] = ()  # photo pixels, left to right
    x_height: float = 0.0  # photo pixels
    kind: str = "handwritten"  # one of KINDS

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """x0, y0, x1, y1 around the polygon, whole photo pixels."""
        xs, ys = [p[0] for p in self.polygon], [p[1] for p in self.polygon]
        return int(min(xs)), int(min(ys)), int(np.ceil(max(xs))), int(np.ceil(max(ys)))


@dataclass(frozen=True)
class SyntheticPage:
    image: np.ndarray  # (H, W, 3) uint8 RGB photo
    lines: tuple[PageLine, ...]  # in reading order (see the module docstring)


@dataclass(frozen=True)
class PageStyle:
    """How a page looks. The defaults are a clean page of notes; `random` samples a real mix."""

    paper_width: int = 1240  # A4 at 150 dpi
    paper_height: int = 1754
    columns: int = 1  # notes only
    paper: str = "ruled"  # one of paper.PAPERS
    rotation: float = 0.0  # degrees
    perspective: float = 0.0  # corner jitter as a share of the page size
    photo_scale: float = 1.0  # photo pixels per paper pixel (about 2 for a 12-megapixel photo)
    lighting: float = 0.0  # strength of gradients and shadows (0-1)
    heading: bool = True  # a heading (notes) or a printed letterhead (letter)
    layout: str = "notes"  # one of LAYOUTS
    tone: float = 0.0  # paper colour: 0 white, 0.5 aged cream, 1 brown
    foxing: float = 0.0  # amount of rust-brown age spots (0-1)
    punch_holes: int = 0  # 0, 2 or 4
    folds: int = 0  # straight creases across the sheet
    stains: int = 0  # coffee rings and blotches
    show_through: float = 0.0  # opacity of the reverse side's writing (about 0.05-0.15)
    dust: float = 0.0  # amount of dust specks and hairs (0-1)
    ruler: bool = False  # archive props beside the sheet: not lines
    colour_chart: bool = False
    typewritten: bool = False  # letter only: the body typed (needs a typewriter font)
    side_note: bool = False  # letter only: a note in the left margin

    @classmethod
    def random(cls, rng: np.random.Generator, layout: str | None = None) -> PageStyle:
        """A realistic mix of layouts, papers, artefacts and photos; `layout` fixes the layout."""
        layout = layout or str(rng.choice(LAYOUTS, p=[0.45, 0.4, 0.15]))
        letter = layout == "letter"
        # plain, ruled, squared, linen, laid, recycled: letters favour good writing paper
        papers = (
            [0.15, 0.05, 0.05, 0.35, 0.25, 0.15] if letter else [0.2, 0.3, 0.15, 0.15, 0.1, 0.1]
        )
        archive = rng.random() < 0.3  # photographed by an archive: props beside the sheet
        return cls(
            columns=int(rng.choice([1, 1, 1, 2])),
            paper=str(rng.choice(paper.PAPERS, p=papers)),
            rotation=float(rng.uniform(-4, 4)),
            perspective=float(rng.uniform(0, 0.06)),
            photo_scale=float(rng.uniform(0.85, 1.2)),
            lighting=float(rng.uniform(0, 1)),
            heading=bool(rng.random() < (0.8 if letter else 0.6)),
            layout=layout,
            tone=float(rng.beta(1.2, 2.5 if letter else 5.0)),
            foxing=float(rng.uniform(0.2, 1.0)) if rng.random() < 0.2 else 0.0,
            punch_holes=int(rng.choice([0, 0, 0, 2, 4])),
            folds=int(rng.choice([0, 0, 1, 2] if letter else [0, 0, 0, 1])),
            stains=int(rng.integers(1, 4)) if rng.random() < 0.2 else 0,
            show_through=float(rng.uniform(0.04, 0.14)) if rng.random() < 0.25 else 0.0,
            dust=float(rng.uniform(0.2, 1.0)) if rng.random() < 0.4 else 0.0,
            ruler=archive and rng.random() < 0.7,
            colour_chart=archive and rng.random() < 0.6,
            typewritten=letter and rng.random() < 0.3,
            side_note=letter and rng.random() < 0.3,
        )


def render_page(
    fonts: Sequence[Font],
    sampler: TextSampler,
    rng: np.random.Generator,
    style: PageStyle | None = None,
    *,
    print_fonts: Sequence[Font] | None = None,
) -> SyntheticPage:
    """Compose and photograph one page.

    The writer's hand and the signature come from the handwriting fonts of `fonts`; letterheads
    and typed bodies from `print_fonts` (by default the print fonts of `fonts`). Without print
    fonts a letter has no letterhead and a handwritten body.
    """
    style = style or PageStyle.random(rng)
    pens = _pens(fonts, print_fonts, rng)
    spacing = int(rng.integers(48, 66))  # ruled-paper line pitch in paper pixels
    sheet = paper.make_paper(
        style.paper, style.paper_width, style.paper_height, style.tone, spacing, rng
    )
    _age(sheet, style, pens.hand, spacing, sampler, rng)
    written = LAYOUT_WRITERS[style.layout](sheet, style, spacing, pens, sampler, rng)
    alpha = _wear(sheet, style, [line.box for line in written], rng)
    photo, homography = _photograph(sheet, alpha, style, [line.box for line in written], rng)
    return SyntheticPage(photo, tuple(_to_photo(line, homography) for line in written))


def _pens(fonts: Sequence[Font], print_fonts: Sequence[Font] | None, rng) -> Pens:
    hands = [f for f in fonts if f.style == "handwriting" and not f.caps_only] or list(fonts)
    prints = [f for f in fonts if f.style == "print"] if print_fonts is None else print_fonts
    ink = INK_COLOURS[int(rng.integers(len(INK_COLOURS)))]
    font = hands[int(rng.integers(len(hands)))]
    slant, wobble = float(rng.uniform(-0.3, 0.25)), float(rng.uniform(0, 0.06))
    hand = Pen(font, ink, "handwritten", slant, wobble)
    scripts = [f for f in hands if f.name in SIGNATURE_FONTS] or hands
    signature = Pen(pick(rng, scripts), ink, "signature", float(rng.uniform(-0.1, 0.3)), 0.04)
    typefaces = [f for f in prints if f.name not in TYPEWRITER_FONTS]
    typewriters = [f for f in prints if f.name in TYPEWRITER_FONTS]
    return Pens(
        hand,
        signature,
        Pen(pick(rng, typefaces), pick(rng, PRINT_INKS), "print") if typefaces else None,
        Pen(pick(rng, typewriters), pick(rng, TYPE_INKS), "typewritten") if typewriters else None,
    )


def _age(sheet, style: PageStyle, hand: Pen, spacing: int, sampler, rng) -> None:
    """What the sheet had before this writing: foxing and the reverse side's writing."""
    if style.foxing:
        paper.add_foxing(sheet, style.foxing, rng)
    if style.show_through:
        face = truetype(str(hand.font.path), int(spacing * 0.8))
        texts = [
            fit_text_to_font(sampler.line(max_words=9, max_chars=45), hand.font)
            for _ in range(style.paper_height // spacing)
        ]
        paper.add_show_through(sheet, face, texts, spacing, style.show_through, rng)


def _write_notes(sheet, style: PageStyle, spacing: int, pens: Pens, sampler, rng) -> list[Written]:
    """Notes: an optional heading, then one or two columns of lines on the ruling."""
    h, w = sheet.shape[:2]
    left, right, row = 130, w - 70, paper.first_rule(spacing)
    lines = []
    if style.heading:
        text = sampler.line(max_words=4, max_chars=30).upper()
        at = (left + 20 + rng.uniform(0, 15), row + rng.normal(0, 2))
        width = (right - left) * 0.8
        lines.append(write(sheet, text, pens.hand, int(spacing * 1.1), at, width, rng, 0))
        row += spacing * 2
    gutter = 50
    column_width = (right - left - gutter * (style.columns - 1)) / style.columns
    for column in range(style.columns):
        x0 = left + column * (column_width + gutter)
        for y in range(row, h - spacing * 2, spacing):
            if rng.random() < 0.12:  # a skipped line between paragraphs
                continue
            indent = float(rng.choice([0, 0, 0, 30, 60])) if column_width > 500 else 0.0
            max_chars = int(column_width / (spacing * 0.42))
            text = sampler.line(max_words=int(rng.integers(1, 10)), max_chars=max_chars)
            if rng.random() < 0.15:
                text = "- " + text
            x = x0 + indent + rng.uniform(0, 15)
            at, width = (x, y + rng.normal(0, 2)), x0 + column_width - x
            lines.append(write(sheet, text, pens.hand, int(spacing * 0.8), at, width, rng, column))
    return [line for line in lines if line is not None]


LAYOUT_WRITERS = {"notes": _write_notes, "letter": write_letter, "blank": lambda *args: []}


def _wear(sheet, style: PageStyle, boxes, rng) -> np.ndarray:
    """What happened to the sheet after writing; returns its alpha (0 where holes are)."""
    if style.stains:
        paper.add_stains(sheet, style.stains, rng)
    for _ in range(style.folds):
        paper.add_fold(sheet, rng)
    if style.dust:
        paper.scatter_specks(sheet, int(style.dust * rng.uniform(50, 300)), (0, 2), (30, 110), rng)
        paper.draw_hairs(sheet, int(style.dust * rng.uniform(0, 4)), (60, 400), (40, 100), rng)
    alpha = np.full(sheet.shape[:2], 255, np.uint8)
    if style.punch_holes:
        paper.punch_holes(alpha, sheet, style.punch_holes, boxes, rng)
    return alpha


def _photograph(sheet, alpha, style: PageStyle, boxes, rng):
    """Lay the sheet (and any props) on a table and take a photo.

    Returns the photo and the paper->photo homography.
    """
    h, w = sheet.shape[:2]
    border = int(0.08 * max(h, w))
    pads = {"left": border, "top": border, "right": border, "bottom": border}
    makers = [paper.make_ruler] * style.ruler + [paper.make_colour_chart] * style.colour_chart
    props = paper.lay_props(makers, (w, h), boxes, pads, rng)
    scene = _scene(sheet, alpha, pads, props)
    to_photo, (out_w, out_h) = _camera(scene.shape[1], scene.shape[0], style, rng)
    warped = cv2.warpPerspective(scene, to_photo, (out_w, out_h), flags=cv2.INTER_LINEAR)
    dark = style.ruler or style.colour_chart  # archive shots: a dark table or backdrop
    table = np.empty((out_h, out_w, 3), np.float32)
    table[...] = rng.uniform(10, 45, 3) if dark else rng.uniform(40, 140, 3)
    noise = rng.normal(0, 8, (out_h // 16, out_w // 16)).astype(np.float32)
    table += cv2.resize(noise, (out_w, out_h))[..., None]
    cover = warped[..., 3:].astype(np.float32) / 255
    photo = table + cover * (warped[..., :3] - table)
    photo = _camera_effects(photo, style, rng)
    shift = np.float64([[1, 0, pads["left"]], [0, 1, pads["top"]], [0, 0, 1]])
    return photo, to_photo @ shift


def _scene(sheet, alpha, pads: dict, props) -> np.ndarray:
    """The sheet and props on transparent surroundings, (H, W, 4) uint8 RGBA."""
    h, w = sheet.shape[:2]
    left, top = pads["left"], pads["top"]
    scene = np.zeros((h + top + pads["bottom"], w + left + pads["right"], 4), np.uint8)
    scene[top : top + h, left : left + w, :3] = np.clip(sheet, 0, 255)
    scene[top : top + h, left : left + w, 3] = alpha
    for image, x, y in props:  # props lie on top of the sheet
        ph, pw = image.shape[:2]
        scene[top + y : top + y + ph, left + x : left + x + pw, :3] = image
        scene[top + y : top + y + ph, left + x : left + x + pw, 3] = 255
    return scene


def _camera(width: int, height: int, style: PageStyle, rng):
    """The scene->photo homography (rotation, scale, perspective) and the photo size."""
    out_w, out_h = int(width * style.photo_scale), int(height * style.photo_scale)
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    angle = np.deg2rad(style.rotation)
    rotation = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centred = corners - np.float32([width / 2, height / 2])
    target = centred * style.photo_scale @ rotation.T + np.float32([out_w / 2, out_h / 2])
    jitter = rng.uniform(-1, 1, (4, 2)).astype(np.float32) * style.perspective
    target += jitter * np.float32([out_w, out_h])
    return cv2.getPerspectiveTransform(corners, target), (out_w, out_h)


def _camera_effects(photo: np.ndarray, style: PageStyle, rng) -> np.ndarray:
    """Uneven light, sensor noise, focus blur and JPEG: float RGB in, uint8 RGB out."""
    out_h, out_w = photo.shape[:2]
    if style.lighting:
        # Light varies slowly: computed at 1/8 scale and enlarged, which is 60x cheaper.
        small = np.full((out_h // 8 + 1, out_w // 8 + 1), 128, np.uint8)
        shade = augment.lighting(small, rng, 60 * style.lighting).astype(np.float32) / 128.0
        photo *= cv2.resize(shade, (out_w, out_h))[..., None]
    photo += rng.standard_normal((out_h, out_w, 1), dtype=np.float32) * np.float32(3)
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.4, 1.0))
    ok, encoded = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 95))])
    return cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)


def _to_photo(line: Written, homography: np.ndarray) -> PageLine:
    x0, y0, x1, y1 = line.box
    polygon = _transform(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), homography)
    # The x-height is measured at the line's middle: perspective changes scale across the photo.
    mid = line.baseline[len(line.baseline) // 2]
    foot, head = _transform((mid, (mid[0], mid[1] - line.x_height)), homography)
    x_height = float(np.hypot(foot[0] - head[0], foot[1] - head[1]))
    baseline = _transform(line.baseline, homography)
    return PageLine(line.text, polygon, line.block, baseline, x_height, line.kind)


def _transform(points, homography) -> tuple[Point, ...]:
    mapped = cv2.perspectiveTransform(np.float64(points).reshape(1, -1, 2), homography)[0]
    return tuple((float(x), float(y)) for x, y in mapped)


def iter_pages(
    fonts: Sequence[Font],
    vocabulary,
    count: int,
    seed: int,
    style: PageStyle | None = None,
    *,
    print_fonts: Sequence[Font] | None = None,
    layout: str | None = None,
) -> Iterator[SyntheticPage]:
    """`count` pages, one at a time; each gets a random style (of `layout`) unless `style`."""
    rng = np.random.default_rng(seed)
    sampler = TextSampler(vocabulary, random.Random(seed))
    for _ in range(count):
        page_style = style or PageStyle.random(rng, layout)
        yield render_page(fonts, sampler, rng, page_style, print_fonts=print_fonts)


def sample_pages(
    fonts: Sequence[Font],
    vocabulary,
    count: int,
    seed: int,
    style: PageStyle | None = None,
    *,
    print_fonts: Sequence[Font] | None = None,
    layout: str | None = None,
) -> list[SyntheticPage]:
    """A fixed set of pages (tests, benchmarks)."""
    pages = iter_pages(
        fonts, vocabulary, count, seed, style, print_fonts=print_fonts, layout=layout
    )
    return list(pages)
