"""Paper for synthetic pages: the sheet, what happened to it, and what lies beside it.

Everything here is drawn in paper pixels (A4 at 150 dpi by default, about 5.9 px per mm) on a
float32 RGB sheet, before the page is photographed, so that it bends with the sheet and ends up
in the photo exactly like the writing does. None of it is a text line: textures (linen weave,
laid and chain lines, recycled flecks), ruling, foxing, stains, folds, show-through of the
reverse side, punch holes, dust and hair, and the archive photographer's ruler and colour chart
are what a line segmenter must learn to ignore.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

PAPERS = ("plain", "ruled", "squared", "linen", "laid", "recycled")
RULING_BLUE = (170, 190, 225)
MARGIN_RED = (210, 120, 120)
# Paper tone from fresh white through aged cream to brown: `tone` 0, 0.5 and 1.
WHITE, AGED, BROWN = (
    np.float32([246, 245, 240]),
    np.float32([236, 222, 184]),
    np.float32([204, 177, 130]),
)
STAIN_COLOURS = ((150, 100, 50), (185, 150, 80), (170, 160, 140))  # coffee, tea, water
FOX_BROWN = np.float32([160, 115, 65])
Point = tuple[float, float]


def first_rule(spacing: int) -> int:
    """The y of the first ruled line: notes' baselines sit on it and every `spacing` below."""
    return int(spacing * 2.5)


