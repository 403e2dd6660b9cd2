"""Template helpers of the note pages."""

from recognition.models import Page
from recognition.templatetags.notes import partial_notice


def test_partial_notice_of_a_single_page_with_one_line_unread(settings):
    settings.NOTES_PAGE_SECONDS = 2.5
    page = Page(number=1, partial=True, unread_lines=1)
    assert partial_notice(page, 1) == (
        "This page was only partly read: it took longer than the 2.5 s allowed per page, so 1 "
        "line was located but not read. Type it in, or recognize the note again.")


def test_partial_notice_names_the_page_of_a_longer_note(settings):
    settings.NOTES_PAGE_SECONDS = 8.0
    page = Page(number=2, partial=True, unread_lines=37)
    assert partial_notice(page, 3) == (
        "Page 2 was only partly read: it took longer than the 8 s allowed per page, so 37 "
        "lines were located but not read. Type them in, or recognize the note again.")
