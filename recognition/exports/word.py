"""DOCX (python-docx): the title, the note's metadata, then each page under a heading, its
lines kept as lines (breaks within one paragraph, so the text reflows as one block in Word)."""

from __future__ import annotations

import io

import docx

from recognition.exports.document import Document
from recognition.exports.layout import xml_safe


def write_docx(document: Document) -> bytes:
    """A Word document of the note."""
    out = docx.Document()
    out.core_properties.title = xml_safe(document.title)
    out.core_properties.comments = "Exported by notes-digitizer"
    out.add_heading(xml_safe(document.title), level=0)
    details = [document.collection]
    if document.note_date:
        details.append(document.note_date.isoformat())
    if document.tags:
        details.append(", ".join(document.tags))
    out.add_paragraph(xml_safe(" · ".join(details)))
    for page in document.pages:
        out.add_heading(f"Page {page.number}", level=1)
        paragraph = out.add_paragraph()
        texts = [xml_safe(line.text) for line in page.lines if line.text]
        for index, text in enumerate(texts):
            run = paragraph.add_run(text)
            if index < len(texts) - 1:
                run.add_break()
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()
