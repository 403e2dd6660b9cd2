"""Import of ALTO / PAGE XML with its page image: real files in, a transcribed note out, and
nothing left behind when either file is wrong."""

from __future__ import annotations

import io
import shutil
import subprocess
from xml.sax.saxutils import quoteattr

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rapidfuzz.distance import Levenshtein

from ml.groundtruth import read_ground_truth
from recognition import imports
from recognition.exceptions import UploadError
from recognition.exports import archive
from recognition.exports.document import note_document
from recognition.exports.registry import FORMATS
from recognition.models import Line, Note, Page, RecognitionJob, Revision
from tests.recognition.exports.conftest import jpeg, stanford_pages, upload

WIDTH, HEIGHT = 1044, 944  # the synthetic page's photo


def alto(lines, *, width=WIDTH, height=HEIGHT, unit="pixel") -> bytes:
    """ALTO 4 as eScriptorium writes it: a Shape polygon per line, Strings per word."""
    text_lines = "".join(
        f'<TextLine ID="l{i}" HPOS="{x0}" VPOS="{y0}" WIDTH="{x1 - x0}" HEIGHT="{y1 - y0}">'
        f'<Shape><Polygon POINTS="{x0} {y0} {x1} {y0} {x1} {y1} {x0} {y1}"/></Shape>'
        + "<SP/>".join(f"<String CONTENT={quoteattr(w)}/>" for w in text.split())
        + "</TextLine>"
        for i, (text, (x0, y0, x1, y1)) in enumerate(lines))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Description>'
        f"<MeasurementUnit>{unit}</MeasurementUnit>"
        "<sourceImageInformation><fileName>page.jpg</fileName></sourceImageInformation>"
        f'</Description><Layout><Page ID="p1" PHYSICAL_IMG_NR="1" WIDTH="{width}" '
        f'HEIGHT="{height}"><PrintSpace><TextBlock ID="b1">{text_lines}</TextBlock>'
        "</PrintSpace></Page></Layout></alto>"
    ).encode()


def page_xml(regions, *, width=WIDTH, height=HEIGHT) -> bytes:
    """PAGE 2019 with several regions (reading order: document order)."""
    body = "".join(
        f'<TextRegion id="r{r}"><Coords points="0,0 10,0 10,10"/>' + "".join(
            f'<TextLine id="r{r}l{i}"><Coords points="{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}"/>'
            f"<TextEquiv><Unicode>{text}</Unicode></TextEquiv></TextLine>"
            for i, (text, (x0, y0, x1, y1)) in enumerate(lines))
        + "</TextRegion>"
        for r, lines in enumerate(regions))
    return (
        '<?xml version="1.0" encoding="UTF-8"?><PcGts xmlns="http://schema.primaresearch.org/'
        'PAGE/gts/pagecontent/2019-07-15"><Metadata><Creator>t</Creator></Metadata>'
        f'<Page imageFilename="page.jpg" imageWidth="{width}" imageHeight="{height}">{body}'
        "</Page></PcGts>"
    ).encode()


@pytest.fixture
def ground_truth(synthetic_pages):
    """The first synthetic page's lines as (text, box) and its image as a JPEG upload."""
    page = synthetic_pages[0]
    lines = [(line.text, line.bbox) for line in page.lines]
    return lines, SimpleUploadedFile("page.jpg", jpeg(page.image))


