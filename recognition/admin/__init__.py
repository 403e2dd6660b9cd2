"""The admin: the staff review panel (queues of lines, notes and jobs; model versions; the
audit trail) and read-only views of the other recognition rows.

Nothing here writes a note's lines, pages or revisions through the ORM: a raw edit would
bypass revisions and the search index (and a re-recognition would overwrite it). Staff
correct lines through `recognition.review`, which uses the owners' editing services.
"""

from django.contrib import admin

from recognition.admin import audit, jobs, lines, notes, personal  # noqa: F401 - they register
from recognition.models import Collection, Tag

admin.site.register([Collection, Tag])
