"""Fixtures of the export and import tests: real page images in the storage, real lines.

Notes are made directly from synthetic pages and their exact ground truth (recognition itself
is tested elsewhere), with what recognition would have stored: polygons, baselines, word
confidences and alternatives; then one line corrected by hand and one typed in (no region).
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recognition import revisions
from recognition.models import Line, Note, Page, Revision

ROOT = Path(__file__).resolve().parents[3]
STANFORD = ROOT.parent / "shared" / "data" / "stanford-memorials"
# Typed in by hand: markup, quotes, accents and characters no Latin font has.
TYPED = "Café & <naïve> “quotes” — 漢字 🙂"


@pytest.fixture(scope="session")
def synthetic_pages():
    """Two photographed pages of notes with their lines: one straight, one turned by 3°."""
    from ml.synth.fonts import load_fonts
    from ml.synth.page import PageStyle, render_page
    from ml.synth.text import TextSampler, Vocabulary

    fonts = [f for f in load_fonts(ROOT / ".cache" / "fonts") if f.name in {"kalam", "coming-soon"}]
    sampler = TextSampler(Vocabulary.from_wordfreq(), random.Random(5))
    rng = np.random.default_rng(5)
    return [render_page(fonts, sampler, rng, PageStyle(paper_width=900, paper_height=800,
                                                       paper="ruled", rotation=rotation))
            for rotation in (0.0, 3.0)]


def jpeg(image: Image.Image | np.ndarray) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def words_of(text: str, confidence: float) -> list[dict]:
    """What the recognizer stores per word, with a made-up runner-up for each."""
    return [{"text": word, "confidence": confidence,
             "alternatives": [{"text": word, "probability": confidence},
                              {"text": word.upper(), "probability": round(1 - confidence, 4)}]}
            for word in text.split()]


def baseline_of(polygon) -> list[list[float]]:
    """A baseline three quarters down a four-corner line polygon, left to right."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = polygon
    return [[x0 + 0.75 * (x3 - x0), y0 + 0.75 * (y3 - y0)],
            [x1 + 0.75 * (x2 - x1), y1 + 0.75 * (y2 - y1)]]


def note_create(user, pages, *, title="Lecture notes", collection=None, typed=True) -> Note:
    """A recognized note of the synthetic `pages`, page images stored as recognition would."""
    collection = collection or user.collections.get_or_create(name="Inbox")[0]
    note = Note.objects.create(owner=user, collection=collection, title=title, kind="image",
                               content_type="image/jpeg", size=1, sha256="0",
                               original="notes/x/original.jpg", original_name="notes.jpg",
                               status="done", pages_total=len(pages), pages_done=len(pages))
    for number, synthetic in enumerate(pages, start=1):
        height, width = synthetic.image.shape[:2]
        name = default_storage.save(f"notes/{note.storage_key}/page-{number:03d}.jpg",
                                    ContentFile(jpeg(synthetic.image)))
        page = Page.objects.create(note=note, number=number, image=name, width=width,
                                   height=height, recognized=True)
        for order, line in enumerate(synthetic.lines):
            confidence = round(0.6 + 0.04 * order, 4)
            Line.objects.create(
                page=page, order=order, block=line.block, text=line.text,
                machine_text=line.text, confidence=confidence,
                polygon=[list(p) for p in line.polygon], baseline=baseline_of(line.polygon),
                words=words_of(line.text, confidence))
    revisions.revision_record(note=note, kind=Revision.Kind.MACHINE, summary="Recognized")
    if typed:
        first_page = note.pages.get(number=1)
        lines = list(first_page.lines.order_by("order"))
        text = "\n".join([lines[0].text, lines[1].text + " (sic)", TYPED,
                          *[line.text for line in lines[2:]]])
        revisions.pages_text_replace(user=user, note=note, pages={1: text},
                                     base_revision=note.revision)
    note.refresh_from_db()
    return note


@pytest.fixture
def note(user, synthetic_pages):
    return note_create(user, synthetic_pages)


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def stanford_pages(count: int) -> list[tuple[Path, Path]]:
    """(ALTO file, image) pairs of the shared Stanford letters; skips without the data."""
    if not STANFORD.is_dir():
        pytest.skip("the shared data (../shared/data) is not on this machine")
    pairs = [(xml, xml.with_suffix(".jpg")) for xml in sorted(STANFORD.glob("*/*/*.xml"))]
    return [pair for pair in pairs if pair[1].exists()][:count]