def xml_upload(data: bytes, name: str = "page.xml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "application/xml")


def test_import_of_alto_makes_a_transcribed_note(user, ground_truth, media_root):
    lines, image = ground_truth
    note = imports.note_import(user=user, xml_file=xml_upload(alto(lines), "Letter 7.xml"),
                               image_file=image)
    assert (note.title, note.status, note.kind, note.pages_total) == ("Letter 7", "done",
                                                                      "image", 1)
    assert note.collection.name == "Inbox" and not RecognitionJob.objects.exists()
    assert note.text == "\n".join(text for text, _ in lines)
    [revision] = note.revisions.all()
    assert (revision.kind, revision.number, revision.author) == ("import", 1, user)
    assert revision.summary == "Imported from Letter 7.xml"
    stored = Line.objects.filter(page__note=note).order_by("order")
    assert all(line.corrected and line.revision == 1 for line in stored)
    text, (x0, y0, x1, y1) = lines[0]
    assert stored[0].polygon == [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    page = note.pages.get()
    with page.image.open("rb") as f:
        assert Image.open(f).size == (page.width, page.height) == (WIDTH, HEIGHT)
    assert note.original.name.endswith("original.jpg") and note.thumbnail.name


def test_import_of_page_xml_keeps_regions_in_reading_order(user, ground_truth):
    lines, image = ground_truth
    regions = [lines[:3], lines[3:]]
    collection = user.collections.create(name="Letters")
    note = imports.note_import(user=user, xml_file=xml_upload(page_xml(regions)),
                               image_file=image, collection=collection, title=" Mine ")
    assert (note.title, note.collection) == ("Mine", collection)
    assert note.text == "\n".join(text for text, _ in lines)
    blocks = list(Line.objects.filter(page__note=note).order_by("order").values_list(
        "block", flat=True))
    assert blocks == [0] * 3 + [1] * (len(lines) - 3)


def test_import_accepts_an_image_stored_sideways_with_exif_orientation(user, ground_truth):
    """A phone JPEG: pixels stored landscape, EXIF says turn it; the XML describes it upright."""
    lines, image = ground_truth
    upright = Image.open(image)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(out, "JPEG", exif=exif)
    note = imports.note_import(user=user, xml_file=xml_upload(alto(lines)),
                               image_file=SimpleUploadedFile("phone.jpg", out.getvalue()))
    assert (note.pages.get().width, note.pages.get().height) == (WIDTH, HEIGHT)


def test_import_of_the_shared_stanford_alto(user):
    [(xml, image)] = stanford_pages(1)
    expected = read_ground_truth(xml)
    note = imports.note_import(user=user, xml_file=upload(xml), image_file=upload(image))
    lines = list(Line.objects.filter(page__note=note).order_by("order"))
    assert [line.text for line in lines] == [line.text for line in expected.lines]
    assert [line.baseline for line in lines] == [[list(p) for p in line.baseline]
                                                 for line in expected.lines]
    page = note.pages.get()
    assert (page.width, page.height) == (expected.width, expected.height)


@pytest.mark.parametrize("name", ["alto", "page"])
def test_stanford_page_exported_and_imported_again_reads_the_same(user, name):
    [(xml, image)] = stanford_pages(1)
    first = imports.note_import(user=user, xml_file=upload(xml), image_file=upload(image))
    fmt = FORMATS[name]
    files = list(archive.document_files(fmt, note_document(first, images=True), "letter"))
    again = imports.note_import(
        user=user, xml_file=SimpleUploadedFile(files[0].name, files[0].data),
        image_file=SimpleUploadedFile(files[1].name, files[1].data))
    assert again.text == first.text
    polygons = [list(Line.objects.filter(page__note=n).order_by("order").values_list(
        "polygon", flat=True)) for n in (first, again)]
    assert polygons[0] == polygons[1]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_stanford_pdf_text_matches_the_transcription(user, tmp_path):
    """Real letters: a date top right, an address block, a signature, two line segments on
    one baseline (poppler joins them). pdftotext's own layout analysis may reorder blocks; -raw
    follows the reading order: the same words, in the same order."""
    [(xml, image)] = stanford_pages(1)
    note = imports.note_import(user=user, xml_file=upload(xml), image_file=upload(image))
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(FORMATS["pdf"].write(note_document(note, images=True)))
    raw, layout = (subprocess.run(["pdftotext", *mode, str(pdf), "-"], capture_output=True,
                                  text=True, check=True).stdout for mode in (["-raw"], []))
    words = " ".join(note.text.split())
    assert " ".join(raw.split()) == words
    assert Levenshtein.normalized_distance(" ".join(layout.split()), words) < 0.05


# Refusals: each leaves no row and no file ------------------------------------------------------

def nothing_left(media_root) -> bool:
    files = [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []
    counts = [m.objects.count() for m in (Note, Page, Line, Revision, RecognitionJob)]
    return not files and counts == [0] * 5


def not_an_image() -> SimpleUploadedFile:
    return SimpleUploadedFile("page.jpg", b"these are not pixels")


def a_pdf(image) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.open(image).save(out, "PDF")
    return SimpleUploadedFile("scan.pdf", out.getvalue())


LINE = [("a line", (10, 10, 300, 60))]
BAD_INPUTS = {
    "no xml": (None, "image", imports.ERROR_NO_XML),
    "empty xml": (b"", "image", "“page.xml” is empty."),
    "malformed": (b"<alto><Layout></alto>", "image",
                  "“page.xml” is not well-formed XML (mismatched tag: line 1, column 16)."),
    "doctype": (b'<!DOCTYPE lolz [<!ENTITY lol "lol">]><alto>&lol;</alto>', "image",
                "“page.xml” contains a DOCTYPE/entities, which are not allowed: ALTO and PAGE "
                "files have none."),
    "neither": (b"<html><body>notes</body></html>", "image",
                "“page.xml” is neither ALTO nor PAGE XML (its root element is <html>)."),
    "alto in mm": (alto(LINE, unit="mm10"), "image",
                   "“page.xml” measures its page in mm10; only ALTO files measured in pixels "
                   "can be placed on the image."),
    "alto without page": (b'<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout/>'
                          b"</alto>", "image",
                          "“page.xml” cannot be read: ALTO file without a <Page>."),
    "page line without coords": (
        page_xml([LINE]).replace(b'<Coords points="10,10 300,10 300,60 10,60"/>', b""),
        "image", "“page.xml” cannot be read: line r0l0 has no Coords."),
    "no lines": (page_xml([]), "image", "“page.xml” has no text lines."),
    "no image": (alto(LINE), None, "Choose the page image that “page.xml” describes."),
    "image not an image": (alto(LINE), "garbage",
                           "“page.jpg” is not a supported file. Upload JPEG, PNG, WebP, TIFF, "
                           "BMP, HEIC/HEIF images or PDF documents."),
    "image is a pdf": (alto(LINE), "pdf",
                       "“scan.pdf” is a PDF; import the image of the page that the XML "
                       "describes."),
    "image of another size": (alto(LINE, width=2000, height=1500), "image",
                              "“page.jpg” is 1044×944 pixels, but “page.xml” describes a page "
                              "of 2000×1500 pixels: choose the image the XML was made from."),
    "line outside the image": (alto([("far away", (1500, 1200, 1900, 1300))], width=0,
                                    height=0), "image",
                               "Line “l0” of “page.xml” lies outside “page.jpg” (1044×944 "
                               "pixels): choose the image the XML was made from."),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_import_refuses_bad_input_and_leaves_nothing(user, ground_truth, media_root, case):
    xml, image_kind, message = BAD_INPUTS[case]
    _, image = ground_truth
    images = {"image": image, None: None, "garbage": not_an_image(), "pdf": a_pdf(image)}
    with pytest.raises(UploadError) as refused:
        imports.note_import(user=user, xml_file=None if xml is None else xml_upload(xml),
                            image_file=images[image_kind])
    assert str(refused.value) == message
    assert nothing_left(media_root)


def test_import_into_another_users_collection_is_refused(user, other_user, ground_truth,
                                                         media_root):
    lines, image = ground_truth
    with pytest.raises(PermissionDenied):
        imports.note_import(user=user, xml_file=xml_upload(alto(lines)), image_file=image,
                            collection=other_user.collections.create(name="Bob's"))
    assert nothing_left(media_root)


def test_a_failure_while_writing_deletes_the_files_already_stored(user, ground_truth,
                                                                  media_root):
    """The collection vanished after the form was read: the note's row fails validation
    after the original and thumbnail were stored."""
    lines, image = ground_truth
    collection = user.collections.create(name="Gone")
    type(collection).objects.filter(pk=collection.pk).delete()
    with pytest.raises(Exception) as failed:
        imports.note_import(user=user, xml_file=xml_upload(alto(lines)), image_file=image,
                            collection=collection)
    assert "collection" in str(failed.value)
    assert nothing_left(media_root)
