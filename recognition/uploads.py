"""Checks on uploaded files, at the edge: what the bytes are, not what the name says.

An upload is accepted when it is a JPEG, PNG, WebP, TIFF, BMP or HEIC/HEIF image, or a PDF,
within the size, pixel and page limits of the settings, and its first page decodes completely.
Every page must be renderable within the pixel limit: each frame of a multi-page TIFF (each is
a page), and each PDF page at the resolution `images.pdf_page_scale` gives it. The check also
yields what the note needs from the file: its kind, a sanitized name, a checksum, the page
count and a thumbnail.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass

import pypdf
import pypdfium2
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps
from pillow_heif import register_heif_opener

from recognition.exceptions import UploadError
from recognition.images import (
    JPEG_MAX_SIDE,
    POINTS_PER_INCH,
    flattened,
    jpeg_bytes,
    pdf_page_scale,
)

register_heif_opener()

IMAGE_FORMATS = {  # Pillow format -> (content type, extension)
    "JPEG": ("image/jpeg", ".jpg"),
    "MPO": ("image/jpeg", ".jpg"),  # iPhone JPEGs with depth maps
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
    "TIFF": ("image/tiff", ".tif"),
    "BMP": ("image/bmp", ".bmp"),
    "HEIF": ("image/heic", ".heic"),
}
ALLOWED_TYPES = "JPEG, PNG, WebP, TIFF, BMP, HEIC/HEIF images or PDF documents"
THUMBNAIL_SIZE = (400, 400)
# Below this a PDF page's handwriting is too small to read (a 2 mm x-height is 4 pixels): a page
# that must be rendered coarser to stay within the pixel limit is refused, not read badly.
MIN_PDF_DPI = 50
# A PDF page narrower than this holds no line of writing (a 1 × 14400 pt sliver).
MIN_PDF_PAGE_INCHES = 0.25

ERROR_EMPTY = "“{name}” is empty."
ERROR_TOO_BIG = "“{name}” is {size:.1f} MB; the limit is {limit:.0f} MB."
ERROR_UNSUPPORTED = "“{name}” is not a supported file. Upload " + ALLOWED_TYPES + "."
ERROR_DAMAGED = "“{name}” is damaged or incomplete and cannot be read."
ERROR_TOO_MANY_PIXELS = (
    "“{name}” is {width}×{height} pixels ({megapixels:.0f} MP); the limit is {limit:.0f} MP."
)
ERROR_TOO_WIDE = "“{name}” is {width}×{height} pixels; the limit is {limit} pixels on each side."
ERROR_PAGE_TOO_MANY_PIXELS = (
    "Page {page} of “{name}” is {width}×{height} pixels ({megapixels:.0f} MP); "
    "the limit is {limit:.0f} MP."
)
ERROR_PAGE_TOO_WIDE = (
    "Page {page} of “{name}” is {width}×{height} pixels; the limit is {limit} pixels on each side."
)
ERROR_PDF_PAGE_TOO_LARGE = (
    "Page {page} of “{name}” is {width:.0f} × {height:.0f} inches: within the {limit:.0f} MP "
    "limit it could only be read at {dpi:.0f} DPI, and the minimum is {min_dpi} DPI."
)
ERROR_PDF_PAGE_TOO_NARROW = (
    "Page {page} of “{name}” is {width:.2f} × {height:.2f} inches; a page must be at least "
    "{minimum} inches on each side."
)
ERROR_PDF_ENCRYPTED = "“{name}” is password-protected; upload a PDF without a password."
ERROR_PDF_EMPTY = "“{name}” has no pages."
ERROR_TOO_MANY_PAGES = "“{name}” has {pages} pages; the limit is {limit}."
ERROR_PDF_TOO_MANY_PAGES = ERROR_TOO_MANY_PAGES
ERROR_TIFF_TOO_MANY_PAGES = "“{name}” has more than {limit} pages; the limit is {limit}."
ERROR_TOO_MANY_FILES = "{count} files at once; the limit is {limit}."
ERROR_NO_FILES = "Choose at least one file to upload."

# UploadError codes (the API answers 413, 415 and 400 for them).
TOO_LARGE, UNSUPPORTED, INVALID = "too_large", "unsupported_type", "invalid"


@dataclass(frozen=True)
class CheckedUpload:
    name: str  # safe to display and to offer as a download name
    kind: str  # "image" | "pdf"
    content_type: str
    extension: str
    size: int
    sha256: str
    pages: int
    thumbnail: bytes  # JPEG


class RefusedUpload(UploadedFile):
    """Stands in for a file that `upload_limits.UploadLimitHandler` refused while it streamed
    in: its name and size as sent, no content, and why (a message for the user)."""

    def __init__(self, name: str, content_type: str, size: int, reason: str):
        super().__init__(io.BytesIO(b""), name=name, content_type=content_type, size=size)
        self.reason = reason


def safe_name(name: str) -> str:
    """The file's base name without paths, control characters or odd punctuation."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = re.sub(r"[^\w.\- ()]+", "_", base).strip(" ._")
    stem, ext = os.path.splitext(base)
    return (stem[:150] + ext[:10]) or "upload"


