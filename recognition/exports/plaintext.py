"""Plain text: the document text as the note shows it, pages separated by a blank line."""

from __future__ import annotations

from recognition.exports.document import Document


def write_text(document: Document) -> bytes:
    """The note's text, UTF-8, ending with a newline."""
    text = document.text
    return (text + "\n" if text else "").encode("utf-8")
