"""The review queues of lines and notes: least confident first, their filters, what a row
shows, and pages that keep to the Content-Security-Policy."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from recognition import review
from recognition.models import Line, LineReview, Note
from tests.factories import UserFactory
from tests.test_csp import assert_keeps_to_policy

LINES = reverse("admin:recognition_line_changelist")
NOTES = reverse("admin:recognition_note_changelist")


def listed(client, url: str, query: str = "") -> list:
    response = client.get(url + query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def texts(client, query: str = "") -> list[str]:
    return [line.text for line in listed(client, LINES, query)]


def titles(client, query: str = "") -> list[str]:
    return [note.title for note in listed(client, NOTES, query)]


@pytest.fixture
def notes(user, other_user, make_note):
    """Alice's notes "A" (confident) and "B" (doubtful), Bob's "C" with another model."""
    return {
        "A": make_note(user, [("alpha one", 0.9), ("alpha two", 0.8)], title="A"),
        "B": make_note(user, [("beta one", 0.2), ("beta two", 0.99)], title="B",
                       collection="Work"),
        "C": make_note(other_user, [("gamma one", 0.5)], title="C",
                       model_version="crnn.pt 2026-06-01"),
    }


def test_lines_are_listed_least_confident_first(reviewer_client, notes):
    assert texts(reviewer_client) == ["beta one", "gamma one", "alpha two", "alpha one",
                                      "beta two"]


def test_notes_are_listed_by_mean_confidence_lowest_first(reviewer_client, notes, user,
                                                          make_note):
    make_note(user, [], title="empty", status="failed")  # no lines: last
    # Means: A 0.85, B 0.595, C 0.5 (B's lowest line is the lowest of all, yet C comes first).
    assert titles(reviewer_client) == ["C", "B", "A", "empty"]


def test_a_note_mean_leaves_out_lines_not_read(reviewer, user, make_note):
    note = make_note(user, [("read", 0.8), ("", 0.0)], title="partly")
    Line.objects.filter(page__note=note, text="").update(read=False)
    queued = review.note_queue(staff=reviewer).get(pk=note.pk)
    assert queued.mean_confidence == pytest.approx(0.8) and queued.line_count == 2


@pytest.mark.parametrize(("query", "expected"), [
    ("?page__note__owner__id__exact={bob}", ["gamma one"]),
    ("?model=crnn.pt+2026-06-01", ["gamma one"]),
    ("?note={B}", ["beta one", "beta two"]),
    ("?collection={work}", ["beta one", "beta two"]),
])
def test_line_filters(reviewer_client, notes, other_user, query, expected):
    work = notes["B"].collection_id
    query = query.format(bob=other_user.pk, B=notes["B"].pk, work=work)
    assert texts(reviewer_client, query) == expected


def test_line_filters_by_corrected_and_reviewed(reviewer_client, reviewer, user, notes):
    from recognition import revisions

    b = notes["B"]
    beta_two = Line.objects.get(text="beta two")
    revisions.lines_update(user=user, note=b, edits={beta_two.pk: "beta 2"},
                           base_revision=b.revision)
    LineReview.objects.create(line=Line.objects.get(text="alpha one"), reviewer=reviewer,
                              reviewed=timezone.now())
    assert texts(reviewer_client, "?corrected__exact=1") == ["beta 2"]
    assert texts(reviewer_client, "?reviewed=yes") == ["alpha one"]
    assert "alpha one" not in texts(reviewer_client, "?reviewed=no")


def test_line_filter_by_note_status(reviewer_client, notes):
    Note.objects.filter(pk=notes["C"].pk).update(status=Note.Status.FAILED)
    assert texts(reviewer_client, "?page__note__status__exact=failed") == ["gamma one"]


def test_line_filter_by_date(reviewer_client, notes):
    Note.objects.filter(pk=notes["A"].pk).update(created=timezone.now() - dt.timedelta(days=30))
    # The filter's "Today" link.
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    query = (f"?page__note__created__gte={today}"
             f"&page__note__created__lt={today + dt.timedelta(days=1)}").replace("+", "%2B")
    assert sorted(texts(reviewer_client, query)) == ["beta one", "beta two", "gamma one"]


def test_note_filters(reviewer_client, reviewer, user, other_user, notes):
    from recognition import revisions

    a = notes["A"]
    for line in Line.objects.filter(page__note=a):
        LineReview.objects.create(line=line, reviewer=reviewer, reviewed=timezone.now())
    LineReview.objects.create(line=Line.objects.get(text="beta one"), reviewer=reviewer,
                              reviewed=timezone.now())
    line = Line.objects.get(text="gamma one")
    revisions.lines_update(user=other_user, note=notes["C"], edits={line.pk: "gamma 1"},
                           base_revision=notes["C"].revision)
    assert titles(reviewer_client, "?reviewed=yes") == ["A"]
    assert titles(reviewer_client, "?reviewed=no") == ["C", "B"]
    assert titles(reviewer_client, "?corrected=yes") == ["C"]
    assert titles(reviewer_client, f"?owner__id__exact={user.pk}") == ["B", "A"]
    assert titles(reviewer_client, "?model=crnn.pt+2026-01-01") == ["B", "A"]
    assert titles(reviewer_client, f"?collection={notes['B'].collection_id}") == ["B"]
    assert titles(reviewer_client, "?status__exact=done") == ["C", "B", "A"]


def test_the_model_version_is_that_of_the_last_started_job(reviewer, user, make_note):
    from recognition.models import RecognitionJob

    note = make_note(user, [("x", 0.5)], model_version="old")
    RecognitionJob.objects.filter(note=note).update(created=timezone.now() - dt.timedelta(1))
    RecognitionJob.objects.create(note=note, status="failed", model_version="new")
    RecognitionJob.objects.create(note=note, status="queued")  # not started: no version yet
    assert review.note_queue(staff=reviewer).get(pk=note.pk).model_version == "new"


def test_a_line_row_shows_its_image_confidence_and_unsure_words(reviewer_client, user,
                                                                make_note):
    note = make_note(user, [("smudged words", 0.2)])
    line = Line.objects.get(page__note=note)
    html = reviewer_client.get(LINES).content.decode()
    assert f'src="{reverse("admin:recognition_line_crop", args=[line.pk])}"' in html
    assert "20%" in html
    assert html.count('<span class="doubt" title="20% sure">smudged</span>') == 1
    assert f'name="correct-{line.pk}" value="smudged words"' in html
    assert f'name="base-{line.pk}" value="{note.revision}"' in html


def test_the_queues_keep_to_the_content_security_policy(reviewer_client, superuser_client,
                                                        notes):
    line = Line.objects.get(text="beta one")
    for url in (LINES, NOTES, reverse("admin:recognition_recognitionjob_changelist"),
                reverse("admin:recognition_recognitionjob_models"),
                reverse("admin:recognition_line_change", args=[line.pk])):
        assert_keeps_to_policy(reviewer_client.get(url))
    assert_keeps_to_policy(superuser_client.get(reverse("admin:recognition_staffaction_changelist")))


def test_a_staff_member_without_review_rights_sees_no_queue(client, notes):
    client.force_login(UserFactory(username="clerk", is_staff=True))
    assert client.get(LINES).status_code == 403
    assert client.get(NOTES).status_code == 403
