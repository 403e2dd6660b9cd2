"""The search page, the line images of its hits, and the search box in the header."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from recognition.search.forms import ERROR_DATES
from tests.conftest import encode

SEARCH = reverse("recognition:search")


@pytest.fixture
def photographed_note(user, make_note, page_image):
    """A note whose page image is stored, with a line at a known place on it."""
    note = make_note(user, ["Meeting at Stamford", "typed in later"], title="Field trip")
    page = note.pages.get()
    page.image.name = default_storage.save("notes/trip/page-001.jpg",
                                           ContentFile(encode(page_image, "JPEG")))
    page.width, page.height = page_image.size
    page.save()
    first, typed = page.lines.order_by("order")
    first.polygon = [[100, 50], [400, 60], [400, 120], [100, 110]]
    first.save()
    typed.polygon = []
    typed.save()
    return note


def crop_url(note, order):
    line = note.pages.get().lines.get(order=order)
    return reverse("recognition:line-crop", args=[note.pk, line.pk])


@pytest.mark.django_db
def test_search_page_needs_a_login(client):
    response = client.get(SEARCH, {"q": "x"})
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login"))


@pytest.mark.django_db
def test_search_page_shows_hits_with_snippet_note_and_line_image(alice_client, photographed_note):
    response = alice_client.get(SEARCH, {"q": "stanford"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 line found" in html
    assert "Meeting at <mark>Stamford</mark>" in html and "similar spelling" in html
    assert "Field trip" in html and reverse("recognition:note", args=[photographed_note.pk]) in html
    assert crop_url(photographed_note, 0) in html
    assert 'href="/static/css/search.css"' in html


@pytest.mark.django_db
def test_search_hits_link_to_their_line_on_the_note_page(alice_client, photographed_note):
    line = photographed_note.pages.get().lines.get(order=0)
    html = alice_client.get(SEARCH, {"q": "stamford"}).content.decode()
    target = reverse("recognition:note", args=[photographed_note.pk]) + f"#line-{line.pk}"
    assert html.count(f'href="{target}"') == 2  # the line's image and the note's title


@pytest.mark.django_db
def test_search_page_shows_no_similar_spellings_for_a_quoted_phrase(alice_client, user,
                                                                     make_note):
    make_note(user, ["Meeting at Stamford", "Meeting at Stanford"])
    html = alice_client.get(SEARCH, {"q": '"at stanford"'}).content.decode()
    assert "1 line found" in html and "Meeting <mark>at Stanford</mark>" in html
    assert "Meeting at Stamford" not in html and 'class="match"' not in html


@pytest.mark.django_db
def test_search_page_pages_through_hits(alice_client, user, make_note):
    make_note(user, [f"orbit line {n}" for n in range(25)])
    html = alice_client.get(SEARCH, {"q": "orbit"}).content.decode()
    assert "25 lines found" in html and html.count('class="hit ') == 20
    assert "page=2" in html and "q=orbit" in html
    html = alice_client.get(SEARCH, {"q": "orbit", "page": 2}).content.decode()
    assert html.count('class="hit ') == 5 and "Page 2 of 2" in html


@pytest.mark.django_db
def test_search_page_filters_by_dates_from_the_url(alice_client, user, make_note):
    import datetime as dt

    make_note(user, ["orbit early"], note_date=dt.date(2026, 1, 5))
    make_note(user, ["orbit late"], note_date=dt.date(2026, 6, 5))
    html = alice_client.get(SEARCH, {"q": "orbit", "from": "2026-03-01"}).content.decode()
    assert "<mark>orbit</mark> late" in html and "early" not in html


@pytest.mark.django_db
def test_search_page_refuses_a_backwards_date_range(alice_client, user):
    response = alice_client.get(SEARCH, {"q": "x", "from": "2026-05-01", "to": "2026-01-01"})
    assert response.status_code == 400 and ERROR_DATES in response.content.decode()


@pytest.mark.django_db
def test_search_page_offers_only_ones_own_collections_and_tags(alice_client, other_user,
                                                               make_note):
    make_note(other_user, ["x"], collection=other_user.collections.create(name="Bob's book"),
              tags=["bobs-tag"])
    html = alice_client.get(SEARCH).content.decode()
    assert "Bob&#x27;s book" not in html and "bobs-tag" not in html


@pytest.mark.django_db
def test_another_users_hits_never_show(bob_client, photographed_note):
    html = bob_client.get(SEARCH, {"q": "stamford"}).content.decode()
    assert "0 lines found" in html and "Field trip" not in html


@pytest.mark.django_db
def test_header_has_a_search_box(alice_client):
    html = alice_client.get(reverse("recognition:home")).content.decode()
    assert f'action="{SEARCH}"' in html and 'name="q"' in html


@pytest.mark.django_db
def test_line_crop_is_the_lines_box_from_the_page_image(alice_client, photographed_note):
    response = alice_client.get(crop_url(photographed_note, 0))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    crop = Image.open(io.BytesIO(response.content))
    margin = round(0.15 * 70)  # 15% of the region's height on every side
    assert crop.format == "JPEG" and crop.size == (300 + 2 * margin, 70 + 2 * margin)


@pytest.mark.django_db
def test_line_crop_is_404_for_another_user(bob_client, photographed_note):
    assert bob_client.get(crop_url(photographed_note, 0)).status_code == 404


@pytest.mark.django_db
def test_line_crop_is_404_for_a_line_without_a_region(alice_client, photographed_note):
    assert alice_client.get(crop_url(photographed_note, 1)).status_code == 404


@pytest.mark.django_db
def test_line_crop_is_404_under_another_note(alice_client, user, photographed_note, make_note):
    other = make_note(user, ["x"])
    line = photographed_note.pages.get().lines.get(order=0)
    url = reverse("recognition:line-crop", args=[other.pk, line.pk])
    assert alice_client.get(url).status_code == 404


@pytest.mark.django_db
def test_api_search_hits_carry_the_web_page_of_their_line(alice_client, photographed_note):
    line = photographed_note.pages.get().lines.get(order=0)
    [hit] = alice_client.get(reverse("api:search"), {"q": "stamford"}).json()["results"]
    assert hit["web_url"] == "http://testserver" + reverse(
        "recognition:note", args=[photographed_note.pk]) + f"#line-{line.pk}"
