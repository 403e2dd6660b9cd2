"""Template helpers of the note pages."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import format_html, format_html_join

register = template.Library()


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
