"""Template helpers of the note pages."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import format_html, format_html_join

register = template.Library()

NOTICE_PARTIAL = (
    "{page} was only partly read: it took longer than the {seconds} s allowed per page, so "
    "{count} {lines} located but not read. Type {them} in, or recognize the note again."
)


@register.filter
def marked_words(line) -> str:
    """The line's text with the words the recognizer was unsure of marked, their alternative
    readings in a tooltip, so the eye goes where the errors are. A line a person edited is
    shown as written (the machine's words no longer apply to it)."""
    words = line.words or []
    if line.corrected or " ".join(w["text"] for w in words) != line.text:
        return format_html("{}", line.text)
    threshold = settings.NOTES_LOW_CONFIDENCE

    def render(word):
        if word["confidence"] >= threshold:
            return ("{}", (word["text"],))
        others = ", ".join(a["text"] for a in word.get("alternatives", [])
                           if a["text"] != word["text"])
        tip = f"{word['confidence']:.0%} sure" + (f"; or: {others}" if others else "")
        return ('<span class="doubt" title="{}">{}</span>', (tip, word["text"]))

    parts = [render(word) for word in words]
    return format_html_join(" ", "{}", ((format_html(fmt, *args),) for fmt, args in parts))


@register.filter
def points(polygon) -> str:
    """An SVG points attribute from [[x, y], ...]."""
    return " ".join(f"{x},{y}" for x, y in polygon)


@register.simple_tag
def partial_notice(page, pages: int) -> str:
    """What the note page says about a page whose reading time ran out (`NOTICE_PARTIAL`)."""
    count = page.unread_lines
    return NOTICE_PARTIAL.format(
        page=f"Page {page.number}" if pages > 1 else "This page",
        seconds=f"{settings.NOTES_PAGE_SECONDS:g}", count=count,
        lines="line was" if count == 1 else "lines were", them="it" if count == 1 else "them")