def check_upload(upload: UploadedFile) -> CheckedUpload:
    """Validate one uploaded file; raises UploadError with a message for the user."""
    name = safe_name(upload.name)
    if isinstance(upload, RefusedUpload):
        raise UploadError(upload.reason, code=TOO_LARGE)
    size = upload.size or 0
    if size == 0:
        raise UploadError(ERROR_EMPTY.format(name=name))
    limit = settings.NOTES_MAX_UPLOAD_BYTES
    if size > limit:
        raise UploadError(ERROR_TOO_BIG.format(name=name, size=size / 2**20, limit=limit / 2**20),
                          code=TOO_LARGE)
    data = _read(upload)
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(b"%PDF-"):
        pages, thumbnail = _check_pdf(name, data)
        return CheckedUpload(name, "pdf", "application/pdf", ".pdf", size, digest, pages,
                             thumbnail)
    image_format, pages, thumbnail = _check_image(name, data)
    content_type, extension = IMAGE_FORMATS[image_format]
    return CheckedUpload(name, "image", content_type, extension, size, digest, pages, thumbnail)


def check_uploads(uploads: list[UploadedFile]) -> list[CheckedUpload]:
    """Validate a batch: every file must pass, or UploadError lists each problem."""
    if not uploads:
        raise UploadError(ERROR_NO_FILES)
    limit = settings.NOTES_MAX_FILES_PER_UPLOAD
    if len(uploads) > limit:
        raise UploadError(ERROR_TOO_MANY_FILES.format(count=len(uploads), limit=limit),
                          code=TOO_LARGE)
    checked, problems, codes = [], [], set()
    for upload in uploads:
        try:
            checked.append(check_upload(upload))
        except UploadError as err:
            problems.append(str(err))
            codes.add(err.code)
    if problems:
        # Files refused with the whole request share its message: say it once.
        problems = list(dict.fromkeys(problems))
        raise UploadError(" ".join(problems), problems=problems,
                          code=codes.pop() if len(codes) == 1 else INVALID)
    return checked


