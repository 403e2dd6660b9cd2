"""The export formats: name (as in URLs) -> writer, content type, extension."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404

from recognition.exports.alto import write_alto
from recognition.exports.document import Document, DocumentPage
from recognition.exports.jsondata import write_json
from recognition.exports.markdown import write_markdown
from recognition.exports.pagexml import write_page
from recognition.exports.pdf import write_pdf
from recognition.exports.plaintext import write_text
from recognition.exports.word import write_docx

DocumentWriter = Callable[[Document], bytes]
PageWriter = Callable[[Document, DocumentPage, str], bytes]  # ..., the image's file name


@dataclass(frozen=True)
class ExportFormat:
    """A format. Whole-document formats have `write`; page formats (the XML ones, which
    describe one image each) have `write_page` and travel with their page images."""

    name: str
    label: str
    content_type: str
    extension: str
    write: DocumentWriter | None = None
    write_page: PageWriter | None = None
    embeds_images: bool = False

    @property
    def per_page(self) -> bool:
        return self.write_page is not None

    @property
    def needs_images(self) -> bool:
        """Whether the writer needs the page images (read from the storage only then)."""
        return self.per_page or self.embeds_images


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("pdf", "Searchable PDF", "application/pdf", ".pdf", write=write_pdf,
                 embeds_images=True),
    ExportFormat("txt", "Plain text", "text/plain; charset=utf-8", ".txt", write=write_text),
    ExportFormat("md", "Markdown", "text/markdown; charset=utf-8", ".md", write=write_markdown),
    ExportFormat("docx", "Word (DOCX)",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 ".docx", write=write_docx),
    ExportFormat("json", "JSON", "application/json", ".json", write=write_json),
    ExportFormat("alto", "ALTO XML 4", "application/xml", ".alto.xml", write_page=write_alto),
    ExportFormat("page", "PAGE XML 2019", "application/xml", ".page.xml",
                 write_page=write_page),
)}


def format_get(name: str) -> ExportFormat:
    """The format called `name`, or 404."""
    try:
        return FORMATS[name]
    except KeyError:
        raise Http404(f"No export format “{name}”.") from None
