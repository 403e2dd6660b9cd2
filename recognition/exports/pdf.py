"""Searchable PDF: each page image with an invisible, selectable text layer over its lines.

Built with pikepdf, so the page JPEGs go in as they are (no decoding, no second compression).
The text is drawn in render mode 3 (invisible) with Type 3 fonts whose glyphs draw nothing and
whose ToUnicode maps give back every character, whatever the script: the approach of
Tesseract's and OCRmyPDF's "glyphless" font, without a font program to ship. Each font has 255
codes; a note using more distinct characters gets several.

Text is written upright, never rotated: poppler (pdftotext, and the viewers built on it) breaks
text turned by more than about 2° into letters, and words stepped down a tilted baseline fall
off their line. Each line is one horizontal run on its baseline; its words are placed one by
one a quarter em apart (a printed space: a word break to poppler, never a column gap), the
letters sharing the rest of the width evenly (Tz), as the recognizer gives no word boxes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import Image

from recognition.exports.document import Document, DocumentPage
from recognition.exports.layout import PlacedLine, placed_lines
from recognition.images import jpeg_bytes

A4_LONG_SIDE = 841.89  # points; a photo has no resolution, so its long side becomes A4's
GLYPH_WIDTH = 500  # every glyph, in 1/1000 of the font size (Tz fits a line to its width)
ASCENT, DESCENT = 800, -200  # the glyph box: a line's band runs from descent to ascent
CODES_PER_FONT = 255  # single-byte codes 1-255
# Letters are stretched (Tz / 100) no less than this (more text than its region holds gets a
# smaller font instead) and no more (a few words on a long region end short of its right end).
MIN_STRETCH, MAX_STRETCH = 0.4, 2.5
WORD_GAP = 0.25  # between words, in em: a printed space
# The text's em as a share of the line's thickness (and at most the line pitch, see
# `_text_positions`). Line polygons reach past the ascenders and descenders (eScriptorium's by
# about a third); a slightly thinner band is closer to the ink and overlaps less: on the
# benchmark's 20 pages pdftotext gave every line back on 18 at 0.8, on 17 at 1.0.
TEXT_HEIGHT = 0.8
JPEG_QUALITY = 90


def write_pdf(document: Document) -> bytes:
    """The note as a PDF: one page per page image, its text selectable and searchable."""
    pdf = pikepdf.Pdf.new()
    fonts = _InvisibleFonts(pdf, (line.text for page in document.pages for line in page.lines))
    for page in document.pages:
        _add_page(pdf, page, fonts)
    pdf.docinfo[Name.Title] = document.title
    pdf.docinfo[Name.Creator] = "notes-digitizer"
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def _add_page(pdf: pikepdf.Pdf, page: DocumentPage, fonts: _InvisibleFonts) -> None:
    width, height = max(page.width, 1), max(page.height, 1)
    scale = 72 / page.dpi if page.dpi else A4_LONG_SIDE / max(width, height)
    page_width, page_height = width * scale, height * scale
    resources = Dictionary(Font=fonts.resources)
    operations = []
    image = _image(pdf, page.image)
    if image is not None:
        resources.XObject = Dictionary(Im0=image)
        operations.append(f"q {page_width:.3f} 0 0 {page_height:.3f} 0 0 cm /Im0 Do Q")
    lines = placed_lines(page)
    text = [_line_operations(placed, fonts, size, baseline, scale, page_height)
            for placed, (size, baseline) in zip(lines, _text_positions(lines), strict=True)]
    text = [t for t in text if t]
    if text:
        operations += ["BT 3 Tr", *text, "ET"]
    pdf_page = pdf.add_blank_page(page_size=(page_width, page_height))
    pdf_page.obj.Resources = resources
    pdf_page.obj.Contents = pdf.make_stream("\n".join(operations).encode("ascii"))


def _text_positions(lines: list[PlacedLine]) -> list[tuple[float, float]]:
    """Each line's font size and baseline height, in page pixels.

    The baseline is followed to the left edge of the line's block rather than averaged: on a
    turned page the lines of a block then stay one line pitch apart whatever their lengths and
    indents (a long line's mean baseline drifts towards the next line's). The font is no taller
    than that pitch, for line polygons may overlap their neighbours (drawn generously, or
    reaching into the ruling): overlapping text is what extractors merge or split wrongly.
    """
    lefts: dict[int, int] = {}
    for placed in lines:
        lefts[placed.run] = min(lefts.get(placed.run, placed.box[0]), placed.box[0])
    sizes = [placed.thickness * TEXT_HEIGHT for placed in lines]
    baselines: list[float | None] = [_baseline_at(placed, lefts[placed.run]) for placed in lines]
    for index, (placed, baseline) in enumerate(zip(lines, baselines, strict=True)):
        if baseline is None:  # no baseline: centre the glyph band on the line's box
            centre = (placed.box[1] + placed.box[3]) / 2
            baselines[index] = centre + sizes[index] * (ASCENT + DESCENT) / 2000
            continue
        pitches = [abs(baseline - baselines[other]) for other in (index - 1, index + 1)
                   if 0 <= other < len(lines) and lines[other].run == placed.run
                   and lines[other].baseline and baselines[other] is not None]
        pitches = [pitch for pitch in pitches if pitch >= 1]
        if pitches:
            sizes[index] = min(sizes[index], min(pitches))
    return list(zip(sizes, baselines, strict=True))


def _baseline_at(placed: PlacedLine, x: float) -> float | None:
    """The line's baseline, as a straight line, at `x`; None without a baseline."""
    if not placed.baseline:
        return None
    points = sorted(placed.baseline)
    (xa, ya), (xb, yb) = points[0], points[-1]
    return ya + (yb - ya) / (xb - xa) * (x - xa) if xb > xa else ya


