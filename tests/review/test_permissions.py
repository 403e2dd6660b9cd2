"""Who may do what in the review panel: nothing for non-staff, the "Reviewers" group's rights
and no more, and only superusers manage staff (rights, groups, staff accounts)."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from recognition.models import Line, StaffAction
from tests.factories import UserFactory
from tests.review.conftest import grant

REVIEW_URLS = [
    reverse("admin:recognition_line_changelist"),
    reverse("admin:recognition_note_changelist"),
    reverse("admin:recognition_recognitionjob_changelist"),
    reverse("admin:recognition_recognitionjob_models"),
]


def user_form(user: User, **changes) -> dict:
    """The admin's change form of a user, as posted, with `changes`."""
    data = {
        "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
        "email": user.email, "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "groups": [g.pk for g in user.groups.all()],
        "user_permissions": [p.pk for p in user.user_permissions.all()],
    }
    if user.is_staff:
        data["is_staff"] = "on"
    if user.is_superuser:
        data["is_superuser"] = "on"
    data.update(changes)
    return data


def change_user(client, user: User, **changes):
    return client.post(reverse("admin:auth_user_change", args=[user.pk]),
                       user_form(user, **changes))


@pytest.fixture
def helpdesk(db):
    """A staff member (not a superuser) given every right over users and groups."""
    user = UserFactory(username="helen", is_staff=True)
    grant(user, "auth.view_user", "auth.change_user", "auth.add_user", "auth.delete_user",
          "auth.view_group", "auth.change_group")
    return user


def test_the_reviewers_group_has_exactly_the_review_panels_rights(db):
    rights = {f"{p.content_type.app_label}.{p.codename}"
              for p in Group.objects.get(name="Reviewers").permissions.all()}
    assert rights == {"recognition.view_note", "recognition.view_line",
                      "recognition.view_recognitionjob", "recognition.add_linereview",
                      "recognition.correct_line", "recognition.rerun_recognition"}


@pytest.mark.parametrize("url", REVIEW_URLS)
def test_non_staff_are_sent_to_the_admin_log_in(alice_client, url):
    response = alice_client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_cannot_act(alice_client, user, make_note):
    note = make_note(user, [("one", 0.3)])
    line = Line.objects.get(page__note=note)
    response = alice_client.post(reverse("admin:recognition_line_changelist"), {
        "_correct": "1", f"correct-{line.pk}": "mine", f"original-{line.pk}": "one",
        f"base-{line.pk}": note.revision})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.text == "one" and StaffAction.objects.count() == 0


@pytest.mark.parametrize("url", REVIEW_URLS)
def test_a_reviewer_sees_the_queues(reviewer_client, url):
    assert reviewer_client.get(url).status_code == 200


def test_a_reviewer_sees_no_users_groups_or_audit_trail(reviewer_client, reviewer):
    for url in (reverse("admin:auth_user_changelist"),
                reverse("admin:auth_user_change", args=[reviewer.pk]),
                reverse("admin:auth_group_changelist"),
                reverse("admin:recognition_staffaction_changelist"),
                reverse("admin:recognition_collection_changelist")):
        assert reviewer_client.get(url).status_code == 403, url
    index = reverse("admin:index")
    apps = {m["object_name"] for app in reviewer_client.get(index).context["app_list"]
            for m in app["models"]}
    assert apps == {"Line", "Note", "RecognitionJob"}


def test_a_reviewer_cannot_make_themselves_a_superuser(reviewer_client, reviewer):
    response = change_user(reviewer_client, reviewer, is_superuser="on")
    assert response.status_code == 403
    reviewer.refresh_from_db()
    assert not reviewer.is_superuser


def test_staff_with_user_rights_cannot_grant_themselves_rights(client, helpdesk):
    client.force_login(helpdesk)
    admins = Group.objects.create(name="Admins")
    response = change_user(client, helpdesk, is_superuser="on",
                           groups=[admins.pk, Group.objects.get(name="Reviewers").pk])
    assert response.status_code == 403  # a staff account: theirs too
    helpdesk.refresh_from_db()
    assert not helpdesk.is_superuser and not helpdesk.groups.exists()
    assert helpdesk.user_permissions.count() == 6


def test_staff_with_user_rights_cannot_make_a_user_staff(client, helpdesk, user):
    client.force_login(helpdesk)
    response = change_user(client, user, email="alice@example.com", is_staff="on")
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "alice@example.com" and not user.is_staff


def test_staff_with_user_rights_cannot_change_another_staff_account(client, helpdesk,
                                                                    reviewer):
    client.force_login(helpdesk)
    assert change_user(client, reviewer, is_superuser="on").status_code == 403
    password = reverse("admin:auth_user_password_change", args=[reviewer.pk])
    assert client.post(password, {"password1": "x" * 20, "password2": "x" * 20}).status_code \
        == 403
    reviewer.refresh_from_db()
    assert not reviewer.is_superuser and reviewer.check_password("correct horse battery staple")


def test_staff_with_group_rights_cannot_change_groups(client, helpdesk):
    client.force_login(helpdesk)
    reviewers = Group.objects.get(name="Reviewers")
    url = reverse("admin:auth_group_change", args=[reviewers.pk])
    assert client.post(url, {"name": "Reviewers", "permissions": []}).status_code == 403
    assert reviewers.permissions.count() == 6


def test_a_superuser_makes_a_user_a_reviewer(superuser_client, user):
    reviewers = Group.objects.get(name="Reviewers")
    response = change_user(superuser_client, user, is_staff="on", groups=[reviewers.pk])
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_staff and list(user.groups.all()) == [reviewers]
    assert user.has_perm("recognition.correct_line")


def test_the_audit_trail_is_for_superusers_to_read(superuser_client, reviewer_client, user,
                                                   make_note):
    note = make_note(user, [("one", 0.3)])
    reviewer_client.post(reverse("admin:recognition_note_changelist"),
                         {"action": "mark_reviewed", "_selected_action": [note.pk],
                          "index": "0"})
    entry = StaffAction.objects.get()
    listing = superuser_client.get(reverse("admin:recognition_staffaction_changelist"))
    assert list(listing.context["cl"].result_list) == [entry]
    assert "rita" in listing.content.decode()
    detail = reverse("admin:recognition_staffaction_change", args=[entry.pk])
    assert superuser_client.get(detail).status_code == 200
    assert superuser_client.post(detail, {"actor_name": "someone"}).status_code == 403
    delete = reverse("admin:recognition_staffaction_delete", args=[entry.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    assert StaffAction.objects.get().actor_name == "rita"
    assert reviewer_client.get(detail).status_code == 403
