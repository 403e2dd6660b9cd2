"""Signal receivers that keep the search index in step with the notes (connected in
`RecognitionConfig.ready`)."""

from __future__ import annotations

import logging

from django.db import DatabaseError

from recognition.search import index

logger = logging.getLogger(__name__)


def note_text_changed_index(sender, *, note_id: int, **kwargs) -> None:
    """Re-index a note whose lines changed (sent after the change committed)."""
    try:
        index.note_index(note_id=note_id)
    except DatabaseError:
        # The change itself is saved; failing here would turn it into an error page. The note
        # is re-indexed whole at its next change.
        logger.exception("Could not re-index note %s for search", note_id)


def note_deleted_unindex(sender, *, note_id: int, **kwargs) -> None:
    """Drop a deleted note from the index (sent after the deletion committed)."""
    try:
        index.note_unindex(note_id=note_id)
    except DatabaseError:
        logger.exception("Could not remove deleted note %s from the search index", note_id)
