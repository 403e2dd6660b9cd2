"""Markdown: the title, the note's metadata as a list, then one section per page.

The text is escaped so that handwriting that happens to look like Markdown ("# 1", "- milk",
"*important*") reads back as written, and every line ends in a hard break (a backslash, as
CommonMark has it) so the lines stay lines.
"""

from __future__ import annotations

import re

from recognition.exports.document import Document

# Characters with a meaning anywhere in a line of Markdown.
_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
# What makes a line a heading, quote, list item, rule or setext underline at its start.
_BLOCK_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")


def escape(text: str) -> str:
    """Text as literal Markdown."""
    text = _INLINE.sub(r"\\\1", text)
    match = _BLOCK_START.match(text)
    if match:
        indent, marker = match.groups()
        if marker[0].isdigit():  # "1." or "1)": escape the punctuation after the number
            end = match.end()
            return f"{text[:end]}\\{text[end:]}"
        return f"{indent}\\{text[len(indent):]}"
    return text


def write_markdown(document: Document) -> bytes:
    """A Markdown file of the note."""
    parts = [f"# {escape(document.title)}", "\n".join(_metadata(document))]
    for page in document.pages:
        texts = [escape(line.text) for line in page.lines if line.text]
        body = "\\\n".join(texts) if texts else "*(no text)*"
        parts.append(f"## Page {page.number}\n\n{body}")
    return ("\n\n".join(parts) + "\n").encode("utf-8")


def _metadata(document: Document) -> list[str]:
    items = [("Collection", document.collection)]
    if document.note_date:
        items.append(("Date", document.note_date.isoformat()))
    if document.tags:
        items.append(("Tags", ", ".join(document.tags)))
    pages = len(document.pages)
    items.append(("Source", f"{document.original_name} ({pages} page{'s' if pages != 1 else ''})"))
    if document.updated:
        changed = document.updated.strftime("%Y-%m-%d %H:%M %Z").strip()
        items.append(("Revision", f"{document.revision}, {changed}"))
    return [f"- **{name}:** {escape(value)}" for name, value in items]
