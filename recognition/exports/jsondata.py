"""JSON: everything the note knows about its text, for programs.

Lines carry their region (`polygon`, page image pixels, `null` for a line a person typed in),
baseline, text and the recognizer's reading of it (`machine_text`, `confidence`, and per word
its confidence and alternatives), and whether a person corrected them.
"""

from __future__ import annotations

import json

from recognition.exports.document import Document, DocumentLine

FORMAT = "notes-digitizer/note"
VERSION = 1


def write_json(document: Document) -> bytes:
    """The note as a JSON object (UTF-8, indented)."""
    data = {
        "format": FORMAT,
        "version": VERSION,
        "note": {
            "id": document.id,
            "title": document.title,
            "collection": document.collection,
            "date": document.note_date.isoformat() if document.note_date else None,
            "tags": list(document.tags),
            "original_name": document.original_name,
            "kind": document.kind,
            "status": document.status,
            "revision": document.revision,
            "created": document.created.isoformat() if document.created else None,
            "updated": document.updated.isoformat() if document.updated else None,
        },
        "text": document.text,
        "pages": [
            {"number": page.number, "width": page.width, "height": page.height,
             "lines": [_line(line) for line in page.lines]}
            for page in document.pages
        ],
    }
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _line(line: DocumentLine) -> dict:
    return {
        "id": line.id,
        "order": line.order,
        "block": line.block,
        "text": line.text,
        "polygon": [list(p) for p in line.polygon] or None,
        "baseline": [list(p) for p in line.baseline],
        "machine_text": line.machine_text,
        "confidence": line.confidence,
        "corrected": line.corrected,
        "words": [
            {"text": w["text"], "confidence": w.get("confidence"),
             "alternatives": [dict(a) for a in w.get("alternatives", ())]}
            for w in line.words
        ],
    }
