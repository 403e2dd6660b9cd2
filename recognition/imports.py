"""Import of a page transcribed elsewhere: an ALTO or PAGE XML file with its page image.

The result is a note that needs no recognition: status done, one page, every line marked
corrected (a person's transcription), and revision 1 of kind "import". Like `note_upload`, it
is all or nothing: both files are checked before the first write, and if writing fails the
files already stored are deleted and no row remains.

The XML is parsed inside the request, so its cost is bounded before parsing starts: the file's
size (NOTES_IMPORT_MAX_BYTES), then the number of lines (NOTES_IMPORT_MAX_LINES), counted on the
parsed tree before the lines are read. A 5,000-line import costs about 1.3 s of CPU in all,
half of it writing the rows, so it needs no worker.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image, ImageOps

from ml.errors import DataError
from ml.groundtruth import GroundTruthPage, ground_truth_from_xml
from recognition.exceptions import UploadError
from recognition.images import jpeg_bytes
from recognition.models import Collection, Line, Note, Page, Revision
from recognition.revisions import revision_record
from recognition.services import collection_default, note_files_store
from recognition.text import clean_label
from recognition.uploads import CheckedUpload, check_upload, safe_name

ERROR_NO_XML = "Choose the ALTO or PAGE XML file to import."
ERROR_NO_IMAGE = "Choose the page image that “{xml}” describes."
ERROR_XML_EMPTY = "“{name}” is empty."
ERROR_XML_TOO_BIG = "“{name}” is {size}; the limit for an XML file is {limit}."
ERROR_XML_MALFORMED = "“{name}” is not well-formed XML ({detail})."
ERROR_XML_DOCTYPE = (
    "“{name}” contains a DOCTYPE/entities, which are not allowed: ALTO and PAGE files have none."
)
ERROR_XML_TOO_MANY_LINES = "“{name}” has {count:,} text lines; the limit is {limit:,}."
ERROR_LINE_TOO_LONG = (
    "Line “{line}” of “{name}” has {count:,} characters; the limit is {limit:,} a line."
)
ERROR_POLYGON_TOO_BIG = (
    "Line “{line}” of “{name}” has a polygon of {count:,} points; the limit is {limit:,}."
)
ERROR_XML_UNKNOWN = "“{name}” is neither ALTO nor PAGE XML (its root element is <{root}>)."
ERROR_XML_UNIT = (
    "“{name}” measures its page in {unit}; only ALTO files measured in pixels can be placed on "
    "the image."
)
ERROR_XML_UNREADABLE = "“{name}” cannot be read: {detail}."
ERROR_XML_NO_LINES = "“{name}” has no text lines."
ERROR_IMAGE_PDF = "“{name}” is a PDF; import the image of the page that the XML describes."
ERROR_IMAGE_SIZE = (
    "“{image}” is {width}×{height} pixels, but “{xml}” describes a page of {xml_width}×"
    "{xml_height} pixels: choose the image the XML was made from."
)
ERROR_LINE_OUTSIDE = (
    "Line “{line}” of “{xml}” lies outside “{image}” ({width}×{height} pixels): choose the "
    "image the XML was made from."
)
# Tools round and pad line polygons: a line may reach this share of the image beyond its edge
# (and is then clamped to it); further out, the XML describes another image.
OUTSIDE_TOLERANCE = 0.02
# Line polygons from kraken, eScriptorium or Transkribus have tens of points; each is stored
# and drawn on the note page, so one line must not carry a whole file's worth of them.
MAX_POLYGON_POINTS = 2000


def note_import(*, user, xml_file: UploadedFile | None, image_file: UploadedFile | None,
                collection: Collection | None = None, title: str = "") -> Note:
    """Make a transcribed note of an ALTO/PAGE file and its page image; both or nothing."""
    if xml_file is None:
        raise UploadError(ERROR_NO_XML)
    xml_name = safe_name(xml_file.name)
    transcript = _read_transcript(xml_file, xml_name)
    if image_file is None:
        raise UploadError(ERROR_NO_IMAGE.format(xml=xml_name))
    check = check_upload(image_file)
    if check.kind != "image":
        raise UploadError(ERROR_IMAGE_PDF.format(name=check.name))
    image = _page_image(image_file, check, transcript, xml_name)
    if collection is not None and collection.owner_id != user.id:
        raise PermissionDenied
    stored: list[str] = []
    try:
        with transaction.atomic():
            note = _note_create(user, collection or collection_default(user=user),
                                clean_label(title) or clean_label(Path(xml_name).stem),
                                image_file, check, stored)
            _page_create(note, image, transcript, stored)
            revision_record(note=note, kind=Revision.Kind.IMPORT, author=user,
                            summary=f"Imported from {xml_name}")
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return note


# Checks ----------------------------------------------------------------------------------------

def _read_transcript(xml_file: UploadedFile, name: str) -> GroundTruthPage:
    """Parse and vet the XML, then read its lines with the engine's own readers."""
    root = _parse(_xml_bytes(xml_file, name), name)
    kind = root.tag.rsplit("}", 1)[-1]
    if kind not in ("alto", "PcGts"):
        raise UploadError(ERROR_XML_UNKNOWN.format(name=name, root=kind))
    unit = next((e.text for e in root.iter() if e.tag.endswith("MeasurementUnit")), None)
    if kind == "alto" and unit and unit.strip() != "pixel":
        raise UploadError(ERROR_XML_UNIT.format(name=name, unit=unit.strip()))
    # Counted on the tree, before a GroundTruthLine is built for each: an upper bound of the
    # lines the reader would return, as cheap as the parse itself.
    count = sum(1 for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "TextLine")
    limit = settings.NOTES_IMPORT_MAX_LINES
    if count > limit:
        raise UploadError(ERROR_XML_TOO_MANY_LINES.format(name=name, count=count, limit=limit))
    path = Path(name)
    try:
        transcript = ground_truth_from_xml(root, path)
    except (DataError, ValueError) as err:
        # The engine's messages start with the file's path: show the user's file name.
        detail = re.sub(rf"^{re.escape(str(path))}:\s*", "", str(err))
        raise UploadError(ERROR_XML_UNREADABLE.format(name=name, detail=detail)) from None
    if not transcript.lines:
        raise UploadError(ERROR_XML_NO_LINES.format(name=name))
    _check_lines(transcript, name)
    return transcript


