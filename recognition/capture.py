"""Phone capture: the photos of several pages, taken one after the other, become ONE note.

Each photo is checked like any upload (`uploads.check_uploads`: bytes, size, pixels), turned
upright (its EXIF orientation, then the user's quarter turns), cropped to the rectangle the
user drew, and written as one page of a PDF (pikepdf: a JPEG photo that needs none of this goes
in as it is, without a second compression). The PDF is then uploaded like a file the user chose
(`services.note_upload`), so it is checked, stored and recognized the usual way. Nothing is
written before every page passed; one page decoded at a time, so twenty 12 MP photos never sit
in memory together.

Each PDF page's size is set so that recognition renders it (at NOTES_PDF_DPI) back at the
photo's own pixel size.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pikepdf
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils import timezone
from pikepdf import Name
from PIL import Image, ImageOps

from recognition import services
from recognition.exceptions import UploadError
from recognition.images import POINTS_PER_INCH, flattened, jpeg_bytes
from recognition.models import Collection, Note
from recognition.uploads import (
    INVALID,
    MIN_PDF_PAGE_INCHES,
    TOO_LARGE,
    UNSUPPORTED,
    CheckedUpload,
    check_uploads,
)

ROTATIONS = (0, 90, 180, 270)  # clockwise quarter turns
# A page (cropped or not) narrower than this, in pixels, holds no line of writing.
MIN_PAGE_PIXELS = 64

ERROR_NO_PAGES = "Take a photo of at least one page."
ERROR_TOO_MANY_PAGES = ("{count} pages; one note holds at most {limit}. Capture the rest as "
                        "another note.")
ERROR_NOT_A_PHOTO = ("Page {page} (“{name}”) is a PDF; capture takes photos only (JPEG, PNG, "
                     "WebP, TIFF, BMP or HEIC). Upload PDFs with the Upload form.")
ERROR_SEVERAL_FRAMES = ("Page {page} (“{name}”) holds {frames} pages; capture takes one photo per "
                        "page. Upload multi-page files with the Upload form.")
ERROR_ROTATION = "Page {page}: a rotation is 0, 90, 180 or 270 degrees, not “{value}”."
ERROR_CROP = ("Page {page}: a crop is four fractions of the photo, “left,top,width,height”, each "
              "from 0 to 1 and within the photo, not “{value}”.")
ERROR_PAGE_TOO_SMALL = ("Page {page} is {width}×{height} pixels{cropped}; a page needs at least "
                        "{minimum} pixels on each side.")
ERROR_SETTINGS_COUNT = "{field}: {count} values for {pages} pages; give one per page or none."
ERROR_TOO_BIG_TOGETHER = ("The {pages} pages come to {size:.1f} MB as one note; the limit is "
                          "{limit:.0f} MB. Capture fewer pages per note, or smaller photos.")
DEFAULT_TITLE = "Capture {when:%Y-%m-%d %H:%M}"
FILE_NAME = "capture-{when:%Y%m%d-%H%M%S}.pdf"


@dataclass(frozen=True)
class CapturedPage:
    """One photographed page: the photo, clockwise quarter turns, and the crop (left, top,
    width, height as fractions of the turned photo; None keeps it whole)."""

    upload: UploadedFile
    rotation: int = 0
    crop: tuple[float, float, float, float] | None = None


def capture_page_limit() -> int:
    """The most pages one capture may hold: files per request, pages per PDF."""
    return min(settings.NOTES_MAX_FILES_PER_UPLOAD, settings.NOTES_MAX_PDF_PAGES)


def rotation_parse(value: str | int | None, *, page: int) -> int:
    """A rotation given as text ("" is 0); raises UploadError naming the page."""
    text = str(value if value is not None else "").strip() or "0"
    try:
        degrees = int(text)
    except ValueError:
        degrees = -1
    if degrees not in ROTATIONS:
        raise UploadError(ERROR_ROTATION.format(page=page, value=text))
    return degrees


def crop_parse(value: str | None, *, page: int) -> tuple[float, float, float, float] | None:
    """A crop given as "left,top,width,height" fractions ("" keeps the photo whole)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        left, top, width, height = (float(part) for part in text.split(","))
    except ValueError:
        raise UploadError(ERROR_CROP.format(page=page, value=text)) from None
    slack = 1e-6  # fractions computed in the browser
    numbers = (left, top, width, height)
    if (not all(math.isfinite(n) and 0 <= n <= 1 for n in numbers) or width <= 0
            or height <= 0 or left + width > 1 + slack or top + height > 1 + slack):
        raise UploadError(ERROR_CROP.format(page=page, value=text))
    return numbers


def pages_from_lists(*, uploads: Sequence[UploadedFile], rotations: Sequence[str],
                     crops: Sequence[str]) -> list[CapturedPage]:
    """Pages from parallel lists of a form (rotations and crops: one per page, or none)."""
    for field, values in (("rotation", rotations), ("crop", crops)):
        if values and len(values) != len(uploads):
            raise UploadError(ERROR_SETTINGS_COUNT.format(field=field, count=len(values),
                                                          pages=len(uploads)))
    return [CapturedPage(upload,
                         rotation_parse(rotations[i] if rotations else 0, page=i + 1),
                         crop_parse(crops[i] if crops else "", page=i + 1))
            for i, upload in enumerate(uploads)]