def _line_operations(placed: PlacedLine, fonts: _InvisibleFonts, size: float, baseline: float,
                     scale: float, page_height: float) -> str:
    """One line's words on its baseline, spread over its width (page pixels to PDF points)."""
    text = placed.line.text
    if not text.strip():
        return ""
    x0, _, x1, _ = placed.box
    words = text.split(" ")
    letters, gaps = sum(len(word) for word in words), len(words) - 1
    em = GLYPH_WIDTH / 1000  # a letter's width at Tz 100, in em
    stretch = (x1 - x0 - WORD_GAP * size * gaps) / (letters * em * size)
    if stretch < MIN_STRETCH:  # more text than its region holds: smaller letters, all inside
        size = (x1 - x0) / (letters * em * MIN_STRETCH + WORD_GAP * gaps)
        stretch = MIN_STRETCH
    stretch = min(stretch, MAX_STRETCH)
    advance, gap = em * size * stretch, WORD_GAP * size  # pixels
    y = page_height - baseline * scale
    operations = [f"{100 * stretch:.3f} Tz"]
    x = x0
    for index, word in enumerate(words):
        chunk = word if index == len(words) - 1 else word + " "
        shows = " ".join(f"/{font} {size * scale:.3f} Tf <{codes}> Tj"
                         for font, codes in fonts.runs(chunk))
        operations.append(f"1 0 0 1 {x * scale:.3f} {y:.3f} Tm {shows}")
        x += len(word) * advance + gap
    return "\n".join(operations)


def _image(pdf: pikepdf.Pdf, data: bytes | None) -> pikepdf.Stream | None:
    """The page image as an image XObject: a JPEG as it is, anything else made one."""
    if data is None:
        return None
    with Image.open(io.BytesIO(data)) as image:
        if image.format != "JPEG" or image.mode not in ("L", "RGB"):
            data = jpeg_bytes(image, quality=JPEG_QUALITY)
        width, height, gray = image.width, image.height, image.mode == "L"
    return pikepdf.Stream(
        pdf, data, Type=Name.XObject, Subtype=Name.Image, Width=width, Height=height,
        ColorSpace=Name.DeviceGray if gray else Name.DeviceRGB, BitsPerComponent=8,
        Filter=Name.DCTDecode)




class _InvisibleFonts:
    """Type 3 fonts of empty glyphs, one code per character used, with ToUnicode maps."""

    def __init__(self, pdf: pikepdf.Pdf, texts: Iterable[str]):
        characters = sorted({c for text in texts for c in text})
        glyph = pdf.make_stream(
            f"{GLYPH_WIDTH} 0 0 {DESCENT} {GLYPH_WIDTH} {ASCENT} d1".encode("ascii"))
        self._codes: dict[str, tuple[str, int]] = {}
        fonts = {}
        for start in range(0, len(characters), CODES_PER_FONT):
            name = f"F{len(fonts)}"
            chunk = characters[start:start + CODES_PER_FONT]
            for code, character in enumerate(chunk, start=1):
                self._codes[character] = (name, code)
            fonts[name] = pdf.make_indirect(_type3_font(pdf, chunk, glyph))
        self.resources = Dictionary({f"/{name}": font for name, font in fonts.items()})

    def runs(self, text: str) -> list[tuple[str, str]]:
        """The text as (font name, hex codes) runs."""
        runs: list[tuple[str, list[str]]] = []
        for character in text:
            font, code = self._codes[character]
            if not runs or runs[-1][0] != font:
                runs.append((font, []))
            runs[-1][1].append(f"{code:02X}")
        return [(font, "".join(codes)) for font, codes in runs]


def _type3_font(pdf: pikepdf.Pdf, characters: list[str], glyph: pikepdf.Stream) -> Dictionary:
    count = len(characters)
    names = [Name(f"/g{code}") for code in range(1, count + 1)]
    return Dictionary(
        Type=Name.Font, Subtype=Name.Type3,
        FontBBox=Array([0, DESCENT, GLYPH_WIDTH, ASCENT]),
        FontMatrix=Array([0.001, 0, 0, 0.001, 0, 0]),
        CharProcs=Dictionary({str(name): glyph for name in names}),
        Encoding=Dictionary(Type=Name.Encoding, Differences=Array([1, *names])),
        FirstChar=1, LastChar=count, Widths=Array([GLYPH_WIDTH] * count),
        Resources=Dictionary(),
        ToUnicode=pdf.make_stream(_to_unicode(characters)),
    )


def _to_unicode(characters: list[str]) -> bytes:
    """A CMap from codes 1..n to the characters (UTF-16BE, so any code point)."""
    pairs = [f"<{code:02X}> <{c.encode('utf-16-be').hex().upper()}>"
             for code, c in enumerate(characters, start=1)]
    blocks = [pairs[i:i + 100] for i in range(0, len(pairs), 100)]  # the spec's limit: 100
    body = "\n".join(f"{len(b)} beginbfchar\n" + "\n".join(b) + "\nendbfchar" for b in blocks)
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
        f"{body}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")
