"""`manage.py search_reindex`: the index rebuilt from the lines."""

import io

from django.core.management import call_command

from recognition.models import SearchLine
from recognition.search.query import search


def test_reindex_makes_unindexed_notes_searchable(user, text_note):
    SearchLine.objects.all().delete()  # as after restoring lines from a backup
    assert search(user, "lazy") == []
    out = io.StringIO()
    call_command("search_reindex", "--user", "alice", stdout=out)
    assert out.getvalue().strip() == "indexed 3 line(s) of 1 note(s)"
    [hit] = search(user, "lazy")
    assert hit.text == "jumps over the lazy dog"