def note_capture(
    *,
    user,
    pages: Sequence[CapturedPage],
    collection: Collection | None = None,
    title: str = "",
    tags: Iterable[str] = (),
    note_date: dt.date | None = None,
) -> Note:
    """Combine the photographed pages into one PDF note and queue its recognition.

    Raises:
        UploadError: no page, too many, a page that is not one photo, a bad rotation or crop,
            or the whole over the upload size limit; nothing is stored then.
        PermissionDenied: the collection is another user's.
    """
    if not pages:
        raise UploadError(ERROR_NO_PAGES)
    limit = capture_page_limit()
    if len(pages) > limit:
        raise UploadError(ERROR_TOO_MANY_PAGES.format(count=len(pages), limit=limit),
                          code=TOO_LARGE)
    if collection is not None and collection.owner_id != user.id:
        raise PermissionDenied
    checked = check_uploads([page.upload for page in pages])
    for number, check in enumerate(checked, start=1):
        _check_one_photo(number, check)
    when = timezone.localtime()
    pdf = SimpleUploadedFile(FILE_NAME.format(when=when), _pdf(pages), "application/pdf")
    _check_total(pdf.size, len(pages))
    [note] = services.note_upload(user=user, files=[pdf], collection=collection,
                                  title=title.strip() or DEFAULT_TITLE.format(when=when),
                                  tags=tags, note_date=note_date)
    return note


def _check_one_photo(number: int, check: CheckedUpload) -> None:
    if check.kind != "image":
        raise UploadError(ERROR_NOT_A_PHOTO.format(page=number, name=check.name),
                          code=UNSUPPORTED)
    if check.pages != 1:
        raise UploadError(ERROR_SEVERAL_FRAMES.format(page=number, name=check.name,
                                                      frames=check.pages), code=INVALID)


def _check_total(size: int, pages: int) -> None:
    limit = settings.NOTES_MAX_UPLOAD_BYTES
    if size > limit:
        raise UploadError(ERROR_TOO_BIG_TOGETHER.format(pages=pages, size=size / 2**20,
                                                        limit=limit / 2**20), code=TOO_LARGE)


def _pdf(pages: Sequence[CapturedPage]) -> bytes:
    """The pages as a PDF, one photo per page, each sized to render back at its pixel size."""
    pdf = pikepdf.Pdf.new()
    dpi = settings.NOTES_PDF_DPI
    for number, page in enumerate(pages, start=1):
        data, width, height, gray = _page_jpeg(page, number)
        points = (width * POINTS_PER_INCH / dpi, height * POINTS_PER_INCH / dpi)
        image = pikepdf.Stream(
            pdf, data, Type=Name.XObject, Subtype=Name.Image, Width=width, Height=height,
            ColorSpace=Name.DeviceGray if gray else Name.DeviceRGB, BitsPerComponent=8,
            Filter=Name.DCTDecode)
        pdf_page = pdf.add_blank_page(page_size=points)
        pdf_page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        pdf_page.obj.Contents = pdf.make_stream(
            f"q {points[0]:.4f} 0 0 {points[1]:.4f} 0 0 cm /Im0 Do Q".encode("ascii"))
    pdf.docinfo[Name.Creator] = "notes-digitizer capture"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _page_jpeg(page: CapturedPage, number: int) -> tuple[bytes, int, int, bool]:
    """The page upright and cropped, as JPEG bytes with its size and whether it is gray."""
    page.upload.seek(0)
    data = page.upload.read()
    page.upload.seek(0)
    with Image.open(io.BytesIO(data)) as photo:
        untouched = (photo.format == "JPEG" and photo.mode in ("L", "RGB")
                     and photo.getexif().get(0x0112, 1) == 1
                     and page.rotation == 0 and page.crop is None)
        if untouched:  # as it is: no second compression
            _check_size(photo.size, number, cropped=False)
            return data, photo.width, photo.height, photo.mode == "L"
        image = ImageOps.exif_transpose(photo)
        if page.rotation:
            image = image.transpose(_TURNS[page.rotation])
        if page.crop is not None:
            image = image.crop(_crop_box(image.size, page.crop))
        _check_size(image.size, number, cropped=page.crop is not None)
        image = flattened(image)
        return jpeg_bytes(image), image.width, image.height, image.mode == "L"


_TURNS = {  # clockwise degrees -> Pillow's transposition (its rotations turn the other way)
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


def _crop_box(size: tuple[int, int],
              crop: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    width, height = size
    left, top, crop_width, crop_height = crop
    return (round(left * width), round(top * height),
            min(width, round((left + crop_width) * width)),
            min(height, round((top + crop_height) * height)))


def _check_size(size: tuple[int, int], number: int, *, cropped: bool) -> None:
    """Refuse a page too small to be a PDF page recognition accepts (nor to hold writing)."""
    minimum = max(MIN_PAGE_PIXELS, math.ceil(MIN_PDF_PAGE_INCHES * settings.NOTES_PDF_DPI))
    if min(size) < minimum:
        raise UploadError(ERROR_PAGE_TOO_SMALL.format(
            page=number, width=size[0], height=size[1], minimum=minimum,
            cropped=" once cropped" if cropped else ""))
