"""Export benchmark: a 20-page collection as searchable PDFs, its speed and its text layer.

    python bench/exports.py [--out bench/results/exports.md] [--pages 20] [--runs 5]

The collection: 20 notes of one 12-megapixel photo each (synthetic notes pages, held-out
handwriting fonts, photographed as in `bench/page_pipeline.py`: 3000x4000 JPEG, turned by up to
4°, in perspective, unevenly lit), their lines taken from the synthetic ground truth (polygons,
baselines, words with confidences and alternatives) instead of running the model. Stored as
recognition stores them: SQLite and page JPEGs in a fresh data folder.

Timed: `GET /collections/<pk>/export/pdf/` through Django's test client (the whole view: reading
the notes and page images, writing each PDF, zipping), median of `--runs`. Checked: each PDF's
text as `pdftotext` gives it (poppler's layout mode, and -raw, which keeps the content order)
and as pypdf extracts it, against the note's text: CER, whitespace collapsed, and the share of
pages whose lines come back exactly. With ../shared/data present, the same check on the real
Stanford letters (imported from their ALTO files), whose layouts are harder: dates top right,
address blocks, several segments on one baseline.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
STANFORD = ROOT.parent / "shared" / "data" / "stanford-memorials"
PHOTO_SIZE = (3000, 4000)  # width, height: 12 megapixels


def django_setup(folder: Path) -> None:
    """A fresh site in `folder`: settings, an empty SQLite database, private media."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "notesite.settings", "NOTES_DATA_DIR": str(folder),
        "NOTES_SECRET_KEY": "benchmark", "NOTES_DEBUG": "0", "NOTES_Q_SYNC": "1",
        "NOTES_ALLOWED_HOSTS": "testserver", "NOTES_LOG_LEVEL": "WARNING"})
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def synthetic_photos(count: int, seed: int):
    """(JPEG bytes, lines in photo pixels) of `count` photographed notes pages."""
    import cv2
    import numpy as np

    from ml.synth.fonts import load_fonts
    from ml.synth.page import PageStyle, render_page
    from ml.synth.text import TextSampler, Vocabulary

    fonts = [f for f in load_fonts(ROOT / ".cache" / "fonts", split="test")
             if f.style == "handwriting"]
    sampler = TextSampler(Vocabulary.from_wordfreq(), random.Random(seed))
    rng = np.random.default_rng(seed)
    for _ in range(count):
        style = PageStyle(paper=str(rng.choice(["plain", "ruled", "squared"])),
                          rotation=float(rng.uniform(-4, 4)), perspective=0.03, lighting=0.6)
        page = render_page(fonts, sampler, rng, style)
        height, width = page.image.shape[:2]
        sx, sy = PHOTO_SIZE[0] / width, PHOTO_SIZE[1] / height
        photo = cv2.resize(page.image, PHOTO_SIZE, interpolation=cv2.INTER_CUBIC)
        data = cv2.imencode(".jpg", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
        lines = [(line.text, [[x * sx, y * sy] for x, y in line.polygon], line.block)
                 for line in page.lines]
        yield data, lines


def collection_create(user, pages) -> int:
    """A collection with one recognized note per page, as recognition would leave them."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from recognition.models import Line, Note, Page, Revision
    from recognition.revisions import revision_record

    collection = user.collections.create(name="Benchmark notebook")
    for number, (data, lines) in enumerate(pages, start=1):
        note = Note.objects.create(
            owner=user, collection=collection, title=f"Notes {number:02d}", kind="image",
            content_type="image/jpeg", size=len(data), sha256="-", original="-",
            original_name=f"IMG_{number:04d}.jpg", status="done", pages_total=1, pages_done=1)
        name = default_storage.save(f"notes/{note.storage_key}/page-001.jpg", ContentFile(data))
        page = Page.objects.create(note=note, number=1, image=name, width=PHOTO_SIZE[0],
                                   height=PHOTO_SIZE[1], recognized=True)
        Line.objects.bulk_create([
            Line(page=page, order=order, block=block, polygon=polygon,
                 baseline=_baseline(polygon), text=text, machine_text=text, confidence=0.9,
                 words=[{"text": w, "confidence": 0.9,
                         "alternatives": [{"text": w, "probability": 0.9}]}
                        for w in text.split()])
            for order, (text, polygon, block) in enumerate(lines)])
        revision_record(note=note, kind=Revision.Kind.MACHINE, summary="benchmark")
    return collection.pk


def _baseline(polygon):
    """Three quarters down the line's four-corner polygon, as the recognizer places it."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = polygon
    return [[x0 + 0.75 * (x3 - x0), y0 + 0.75 * (y3 - y0)],
            [x1 + 0.75 * (x2 - x1), y1 + 0.75 * (y2 - y1)]]


def time_export(client, url: str, runs: int) -> tuple[list[float], bytes]:
    seconds, data = [], b""
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        data = b"".join(response.streaming_content)
        seconds.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return seconds, data


def text_layer_check(pdfs: dict[str, bytes], texts: dict[str, str], folder: Path) -> dict:
    """CER of each extraction against the notes' texts, and the share of exact pages."""
    import pypdf

    from ml.metrics import ErrorCounter

    counters = {"pdftotext": ErrorCounter(), "pdftotext -raw": ErrorCounter(),
                "pypdf": ErrorCounter()}
    exact = dict.fromkeys(counters, 0)
    # Words missing or extra, whatever their order: what a reordering of blocks does not count.
    bag_errors, words = dict.fromkeys(counters, 0), 0
    for name, data in pdfs.items():
        path = folder / "check.pdf"
        path.write_bytes(data)
        extracted = {
            "pdftotext": _pdftotext(path, []), "pdftotext -raw": _pdftotext(path, ["-raw"]),
            "pypdf": "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages),
        }
        reference = texts[name]
        words += len(reference.split())
        for way, text in extracted.items():
            counters[way].add(text, reference)
            lines = [line for line in text.split("\n") if line.strip("\f ")]
            exact[way] += lines == [line for line in reference.split("\n") if line]
            got, wanted = Counter(text.split()), Counter(reference.split())
            bag_errors[way] += sum(((got - wanted) + (wanted - got)).values())
    return {way: {"cer": counter.cer, "word_bag_error": bag_errors[way] / max(words, 1),
                  "exact_pages": exact[way] / max(len(pdfs), 1), "chars": counter.chars}
            for way, counter in counters.items()}


def _pdftotext(path: Path, mode: list[str]) -> str:
    return subprocess.run(["pdftotext", *mode, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def stanford_check(user, folder: Path) -> dict | None:
    """Every Stanford letter imported from its ALTO, exported as PDF, its text layer read."""
    if not STANFORD.is_dir():
        return None
    from django.core.files.uploadedfile import SimpleUploadedFile

    from recognition.exports.document import note_document
    from recognition.exports.pdf import write_pdf
    from recognition.imports import note_import

    pdfs, texts, seconds = {}, {}, []
    for xml in sorted(STANFORD.glob("*/*/*.xml")):
        image = xml.with_suffix(".jpg")
        note = note_import(user=user,
                           xml_file=SimpleUploadedFile(xml.name, xml.read_bytes()),
                           image_file=SimpleUploadedFile(image.name, image.read_bytes()))
        document = note_document(note, images=True)
        start = time.perf_counter()
        pdfs[xml.name] = write_pdf(document)
        seconds.append(time.perf_counter() - start)
        texts[xml.name] = note.text
    return {"pages": len(pdfs), "seconds_per_page": statistics.median(seconds),
            **text_layer_check(pdfs, texts, folder)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "exports.md")
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        django_setup(folder / "site")
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.urls import reverse

        from recognition.models import Note

        user = get_user_model().objects.create_user("bench")
        start = time.perf_counter()
        pk = collection_create(user, synthetic_photos(args.pages, seed=2026))
        print(f"collection made in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        client = Client()
        client.force_login(user)
        url = reverse("recognition:collection-export", args=[pk, "pdf"])
        seconds, archive = time_export(client, url, args.runs)
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            pdfs = {name: zipped.read(name) for name in zipped.namelist()}
        texts = {f"{note.title}.pdf": note.text for note in Note.objects.filter(
            collection_id=pk)}
        lines = sum(text.count("\n") + 1 for text in texts.values())
        results = {
            "pages": args.pages, "lines": lines, "runs": seconds,
            "median_seconds": statistics.median(seconds),
            "zip_mb": len(archive) / 2**20,
            "synthetic": text_layer_check(pdfs, texts, folder),
            "stanford": stanford_check(user, folder),
        }
    print(json.dumps(results, indent=2), file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    args.out.write_text(report(results, argv if argv is not None else sys.argv[1:]))
    print(args.out)
    return 0


def report(r: dict, argv: list[str]) -> str:
    def rows(check: dict) -> str:
        return "\n".join(f"| {way} | {v['cer']:.2%} | {v['word_bag_error']:.2%} | "
                         f"{v['exact_pages']:.0%} |"
                         for way, v in check.items() if isinstance(v, dict))

    stanford = r["stanford"]
    real = ("(../shared/data absent: not measured)" if stanford is None else
            f"""{stanford['pages']} pages imported from their ALTO ground truth, each written as a
PDF in {stanford['seconds_per_page']:.2f} s (median; 3146x4198 scans):

| extraction | CER | words missing or extra | pages exactly line for line |
|---|---|---|---|
{rows(stanford)}""")
    return f"""# Exports: a {r['pages']}-page collection as searchable PDFs

Measured {date.today()} on {platform.machine()} ({os.cpu_count()} cores), Python
{platform.python_version()}. Command: `{" ".join(["python bench/exports.py", *argv])}`.
Collection: {r['pages']} notes of one 12-megapixel photo each (3000x4000 JPEG, synthetic notes,
held-out fonts, turned by up to 4°), {r['lines']} lines from the synthetic ground truth.
Timed: `GET /collections/<pk>/export/pdf/` in process (Django test client): reading notes and
page images, one PDF per note, the zip ({r['zip_mb']:.0f} MB; the JPEGs go in unchanged).

**Median {r['median_seconds']:.2f} s** over {len(r['runs'])} runs (target: 10 s); every run:
{", ".join(f"{s:.2f}" for s in r['runs'])} s.

Text layer: each PDF's text as extracted, against the note's text (CER over whitespace-
collapsed text; "exactly": every line of the page, in order, blank lines ignored). `pdftotext`
is poppler's layout mode (what most viewers' copy gives), `-raw` keeps the content stream's
order, which is the reading order.

| extraction | CER | words missing or extra | pages exactly line for line |
|---|---|---|---|
{rows(r['synthetic'])}

Real letters (stanford-memorials): {real}

Where poppler's layout mode has a high CER and few missing or extra words, it read the same
words in another order: it takes a letterhead's side column, a date at the top right or a
signature block for columns of their own. The text layer's order is the note's reading order
(`-raw`). The text is invisible (render mode 3) in Type 3 fonts whose ToUnicode maps return
every character; see `recognition/exports/pdf.py` for how lines are placed and why they are
never turned with a tilted baseline.
"""


if __name__ == "__main__":
    sys.exit(main())
