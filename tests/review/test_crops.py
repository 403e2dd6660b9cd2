"""Line images in the review panel: any user's, to staff with the right to see lines only."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from recognition.models import Line
from tests.factories import UserFactory


@pytest.fixture
def line(recognized_note):
    return Line.objects.filter(page__note=recognized_note).order_by("order").first()


def crop_url(line) -> str:
    return reverse("admin:recognition_line_crop", args=[line.pk])


def test_a_reviewer_sees_the_image_of_another_users_line(reviewer_client, line):
    response = reviewer_client.get(crop_url(line))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    ys = [y for _, y in line.polygon]
    # The line's box (with a margin), not the whole page.
    assert max(ys) - min(ys) <= image.height < line.page.height / 3
    assert image.width <= line.page.width


def test_the_owner_gets_no_image_through_the_admin(alice_client, line):
    response = alice_client.get(crop_url(line))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_another_user_gets_no_image_on_either_path(bob_client, line):
    assert bob_client.get(crop_url(line)).status_code == 302
    public = reverse("recognition:line-crop", args=[line.page.note_id, line.pk])
    assert bob_client.get(public).status_code == 404


def test_staff_without_the_right_to_see_lines_get_403(client, line):
    client.force_login(UserFactory(username="clerk", is_staff=True))
    assert client.get(crop_url(line)).status_code == 403


def test_a_line_typed_in_has_no_image(reviewer_client, line):
    Line.objects.filter(pk=line.pk).update(polygon=[])
    assert reviewer_client.get(crop_url(line)).status_code == 404