def _xml_bytes(xml_file: UploadedFile, name: str) -> bytes:
    size = xml_file.size or 0
    if size == 0:
        raise UploadError(ERROR_XML_EMPTY.format(name=name))
    limit = settings.NOTES_IMPORT_MAX_BYTES
    if size > limit:
        raise UploadError(ERROR_XML_TOO_BIG.format(name=name, size=_amount(size),
                                                   limit=_amount(limit)))
    xml_file.seek(0)
    # One byte more than allowed: a file whose declared size was wrong is still caught.
    data = xml_file.read(limit + 1)
    if len(data) > limit:
        raise UploadError(ERROR_XML_TOO_BIG.format(name=name, size=f"over {_amount(limit)}",
                                                   limit=_amount(limit)))
    return data


def _parse(data: bytes, name: str) -> ET.Element:
    # defusedxml over the standard library's expat parser, the one the engine's readers use
    # (no lxml here): expat decodes the file first, so a DOCTYPE, entity declaration or
    # external reference is refused in UTF-8, UTF-16 or any declared encoding, where a byte
    # search for "<!DOCTYPE" is fooled by UTF-16. Neither format has a DTD: refuse them all.
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise UploadError(ERROR_XML_DOCTYPE.format(name=name)) from None
    except ET.ParseError as err:
        raise UploadError(ERROR_XML_MALFORMED.format(name=name, detail=err)) from None


