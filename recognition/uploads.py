"""Checks on uploaded files, at the edge: what the bytes are, not what the name says.

An upload is accepted when it is a JPEG, PNG, WebP, TIFF, BMP or HEIC/HEIF image, or a PDF,
within the size, pixel and page limits of the settings, and it decodes completely. The check
also yields what the note needs from the file: its kind, a sanitized name, a checksum, the
page count and a thumbnail.
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
from recognition.images import flattened, jpeg_bytes

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

ERROR_EMPTY = "“{name}” is empty."
ERROR_TOO_BIG = "“{name}” is {size:.1f} MB; the limit is {limit:.0f} MB."
ERROR_UNSUPPORTED = "“{name}” is not a supported file. Upload " + ALLOWED_TYPES + "."
ERROR_DAMAGED = "“{name}” is damaged or incomplete and cannot be read."
ERROR_TOO_MANY_PIXELS = (
    "“{name}” is {width}×{height} pixels ({megapixels:.0f} MP); the limit is {limit:.0f} MP."
)
ERROR_PDF_ENCRYPTED = "“{name}” is password-protected; upload a PDF without a password."
ERROR_PDF_EMPTY = "“{name}” has no pages."
ERROR_PDF_TOO_MANY_PAGES = "“{name}” has {pages} pages; the limit is {limit}."
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
    image_format, thumbnail = _check_image(name, data)
    content_type, extension = IMAGE_FORMATS[image_format]
    return CheckedUpload(name, "image", content_type, extension, size, digest, 1, thumbnail)


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
        raise UploadError(" ".join(problems), problems=problems,
                          code=codes.pop() if len(codes) == 1 else INVALID)
    return checked


def _read(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _check_image(name: str, data: bytes) -> tuple[str, bytes]:
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
    width, height = image.size
    if width * height > max_pixels:
        raise UploadError(ERROR_TOO_MANY_PIXELS.format(
            name=name, width=width, height=height, megapixels=width * height / 1e6,
            limit=max_pixels / 1e6), code=TOO_LARGE)
    try:
        if image.format in ("JPEG", "MPO"):
            # Decoding at 1/8 scale still reads every byte (a truncated file fails) in a
            # fraction of the time, and is all a thumbnail needs.
            image.draft("RGB", (THUMBNAIL_SIZE[0] * 2, THUMBNAIL_SIZE[1] * 2))
        image.load()
        thumbnail = _thumbnail(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise UploadError(ERROR_DAMAGED.format(name=name)) from None
    return image.format, thumbnail


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
    except Exception:  # noqa: BLE001 - any parser failure means the same to the user
        pass
    return ERROR_DAMAGED.format(name=name)


def _check_pdf(name: str, data: bytes) -> tuple[int, bytes]:
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
            first = pdf[0]
            scale = min(THUMBNAIL_SIZE) / max(first.get_size())
            thumbnail = _thumbnail(first.render(scale=scale).to_pil())
        except (pypdfium2.PdfiumError, OSError, ValueError):
            raise UploadError(ERROR_DAMAGED.format(name=name)) from None
        return pages, thumbnail
    finally:
        pdf.close()
