"""Every export format, written from a real note and read back with an independent reader."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import docx
import numpy as np
import pypdf
import pypdfium2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recognition import imports
from recognition.exports import archive
from recognition.exports.document import note_document
from recognition.exports.layout import placed_lines
from recognition.exports.markdown import escape
from recognition.exports.registry import FORMATS
from recognition.models import Line
from tests.recognition.exports.conftest import TYPED


def export(note, name: str) -> archive.ExportFile:
    fmt = FORMATS[name]
    return archive.note_export(fmt, note_document(note, images=fmt.needs_images))


def page_texts(note) -> list[str]:
    return note.text.split("\n\n")


def test_text_is_the_note_text(note):
    data = export(note, "txt").data.decode()
    assert data == note.text + "\n"
    assert TYPED in data and "(sic)" in data


def test_markdown_has_title_metadata_and_a_section_per_page(note):
    data = export(note, "md").data.decode()
    assert data.startswith("# Lecture notes\n\n- **Collection:** Inbox\n")
    assert "- **Source:** notes.jpg (2 pages)" in data
    first, second = data.split("## Page 1\n\n")[1].split("\n\n## Page 2\n\n")
    unescaped = [line.rstrip("\\").replace("\\", "") for line in first.strip().split("\n")]
    assert unescaped == [t.replace("\\", "") for t in page_texts(note)[0].split("\n")]


@pytest.mark.parametrize(("text", "markdown"), [
    ("# 1 heading-like", "\\# 1 heading-like"),
    ("- milk", "\\- milk"),
    ("1. first", "1\\. first"),
    ("*stars* and _under_", "\\*stars\\* and \\_under\\_"),
    ("<b> [link]", "\\<b\\> \\[link\\]"),
    ("plain text, 3.5 - 2", "plain text, 3.5 - 2"),
])
def test_markdown_escapes_what_would_be_markup(text, markdown):
    assert escape(text) == markdown


def test_json_carries_lines_regions_words_and_corrections(note):
    data = json.loads(export(note, "json").data)
    assert data["format"] == "notes-digitizer/note" and data["version"] == 1
    assert data["note"]["title"] == "Lecture notes" and data["text"] == note.text
    first = data["pages"][0]
    assert (first["number"], first["width"], first["height"]) == (1, 1044, 944)
    lines = {line["text"]: line for line in first["lines"]}
    typed = lines[TYPED]
    assert typed["polygon"] is None and typed["corrected"] and typed["words"] == []
    machine = first["lines"][0]
    assert len(machine["polygon"]) == 4 and len(machine["baseline"]) == 2
    assert not machine["corrected"] and machine["confidence"] == 0.6
    assert machine["words"][0]["alternatives"][1]["text"] == machine["words"][0]["text"].upper()
    assert [line["order"] for line in first["lines"]] == list(range(len(first["lines"])))


def test_docx_reads_back_page_by_page(note):
    word = docx.Document(io.BytesIO(export(note, "docx").data))
    paragraphs = [p for p in word.paragraphs if p.style.name == "Normal"]
    assert word.core_properties.title == "Lecture notes"
    headings = [p.text for p in word.paragraphs if p.style.name.startswith("Heading")]
    assert headings == ["Page 1", "Page 2"]
    assert [p.text for p in paragraphs[1:]] == page_texts(note)


def test_pdf_text_layer_gives_back_the_document_text(note):
    reader = pypdf.PdfReader(io.BytesIO(export(note, "pdf").data))
    assert len(reader.pages) == 2
    texts = [page.extract_text() for page in reader.pages]
    assert [t.split("\n") for t in texts] == [t.split("\n") for t in page_texts(note)]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
@pytest.mark.parametrize("mode", [[], ["-raw"]])
def test_pdftotext_copies_the_document_text(note, tmp_path, mode):
    path = tmp_path / "note.pdf"
    path.write_bytes(export(note, "pdf").data)
    output = subprocess.run(["pdftotext", *mode, str(path), "-"], capture_output=True,
                            text=True, check=True).stdout
    # Without -raw poppler separates what it takes for paragraphs by blank lines.
    pages = [[line for line in page.split("\n") if line] for page in output.split("\f")]
    expected = [page.split("\n") for page in page_texts(note)]
    if mode:  # -raw follows the content stream: the reading order
        assert pages[:2] == expected
    else:  # poppler's layout analysis reads a typed-in line where its box is: at the foot
        assert pages[0] == [line for line in expected[0] if line != TYPED] + [TYPED]
        assert pages[1] == expected[1]


def test_pdf_pages_show_the_page_images(note, synthetic_pages):
    pdf = pypdfium2.PdfDocument(export(note, "pdf").data)
    try:
        for page, synthetic in zip(pdf, synthetic_pages, strict=True):
            height, width = synthetic.image.shape[:2]
            assert round(max(page.get_size())) == 842  # the photo's long side is A4's
            rendered = page.render(scale=width / page.get_width()).to_pil().convert("RGB")
            rendered = np.asarray(rendered.resize((width, height)), dtype=np.float32)
            assert np.abs(rendered - synthetic.image.astype(np.float32)).mean() < 6
    finally:
        pdf.close()


def test_pdf_page_of_a_pdf_note_keeps_its_paper_size(note, settings):
    note.kind = "pdf"
    note.save()
    settings.NOTES_PDF_DPI = 120  # 1044 pixels at 120 dpi: 626.4 points
    reader = pypdf.PdfReader(io.BytesIO(export(note, "pdf").data))
    assert float(reader.pages[0].mediabox.width) == pytest.approx(1044 * 72 / 120, abs=0.01)


def test_typed_lines_are_placed_below_the_last_line(note):
    page = note_document(note).pages[0]
    placed = placed_lines(page)
    typed = [p for p in placed if p.typed]
    assert [p.line.text for p in typed] == [TYPED]
    lowest = max(p.box[3] for p in placed if not p.typed)
    assert lowest <= typed[0].box[1] and typed[0].box[3] <= page.height
    assert len({p.run for p in placed}) == len({p.line.block for p in placed if not p.typed})


def xml_files(export_file) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(export_file.data)) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


@pytest.mark.parametrize(("name", "suffix"), [("alto", ".alto.xml"), ("page", ".page.xml")])
def test_xml_export_is_a_zip_of_page_files_and_their_images(note, name, suffix):
    result = export(note, name)
    assert result.name == f"Lecture notes-{name}.zip"
    assert sorted(xml_files(result)) == sorted([
        "Lecture notes-page-001.jpg", f"Lecture notes-page-001{suffix}",
        "Lecture notes-page-002.jpg", f"Lecture notes-page-002{suffix}"])


@pytest.mark.parametrize("name", ["alto", "page"])
def test_xml_export_imports_back_to_the_same_text(user, note, name):
    files = xml_files(export(note, name))
    for number, expected in enumerate(page_texts(note), start=1):
        stem = f"Lecture notes-page-{number:03d}"
        xml = next(data for file, data in files.items()
                   if file.startswith(stem) and file.endswith(".xml"))
        imported = imports.note_import(
            user=user, xml_file=SimpleUploadedFile(f"{stem}.xml", xml),
            image_file=SimpleUploadedFile(f"{stem}.jpg", files[f"{stem}.jpg"]))
        assert imported.text == expected


def test_alto_keeps_confidences_alternatives_and_correction_status(note):
    xml = xml_files(export(note, "alto"))["Lecture notes-page-001.alto.xml"]
    ns = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
    root = ET.fromstring(xml)
    assert root.find("a:Description/a:MeasurementUnit", ns).text == "pixel"
    assert root.find(".//a:fileName", ns).text == "Lecture notes-page-001.jpg"
    lines = root.findall(".//a:TextLine", ns)
    first = lines[0]
    assert first.get("CS") == "false" and first.get("BASELINE")
    assert first.find("a:String", ns).get("WC") == "0.6000"
    lower = next(s for s in root.iterfind(".//a:String[@WC]", ns)
                 if s.get("CONTENT") != s.get("CONTENT").upper())
    # The runner-up, not the word itself again.
    assert [a.text for a in lower.findall("a:ALTERNATIVE", ns)] == [lower.get("CONTENT").upper()]
    edited = lines[1]  # corrected: its words are the person's, without the machine's scores
    assert edited.get("CS") == "true" and edited.findall("a:String", ns)[-1].get(
        "CONTENT") == "(sic)"
    assert all(s.get("WC") is None for s in edited.findall("a:String", ns))


def test_page_xml_has_dates_and_line_confidences(note):
    xml = xml_files(export(note, "page"))["Lecture notes-page-001.page.xml"]
    ns = {"p": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
    root = ET.fromstring(xml)
    assert root.find("p:Metadata/p:Created", ns).text.startswith(str(note.created.year))
    page = root.find("p:Page", ns)
    assert page.get("imageFilename") == "Lecture notes-page-001.jpg"
    assert (page.get("imageWidth"), page.get("imageHeight")) == ("1044", "944")
    confidences = [e.get("conf") for e in root.iter(f"{{{ns['p']}}}TextEquiv")]
    assert confidences[:2] == ["0.6000", "1"]  # machine line, corrected line
    for coords in root.iter(f"{{{ns['p']}}}Coords"):  # the schema's pattern: x,y pairs >= 0
        assert all(int(v) >= 0 for pair in coords.get("points").split()
                   for v in pair.split(","))


def test_lines_without_text_are_in_no_export(note):
    """A line located but not read (its page's time ran out) has no text to carry."""
    page = note.pages.get(number=1)
    blank = page.lines.order_by("order")[3]
    Line.objects.filter(pk=blank.pk).update(text="", machine_text="", words=[], read=False)
    document = note_document(note)
    assert blank.pk not in {line.id for p in document.pages for line in p.lines}
    for name in ("alto", "page"):
        xml = xml_files(export(note, name))[f"Lecture notes-page-001.{name}.xml"].decode()
        assert f'"line{blank.pk}"' not in xml and f'"line{page.lines.first().pk}"' in xml
    data = json.loads(export(note, "json").data)
    assert blank.pk not in {line["id"] for line in data["pages"][0]["lines"]}


def test_pdf_of_a_page_without_its_image_still_has_the_text(note):
    for page in note.pages.all():
        page.image.storage.delete(page.image.name)
    reader = pypdf.PdfReader(io.BytesIO(export(note, "pdf").data))
    assert reader.pages[1].extract_text() == page_texts(note)[1]


def test_pdf_converts_page_images_that_are_not_jpeg(note, synthetic_pages):
    page = note.pages.get(number=2)
    out = io.BytesIO()
    Image.fromarray(synthetic_pages[1].image).convert("RGBA").save(out, "PNG")
    with page.image.storage.open(page.image.name, "wb") as f:
        f.write(out.getvalue())
    pdf = pypdfium2.PdfDocument(export(note, "pdf").data)
    try:
        assert pdf[1].render().to_pil().getextrema() != ((255, 255),) * 3  # not blank
    finally:
        pdf.close()