def _check_lines(transcript: GroundTruthPage, name: str) -> None:
    """Each line's text and polygon within what one line of a note may hold."""
    max_chars = settings.NOTES_MAX_LINE_CHARS
    for number, line in enumerate(transcript.lines, start=1):
        label = line.id or str(number)
        if len(line.text) > max_chars:
            raise UploadError(ERROR_LINE_TOO_LONG.format(
                line=label, name=name, count=len(line.text), limit=max_chars))
        points = max(len(line.polygon), len(line.baseline))
        if points > MAX_POLYGON_POINTS:
            raise UploadError(ERROR_POLYGON_TOO_BIG.format(
                line=label, name=name, count=points, limit=MAX_POLYGON_POINTS))


def _amount(size: int) -> str:
    """A byte count for people: "3.2 MB", "740 KB"."""
    if size >= 2**20:
        return f"{size / 2**20:.1f} MB".replace(".0 MB", " MB")
    return f"{max(1, round(size / 2**10))} KB"


def _page_image(upload: UploadedFile, check: CheckedUpload, transcript: GroundTruthPage,
                xml_name: str) -> Image.Image:
    """The decoded page image, upright, after checking that the XML describes it."""
    upload.seek(0)
    raw = Image.open(io.BytesIO(upload.read()))
    raw.load()
    upload.seek(0)
    image = ImageOps.exif_transpose(raw)
    expected = (transcript.width, transcript.height)
    if all(expected) and image.size != expected:
        # Some tools measure the stored pixels, ignoring the EXIF orientation.
        if raw.size != expected:
            raise UploadError(ERROR_IMAGE_SIZE.format(
                image=check.name, width=image.width, height=image.height, xml=xml_name,
                xml_width=expected[0], xml_height=expected[1]))
        image = raw
    width, height = image.size
    slack_x, slack_y = width * OUTSIDE_TOLERANCE, height * OUTSIDE_TOLERANCE
    for line in transcript.lines:
        x0, y0, x1, y1 = line.bbox
        if x0 < -slack_x or y0 < -slack_y or x1 > width + slack_x or y1 > height + slack_y:
            raise UploadError(ERROR_LINE_OUTSIDE.format(
                line=line.id or line.text[:30], xml=xml_name, image=check.name, width=width,
                height=height))
    return image


# Writes ----------------------------------------------------------------------------------------

def _note_create(user, collection: Collection, title: str, upload: UploadedFile,
                 check: CheckedUpload, stored: list[str]) -> Note:
    note = Note(owner=user, collection=collection, title=title[:200], original_name=check.name,
                kind=Note.Kind.IMAGE, content_type=check.content_type, size=check.size,
                sha256=check.sha256, status=Note.Status.DONE, pages_total=1, pages_done=1)
    note_files_store(note, upload, check, stored)
    note.full_clean()
    note.save()
    return note


def _page_create(note: Note, image: Image.Image, transcript: GroundTruthPage,
                 stored: list[str]) -> Page:
    name = default_storage.save(f"notes/{note.storage_key}/page-001.jpg",
                                ContentFile(jpeg_bytes(image)))
    stored.append(name)
    page = Page.objects.create(note=note, number=1, image=name, width=image.width,
                               height=image.height, recognized=True)
    blocks: dict[str, int] = {}
    right, bottom = image.width - 1, image.height - 1

    def inside(points):
        return [[min(max(x, 0), right), min(max(y, 0), bottom)] for x, y in points]

    Line.objects.bulk_create([
        Line(page=page, order=order, block=blocks.setdefault(line.block, len(blocks)),
             polygon=inside(line.polygon or _box(line.bbox)), baseline=inside(line.baseline),
             text=line.text,
             # A person's transcription: no machine reading to keep, nothing to doubt.
             confidence=1.0, corrected=True)
        for order, line in enumerate(transcript.lines)
    ])
    return page


def _box(bbox) -> list[tuple[int, int]]:
    x0, y0, x1, y1 = bbox
    return [(x0, y0), (x1 - 1, y0), (x1 - 1, y1 - 1), (x0, y1 - 1)]


