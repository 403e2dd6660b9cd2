"""Training pages for the line segmenter: real annotated pages and synthetic ones, as crops.

A *page set* is a folder of `NAME.jpg` (the page, flattened lighting, longer side at most
`STORE_LONG_SIDE`) + `NAME.json` (baselines with x-heights, and ignore polygons, in the
stored image's pixels), built once by `python -m ml.train_segmenter prepare`. Training draws
random crops at random scales and small rotations around the net's nominal scale, with
photometric noise, and draws the targets for each crop at the net's output resolution.

Splits (never mixed): pages-fr by the recognizer's line split (`ml.prepare.fr_split` of the
source page), stanford-memorials by letter (`ml.prepare.stanford_split`), so no page the
segmenter trains on is scored by a benchmark, and none whose lines trained the recognizer is
scored by a page-CER benchmark either.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ml.groundtruth import GroundTruthPage, read_ground_truth
from ml.images import to_grayscale
from ml.page.preprocess import binarize, flatten_lighting
from ml.page.targets import (
    LineTarget,
    PageTargets,
    draw_targets,
    estimate_x_height,
    snap_baseline,
)
from ml.prepare import fr_split, stanford_split

STORE_LONG_SIDE = 1600
# A page's x-heights vary little; one far from the page's median is a measuring accident.
X_HEIGHT_SPREAD = (0.5, 1.8)


@dataclass(frozen=True)
class SegPage:
    name: str
    image: np.ndarray  # (H, W) uint8, flattened page, paper white
    targets: PageTargets


def page_targets(page: GroundTruthPage, gray: np.ndarray) -> PageTargets:
    """Baselines and x-heights of a ground-truth page, in its pixels."""
    ink = binarize(flatten_lighting(gray))
    lines = []
    for line in page.lines:
        if len(line.baseline) < 2:  # a line without text is still a line
            continue
        baseline = np.float32(line.baseline)
        top = min(y for _, y in line.polygon) if line.polygon else line.bbox[1]
        height = max(4.0, float(np.median(baseline[:, 1])) - top)
        baseline = snap_baseline(ink, baseline, height)
        x_height = estimate_x_height(ink, baseline, height)
        lines.append(LineTarget(tuple(map(tuple, baseline)), x_height))
    if lines:
        median = float(np.median([t.x_height for t in lines]))
        lo, hi = (median * f for f in X_HEIGHT_SPREAD)
        lines = [LineTarget(t.baseline, float(np.clip(t.x_height, lo, hi))) for t in lines]
    return PageTargets(tuple(lines), page.unannotated, page.transcribed)


def save_page(
    folder: Path, name: str, image: np.ndarray, targets: PageTargets, quality: int = 92
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / f"{name}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    data = {
        "lines": [
            {
                "baseline": [[round(float(x), 1), round(float(y), 1)] for x, y in t.baseline],
                "x_height": round(float(t.x_height), 2),
            }
            for t in targets.lines
        ],
        "ignore": [_rounded(poly) for poly in targets.ignore],
        "known": [_rounded(poly) for poly in targets.known],
    }
    (folder / f"{name}.json").write_text(json.dumps(data))


def _rounded(points) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in points]


def load_pages(folder: Path) -> list[SegPage]:
    pages = []
    for meta in sorted(folder.glob("*.json")):
        data = json.loads(meta.read_text())
        image = cv2.imread(str(meta.with_suffix(".jpg")), cv2.IMREAD_GRAYSCALE)
        lines = tuple(
            LineTarget(tuple(map(tuple, line["baseline"])), line["x_height"])
            for line in data["lines"]
        )
        ignore = tuple(tuple(map(tuple, poly)) for poly in data["ignore"])
        known = tuple(tuple(map(tuple, poly)) for poly in data.get("known", ()))
        pages.append(SegPage(meta.stem, image, PageTargets(lines, ignore, known)))
    return pages


def bundle_sets(
    seg: Path, out: Path, sets: Sequence[str], long_side: int, quality: int
) -> dict[str, int]:
    """Copy page sets smaller (longer side, JPEG quality): a data bundle for a GPU machine."""
    counts = {}
    for name in sets:
        pages = load_pages(seg / name)
        for page in pages:
            scale = min(1.0, long_side / max(page.image.shape))
            image = cv2.resize(page.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            save_page(out / name, page.name, image, scaled_targets(page.targets, scale), quality)
        counts[name] = len(pages)
    return counts


def scaled_targets(targets: PageTargets, scale: float) -> PageTargets:
    return PageTargets(
        tuple(
            LineTarget(tuple((x * scale, y * scale) for x, y in t.baseline), t.x_height * scale)
            for t in targets.lines
        ),
        tuple(tuple((x * scale, y * scale) for x, y in poly) for poly in targets.ignore),
        tuple(tuple((x * scale, y * scale) for x, y in poly) for poly in targets.known),
    )


def store_page(gt: GroundTruthPage) -> tuple[np.ndarray, PageTargets]:
    """A ground-truth page as stored for training: flattened, scaled, with its targets."""
    gray = to_grayscale(gt.image)
    return store_image(gray, page_targets(gt, gray))


def store_image(gray: np.ndarray, targets: PageTargets) -> tuple[np.ndarray, PageTargets]:
    """A page image and its targets as stored: longer side at most `STORE_LONG_SIDE`, lighting
    flattened (paper 255)."""
    scale = min(1.0, STORE_LONG_SIDE / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return (flatten_lighting(small) * 255).astype(np.uint8), scaled_targets(targets, scale)


def real_page_splits(data: Path) -> dict[str, list[Path]]:
    """Ground-truth files of the shared real pages, by set ("fr-train", "stanford-test"...)."""
    sets: dict[str, list[Path]] = {}
    for path in sorted((data / "pages-fr").glob("*/*.json")):
        meta = json.loads(path.read_text(encoding="utf-8"))
        split = fr_split(f"{meta['dataset']}/{meta['source_xml']}")
        sets.setdefault(f"fr-{split}", []).append(path)
    for path in sorted((data / "stanford-memorials").glob("*/*/*.xml")):
        split = stanford_split(f"{path.parent.parent.name}/{path.parent.name}")
        sets.setdefault(f"stanford-{split}", []).append(path)
    return sets


def prepare_real(data: Path, out: Path) -> dict[str, int]:
    """Store the real pages of each set under out/SET; returns pages per set."""
    counts = {}
    for name, paths in real_page_splits(data).items():
        for path in paths:
            page_name = f"{path.parent.name}__{path.stem}"
            if (out / name / f"{page_name}.json").exists():
                continue
            image, targets = store_page(read_ground_truth(path))
            save_page(out / name, page_name, image, targets)
        counts[name] = len(paths)
    return counts


@dataclass(frozen=True)
class CropConfig:
    size: int = 512  # crop side, net input pixels
    long_side: int = 1280  # the net's nominal page scale
    scale_range: tuple[float, float] = (0.6, 1.6)  # relative to nominal, log-uniform
    max_rotation: float = 4.0  # degrees, most crops
    wide_rotation: float = 12.0  # degrees, a tenth of the crops (phone photos held askew)
    on_text: float = 0.85  # share of crops centred on a line (the rest anywhere)


def sample_crop(
    page: SegPage, config: CropConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One training example: input (S, S) float32 ink-bright, targets (2, S/2, S/2) uint8 and
    loss weights (S/2, S/2) float32 (0 where text is unannotated)."""
    h, w = page.image.shape
    lo, hi = config.scale_range
    scale = config.long_side / max(h, w) * math.exp(rng.uniform(math.log(lo), math.log(hi)))
    wide = rng.random() < 0.1
    angle = rng.uniform(-1, 1) * (config.wide_rotation if wide else config.max_rotation)
    centre = _crop_centre(page, config, rng)
    size = config.size
    matrix = cv2.getRotationMatrix2D(centre, angle, scale)
    matrix[:, 2] += np.float32([size / 2, size / 2]) - centre
    border = float(rng.choice([255, rng.uniform(20, 200)]))  # paper, or a table around it
    image = cv2.warpAffine(
        page.image,
        matrix,
        (size, size),
        flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )
    image = photometric(image, rng)
    half = matrix * 0.5
    band, base, ignore = draw_targets(page.targets, (size // 2, size // 2), half, scale * 0.5)
    weights = 1.0 - ignore.astype(np.float32)
    return to_input(image), np.stack([band, base]), weights


def _crop_centre(page: SegPage, config: CropConfig, rng: np.random.Generator) -> tuple:
    h, w = page.image.shape
    if page.targets.lines and rng.random() < config.on_text:
        line = page.targets.lines[int(rng.integers(len(page.targets.lines)))]
        x, y = line.baseline[int(rng.integers(len(line.baseline)))]
        jitter = config.size * 0.3 * max(h, w) / config.long_side
        return float(x + rng.uniform(-jitter, jitter)), float(y + rng.uniform(-jitter, jitter))
    return float(rng.uniform(0, w)), float(rng.uniform(0, h))


def photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Contrast, gamma, blur, noise and JPEG artefacts of phone photos and scans."""
    x = image.astype(np.float32) / 255.0
    x = np.clip(x, 1e-3, 1.0) ** rng.uniform(0.6, 1.6)
    x = 1.0 - (1.0 - x) * rng.uniform(0.5, 1.2)  # fainter or stronger ink
    if rng.random() < 0.3:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.4, 1.2))
    x = x + rng.normal(0, rng.uniform(0, 0.04), x.shape).astype(np.float32)
    out = (np.clip(x, 0, 1) * 255).astype(np.uint8)
    if rng.random() < 0.3:
        _, encoded = cv2.imencode(
            ".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 90))]
        )
        out = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    return out


def to_input(image: np.ndarray) -> np.ndarray:
    """A flattened page (paper 255) as net input: float32, ink bright, paper near 0."""
    return 1.0 - image.astype(np.float32) / 255.0


def batches(
    sets: Sequence[tuple[list[SegPage], float]],
    config: CropConfig,
    batch_size: int,
    rng: np.random.Generator,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Endless batches; each example's page set is drawn by the sets' weights."""
    weights = np.float64([weight for _, weight in sets])
    weights /= weights.sum()
    while True:
        examples = []
        for _ in range(batch_size):
            pages = sets[int(rng.choice(len(sets), p=weights))][0]
            examples.append(sample_crop(pages[int(rng.integers(len(pages)))], config, rng))
        images, targets, masks = zip(*examples, strict=True)
        yield np.stack(images)[:, None], np.stack(targets), np.stack(masks)