def make_paper(
    kind: str, width: int, height: int, tone: float, spacing: int, rng: np.random.Generator
) -> np.ndarray:
    """A blank sheet, (H, W, 3) float32 RGB: its tone and grain, texture and ruling."""
    recycled = kind == "recycled"
    base = _tint(tone) + rng.uniform(-10, 6) - (12 if recycled else 0)
    paper = np.empty((height, width, 3), np.float32)
    paper[...] = base - np.float32([0, 0, rng.uniform(0, 12)])
    # Grain and (for aged paper) darker edges vary slowly: computed at 1/8 scale, then enlarged.
    small = rng.normal(0, 3, (height // 8, width // 8)).astype(np.float32)
    if tone > 0.2:
        small -= _edge_darkening(small.shape, tone * rng.uniform(8, 20))
    paper += cv2.resize(small, (width, height))[..., None]
    if kind == "linen":
        paper += _linen(height, width, rng)[..., None]
    elif kind == "laid":
        paper += _laid(height, width, rng)[..., None]
    elif recycled:
        scatter_specks(paper, int(width * height / 1500), (0, 1), (60, 160), rng, colourful=True)
        draw_hairs(paper, int(width * height / 12000), (15, 60), (150, 205), rng)
    elif kind in ("ruled", "squared"):
        _rule(paper, kind, spacing, rng)
    return paper


def _tint(tone: float) -> np.ndarray:
    if tone <= 0.5:
        return WHITE + (AGED - WHITE) * (tone * 2)
    return AGED + (BROWN - AGED) * ((tone - 0.5) * 2)


def _edge_darkening(shape: tuple[int, int], strength: float) -> np.ndarray:
    """0 in the middle, `strength` at the edges: old sheets brown from the edges inwards."""
    h, w = shape
    ys = np.abs(np.linspace(-1, 1, h, dtype=np.float32))[:, None]
    xs = np.abs(np.linspace(-1, 1, w, dtype=np.float32))[None, :]
    return strength * np.maximum(xs, ys) ** 6


def _linen(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A fine woven crosshatch (one thread about every 0.7-1.2 mm), clearly visible."""
    period, amplitude = rng.uniform(4.0, 7.0), rng.uniform(8.0, 16.0)
    xs = np.arange(w, dtype=np.float32) + _wander(w, rng)
    ys = np.arange(h, dtype=np.float32) + _wander(h, rng)
    column, row = np.floor(xs / period).astype(int), np.floor(ys / period).astype(int)
    # Threads differ in thickness ("slubs"): each gets its own strength.
    warp = np.cos(2 * np.pi * xs / period) * rng.uniform(0.5, 1.5, column.max() + 1)[column]
    weft = np.cos(2 * np.pi * ys / period) * rng.uniform(0.5, 1.5, row.max() + 1)[row]
    over = ((column[None, :] + row[:, None]) % 2).astype(bool)  # which thread lies on top
    weave = np.where(over, warp[None, :], weft[:, None])
    return weave.astype(np.float32) * np.float32(amplitude)


def _wander(n: int, rng: np.random.Generator) -> np.ndarray:
    """A slow random drift of a few pixels, so that threads are not a perfect grid."""
    knots = rng.normal(0, 1.5, n // 200 + 2).astype(np.float32)
    return cv2.resize(knots[None, :], (n, 1), interpolation=cv2.INTER_CUBIC)[0]


def _laid(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Laid paper: close laid lines (about 1 mm) crossed by chain lines about 25 mm apart."""
    across, along = (h, w) if rng.random() < 0.6 else (w, h)
    pitch, chain_pitch = rng.uniform(5.0, 8.0), rng.uniform(130, 170)
    laid_pos = np.arange(across, dtype=np.float32) + _wander(across, rng)
    laid = rng.uniform(3, 7) * (np.cos(2 * np.pi * laid_pos / pitch) ** 4 - 0.375)
    chain_pos = np.arange(along, dtype=np.float32) % chain_pitch
    chain = -rng.uniform(4, 9) * np.exp(-((chain_pos - chain_pitch / 2) ** 2) / 4.0)
    texture = laid[:, None] + chain[None, :]
    return np.ascontiguousarray(texture if across == h else texture.T, dtype=np.float32)


def _rule(paper: np.ndarray, kind: str, spacing: int, rng: np.random.Generator) -> None:
    h, w = paper.shape[:2]
    for y in range(first_rule(spacing), h - spacing // 2, spacing):
        paper[y : y + 2] = RULING_BLUE
    if kind == "squared":
        step = spacing // 2
        for x in range(step, w, step):
            paper[:, x : x + 1] = RULING_BLUE
        for y in range(step, h, step):
            paper[y : y + 1] = RULING_BLUE
    if rng.random() < 0.6:
        paper[:, 110:112] = MARGIN_RED


def scatter_specks(
    image: np.ndarray,
    count: int,
    radius: tuple[int, int],
    level: tuple[int, int],
    rng: np.random.Generator,
    colourful: bool = False,
) -> None:
    """Small dots (dust, flecks) of grey `level`, or tinted when `colourful`, in place."""
    h, w = image.shape[:2]
    xs, ys = rng.integers(0, w, count), rng.integers(0, h, count)
    sizes = rng.integers(radius[0], radius[1] + 1, count)
    levels = rng.uniform(level[0], level[1], count)
    tints = rng.uniform(0.8, 1.2, (count, 3)) if colourful else np.ones((count, 3))
    for x, y, r, v, tint in zip(xs, ys, sizes, levels, tints, strict=True):
        colour = tuple(float(c) for c in np.clip(v * tint, 0, 255))
        cv2.circle(image, (int(x), int(y)), int(r), colour, -1, cv2.LINE_AA)


def draw_hairs(
    image: np.ndarray,
    count: int,
    length: tuple[int, int],
    level: tuple[int, int],
    rng: np.random.Generator,
) -> None:
    """Thin curved strands (hairs, paper fibres), in place."""
    h, w = image.shape[:2]
    for _ in range(count):
        n = int(rng.integers(length[0], length[1] + 1)) // 4 + 2
        turn = np.cumsum(rng.normal(0, 0.25, n))
        angle = rng.uniform(0, 2 * np.pi) + np.cumsum(turn * 0.2)
        xs = rng.uniform(0, w) + np.cumsum(4 * np.cos(angle))
        ys = rng.uniform(0, h) + np.cumsum(4 * np.sin(angle))
        points = np.stack([xs, ys], 1).round().astype(np.int32)
        grey = float(rng.uniform(*level))
        cv2.polylines(image, [points], False, (grey, grey, grey), 1, cv2.LINE_AA)


def add_foxing(paper: np.ndarray, amount: float, rng: np.random.Generator) -> None:
    """Rust-brown spots of age ("foxing"), in place; `amount` 0-1."""
    h, w = paper.shape[:2]
    mask = np.zeros((h // 2, w // 2), np.float32)
    for _ in range(int(amount * rng.uniform(15, 70))):
        centre = (int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2)))
        cv2.circle(mask, centre, int(rng.integers(1, 8)), float(rng.uniform(0.1, 0.5)), -1)
    _blend(paper, cv2.GaussianBlur(mask, (0, 0), 1.5), FOX_BROWN)


def add_stains(paper: np.ndarray, count: int, rng: np.random.Generator) -> None:
    """Coffee rings and blotches, darkening paper and ink alike, in place."""
    h, w = paper.shape[:2]
    mask = np.zeros((h // 2, w // 2), np.float32)
    for _ in range(count):
        centre = (int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2)))
        radius = int(rng.uniform(25, 80))
        if rng.random() < 0.5:  # a cup's ring: a dark rim, often broken, and a faint inside
            start = rng.uniform(0, 360)
            arc = (radius, radius)
            cv2.ellipse(mask, centre, arc, 0, start, start + rng.uniform(200, 360), 0.5, 3)
            cv2.circle(mask, centre, radius, 0.08, -1)
        else:  # a blotch: overlapping soft ellipses with a darker tide line
            blob = np.zeros_like(mask)
            for _ in range(int(rng.integers(2, 6))):
                offset = rng.normal(0, radius / 3, 2).astype(int)
                axes = tuple(int(a) for a in rng.uniform(0.3, 0.8, 2) * radius)
                spot = (centre[0] + int(offset[0]), centre[1] + int(offset[1]))
                cv2.ellipse(blob, spot, axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
            rim = blob - cv2.erode(blob, np.ones((5, 5), np.uint8))
            mask += 0.12 * blob + 0.25 * rim
    colour = np.float32(STAIN_COLOURS[int(rng.integers(len(STAIN_COLOURS)))])
    _multiply(paper, cv2.GaussianBlur(mask, (0, 0), 1.2), colour)


def add_fold(paper: np.ndarray, rng: np.random.Generator) -> None:
    """A straight crease across the sheet: a shadow on one side, a highlight on the other."""
    h, w = paper.shape[:2]
    if rng.random() < 0.7:  # folded in thirds or in half, across
        y0 = h * float(rng.choice([1 / 3, 1 / 2, 2 / 3])) + rng.normal(0, 15)
        point, normal = (w / 2, y0), np.deg2rad(90 + rng.uniform(-2, 2))
    else:
        point, normal = (w / 2 + rng.normal(0, 15), h / 2), np.deg2rad(rng.uniform(-2, 2))
    xs = (np.arange(w, dtype=np.float32) - point[0]) * np.float32(np.cos(normal))
    ys = (np.arange(h, dtype=np.float32) - point[1]) * np.float32(np.sin(normal))
    distance = xs[None, :] + ys[:, None]  # signed, in pixels
    width, depth = rng.uniform(8, 30), rng.uniform(0.05, 0.15)
    shade = 1 - depth * np.exp(-np.maximum(distance, 0) / width)
    shade += 0.04 * np.exp(-((distance + 2) ** 2) / 3)  # the lit ridge
    shade -= 0.12 * np.exp(-(distance**2) / 0.8)  # the crease itself
    shade *= np.where(distance > 0, np.float32(rng.uniform(0.96, 1.0)), np.float32(1.0))
    paper *= shade[..., None]


def add_show_through(
    paper: np.ndarray,
    face: ImageFont.FreeTypeFont,
    texts: list[str],
    spacing: int,
    strength: float,
    rng: np.random.Generator,
) -> None:
    """Writing on the reverse side, seen through the sheet: mirrored, blurred and faint."""
    h, w = paper.shape[:2]
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    y, left = first_rule(spacing) + rng.uniform(-20, 20), rng.uniform(80, 160)
    for text in texts:
        if y > h - spacing:
            break
        draw.text((left + rng.uniform(0, 30), y), text, fill=255, font=face, anchor="ls")
        y += spacing
    reverse = np.asarray(canvas)[:, ::-1].astype(np.float32) / 255.0
    reverse = cv2.GaussianBlur(reverse, (0, 0), rng.uniform(1.5, 3.0))
    paper *= (1 - strength * reverse)[..., None]


def punch_holes(
    alpha: np.ndarray,
    paper: np.ndarray,
    count: int,
    keep_clear: list[tuple[float, float, float, float]],
    rng: np.random.Generator,
) -> None:
    """Cut 2 or 4 filing holes (6 mm, 12 mm from an edge) out of the sheet's `alpha`, in place.

    Holes go along the left edge, or the top one; never through a box of `keep_clear` (the
    writing): the other edge is tried, and a hole that fits on neither is left out.
    """
    mm = alpha.shape[1] / 210
    radius, inset = 3 * mm, (12 + rng.normal(0, 1)) * mm
    shift = rng.normal(0, 3 * mm)
    edges = ["left", "top"] if rng.random() < 0.75 else ["top", "left"]
    holes = [_holes(edge, count, alpha.shape, inset, shift) for edge in edges]
    clear = [[h for h in edge if not _cuts(h, radius, keep_clear)] for edge in holes]
    chosen = clear[0] if len(clear[0]) == count or len(clear[0]) >= len(clear[1]) else clear[1]
    for x, y in chosen:
        cv2.circle(paper, (round(x), round(y)), round(radius + 2), (150, 150, 150), 2, cv2.LINE_AA)
        cv2.circle(alpha, (round(x), round(y)), round(radius), 0, -1, cv2.LINE_AA)


def _holes(edge: str, count: int, shape, inset: float, shift: float) -> list[Point]:
    """Hole centres along an edge, ISO 838 spacing (80 mm between neighbours)."""
    h, w = shape
    mm = w / 210
    centre = (h if edge == "left" else w) / 2 + shift
    offsets = (-40, 40) if count == 2 else (-120, -40, 40, 120)
    along = [centre + offset * mm for offset in offsets]
    return [(inset, a) if edge == "left" else (a, inset) for a in along]


def _cuts(hole: Point, radius: float, keep_clear) -> bool:
    x, y = hole
    box = (x - radius - 4, y - radius - 4, x + radius + 4, y + radius + 4)
    return any(overlaps(box, other) for other in keep_clear)


def overlaps(a, b) -> bool:
    """Whether two boxes (x0, y0, x1, y1) intersect."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _blend(paper: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    """Paint `colour` over the sheet with opacity `mask` (half resolution)."""
    h, w = paper.shape[:2]
    full = cv2.resize(mask, (w, h))[..., None]
    paper += full * (colour - paper)


def _multiply(paper: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    """Darken towards `colour` like a translucent dye (ink stays darker than the stain)."""
    h, w = paper.shape[:2]
    full = np.clip(cv2.resize(mask, (w, h)), 0, 1)[..., None]
    paper *= 1 - full * (1 - colour / 255.0)


def make_ruler(length: int, mm: float, rng: np.random.Generator) -> np.ndarray:
    """A ruler lying horizontally, (T, L, 3) uint8 RGB: mm ticks and numbered centimetres."""
    thickness = int(rng.uniform(20, 32) * mm)
    body = ((205, 175, 115), (238, 236, 228), (185, 188, 192), (245, 225, 120))
    ruler = np.empty((thickness, length, 3), np.uint8)
    ruler[...] = body[int(rng.integers(len(body)))]
    ink = (20, 20, 20)
    scale = thickness / 180
    for i in range(int((length - 6 * mm) / mm)):
        x = round(3 * mm + i * mm)
        tick = 0.42 if i % 10 == 0 else 0.28 if i % 5 == 0 else 0.16
        cv2.line(ruler, (x, 0), (x, int(tick * thickness)), ink, max(1, round(mm / 4)))
        if i % 10 == 0:
            label = str(i // 10)
            size = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale * 1.4, 2)[0]
            origin = (x - size[0] // 2, int(0.45 * thickness) + size[1] + 4)
            cv2.putText(ruler, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale * 1.4, ink, 2)
    if rng.random() < 0.4:  # inches along the other edge, in eighths
        inch = 25.4 * mm
        for i in range(int((length - 6 * mm) / (inch / 8))):
            x = round(3 * mm + i * inch / 8)
            tick = 0.3 if i % 8 == 0 else 0.2 if i % 4 == 0 else 0.12
            cv2.line(ruler, (x, thickness), (x, int((1 - tick) * thickness)), ink, 1)
    cv2.rectangle(ruler, (0, 0), (length - 1, thickness - 1), (90, 90, 90), 2)
    return ruler


KODAK_COLOURS = (
    (40, 60, 150), (60, 170, 210), (60, 140, 70), (240, 210, 40), (190, 40, 40),
    (180, 60, 140), (240, 240, 240), (100, 80, 70), (20, 20, 20),
)  # fmt: skip


def make_colour_chart(length: int, mm: float, rng: np.random.Generator) -> np.ndarray:
    """A grey scale or colour control strip, (T, L, 3) uint8 RGB, with printed patch labels."""
    thickness = int(rng.uniform(30, 45) * mm)
    chart = np.empty((thickness, length, 3), np.uint8)
    chart[...] = (25, 25, 25) if rng.random() < 0.5 else (235, 235, 230)
    label_ink = (230, 230, 230) if chart[0, 0, 0] < 128 else (30, 30, 30)
    if rng.random() < 0.5:
        greys = np.linspace(245, 15, 20)
        patches = [(g, g, g) for g in greys]
        labels = ["A"] + [str(i) for i in range(1, 19)] + ["M"]
    else:
        patches = list(KODAK_COLOURS)
        labels = ["Blue", "Cyan", "Green", "Yellow", "Red", "Magenta", "White", "3/Color", "Black"]
    step = (length - 4 * mm) / len(patches)
    top, bottom = int(0.1 * thickness), int(0.65 * thickness)
    widest = max(cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1)[0][0] for label in labels)
    scale = min(thickness / 200, 0.85 * step / widest)  # labels never run into each other
    for i, (colour, label) in enumerate(zip(patches, labels, strict=True)):
        x0 = round(2 * mm + i * step)
        cv2.rectangle(chart, (x0, top), (round(x0 + step) - 1, bottom), colour, -1)
        origin = (x0 + 2, int(0.88 * thickness))
        cv2.putText(chart, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, label_ink, 1)
    return chart


def lay_props(
    makers, size: tuple[int, int], keep_clear, pads: dict, rng: np.random.Generator
) -> list[tuple[np.ndarray, int, int]]:
    """Props made by `makers` (ruler, chart): (RGB image, x, y in paper pixels), one per side.

    A prop may lie partly on the sheet, never on a box of `keep_clear` (the writing); the
    table margins `pads` (left, top, right, bottom) grow to make room for it.
    """
    w, h = size
    mm = w / 210
    sides = [str(s) for s in rng.permutation(["left", "top", "right", "bottom"])]
    props = []
    for make in makers:
        side = sides.pop()
        across = side in ("top", "bottom")
        length = int((w if across else h) * rng.uniform(0.5, 0.9))
        image = make(length, mm, rng)
        if not across:
            image = np.ascontiguousarray(np.rot90(image))
        x, y = _prop_position(image.shape[:2], side, (w, h), keep_clear, rng)
        ph, pw = image.shape[:2]
        outside = {"left": -x, "top": -y, "right": x + pw - w, "bottom": y + ph - h}[side]
        pads[side] = max(pads[side], outside + int(rng.uniform(20, 60)))
        props.append((image, x, y))
    return props


def _prop_position(shape, side: str, size, keep_clear, rng) -> tuple[int, int]:
    """Where a prop goes along `side`: overlapping the sheet's edge a little, off any box."""
    (ph, pw), (w, h) = shape, size
    thickness = ph if side in ("top", "bottom") else pw
    overlap = int(thickness * rng.uniform(-0.1, 0.35))  # < 0: a gap between sheet and prop
    along = rng.uniform(-0.05, 0.15)
    while True:
        x, y = {
            "left": (overlap - pw, int(along * h)),
            "right": (w - overlap, int(along * h)),
            "top": (int(along * w), overlap - ph),
            "bottom": (int(along * w), h - overlap),
        }[side]
        box = (x - 6, y - 6, x + pw + 6, y + ph + 6)
        if overlap <= -20 or not any(overlaps(box, other) for other in keep_clear):
            return x, y
        overlap -= 10