def _read(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _check_image(name: str, data: bytes) -> tuple[str, int, bytes]:
    """The image's format, page count (a TIFF's frames, else 1) and thumbnail."""
    max_pixels = settings.NOTES_MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadError(ERROR_TOO_MANY_PIXELS.format(
                name=name, width="?", height="?", megapixels=float("inf"),
                limit=max_pixels / 1e6), code=TOO_LARGE) from None
        except (OSError, ValueError, SyntaxError):
            raise UploadError(ERROR_UNSUPPORTED.format(name=name), code=UNSUPPORTED) from None
    if image.format not in IMAGE_FORMATS:
        raise UploadError(ERROR_UNSUPPORTED.format(name=name), code=UNSUPPORTED)
    sizes = _page_sizes(name, image)
    for page, (width, height) in enumerate(sizes, start=1):
        _check_pixels(name, width, height, page=page if len(sizes) > 1 else None)
    try:
        if image.format in ("JPEG", "MPO"):
            # Decoding at 1/8 scale still reads every byte (a truncated file fails) in a
            # fraction of the time, and is all a thumbnail needs.
            image.draft("RGB", (THUMBNAIL_SIZE[0] * 2, THUMBNAIL_SIZE[1] * 2))
        image.load()
        thumbnail = _thumbnail(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise UploadError(ERROR_DAMAGED.format(name=name)) from None
    return image.format, len(sizes), thumbnail


def _page_sizes(name: str, image: Image.Image) -> list[tuple[int, int]]:
    """The size of each page: every frame of a TIFF (a scanner's multi-page file), else the
    image's own (an MPO's second frame is an iPhone's depth map, an animation's frames are not
    pages). Frames are counted by seeking, which reads their headers only, and no further than
    one past the page limit (a crafted file may chain any number of them)."""
    if image.format != "TIFF":
        return [image.size]
    limit = settings.NOTES_MAX_PDF_PAGES
    sizes = []
    try:
        while len(sizes) <= limit:
            image.seek(len(sizes))
            sizes.append(image.size)
    except EOFError:
        pass  # past the last frame
    except (OSError, ValueError, SyntaxError):
        raise UploadError(ERROR_DAMAGED.format(name=name)) from None
    if len(sizes) > limit:
        raise UploadError(ERROR_TIFF_TOO_MANY_PAGES.format(name=name, limit=limit),
                          code=TOO_LARGE)
    image.seek(0)
    return sizes


def _check_pixels(name: str, width: int, height: int, page: int | None = None) -> None:
    """Refuse an image (or one page of it) over the pixel limit, or too long a side for the
    page JPEG every page is stored as."""
    max_pixels = settings.NOTES_MAX_IMAGE_PIXELS
    fields = {"name": name, "page": page, "width": width, "height": height}
    if width * height > max_pixels:
        message = ERROR_PAGE_TOO_MANY_PIXELS if page else ERROR_TOO_MANY_PIXELS
        raise UploadError(message.format(**fields, megapixels=width * height / 1e6,
                                         limit=max_pixels / 1e6), code=TOO_LARGE)
    if max(width, height) > JPEG_MAX_SIDE:
        message = ERROR_PAGE_TOO_WIDE if page else ERROR_TOO_WIDE
        raise UploadError(message.format(**fields, limit=JPEG_MAX_SIDE), code=TOO_LARGE)


def _thumbnail(image: Image.Image) -> bytes:
    image = flattened(ImageOps.exif_transpose(image))
    image.thumbnail(THUMBNAIL_SIZE)
    return jpeg_bytes(image, quality=80)


def _pdf_problem(name: str, data: bytes) -> str:
    """Why PDFium refused a file. Its own error code is a thread's last error, stale after an
    earlier failure, and it refuses a PDF without pages outright, so pypdf tells them apart."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return ERROR_PDF_ENCRYPTED.format(name=name)
        if len(reader.pages) == 0:
            return ERROR_PDF_EMPTY.format(name=name)
    except pypdf.errors.DependencyError:
        # Raised while opening only by an encryption (AES) it cannot handle: locked all the same.
        return ERROR_PDF_ENCRYPTED.format(name=name)
    except Exception:  # noqa: BLE001 - any parser failure means the same to the user
        pass
    return ERROR_DAMAGED.format(name=name)


def _check_pdf(name: str, data: bytes) -> tuple[int, bytes]:
    """The PDF's page count and thumbnail, after checking that every page can be rendered."""
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        raise UploadError(_pdf_problem(name, data)) from None
    try:
        pages = len(pdf)
        if pages == 0:
            raise UploadError(ERROR_PDF_EMPTY.format(name=name))
        limit = settings.NOTES_MAX_PDF_PAGES
        if pages > limit:
            raise UploadError(ERROR_PDF_TOO_MANY_PAGES.format(name=name, pages=pages, limit=limit),
                              code=TOO_LARGE)
        try:
            for index in range(pages):
                _check_pdf_page(name, index + 1, *pdf.get_page_size(index))
            first = pdf[0]
            scale = pdf_page_scale(*first.get_size(), longest=max(THUMBNAIL_SIZE))
            thumbnail = _thumbnail(first.render(scale=scale).to_pil())
        except (pypdfium2.PdfiumError, OSError, ValueError):
            raise UploadError(ERROR_DAMAGED.format(name=name)) from None
        return pages, thumbnail
    finally:
        pdf.close()


def _check_pdf_page(name: str, page: int, width: float, height: float) -> None:
    """Refuse a page (its size in points) that no rendering within the limits could read."""
    inches = (width / POINTS_PER_INCH, height / POINTS_PER_INCH)
    if min(inches) < MIN_PDF_PAGE_INCHES:
        raise UploadError(ERROR_PDF_PAGE_TOO_NARROW.format(
            page=page, name=name, width=inches[0], height=inches[1],
            minimum=MIN_PDF_PAGE_INCHES))
    dpi = pdf_page_scale(width, height) * POINTS_PER_INCH
    if dpi < MIN_PDF_DPI:
        raise UploadError(ERROR_PDF_PAGE_TOO_LARGE.format(
            page=page, name=name, width=inches[0], height=inches[1],
            limit=settings.NOTES_MAX_IMAGE_PIXELS / 1e6, dpi=dpi, min_dpi=MIN_PDF_DPI),
            code=TOO_LARGE)
