"""Hostile and oversized ALTO / PAGE imports: each is a 400 naming what is wrong, through the
service, the web form and the API alike, and leaves no row and no file behind."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw
from rest_framework.test import APIClient

from recognition import imports
from recognition.exceptions import UploadError
from recognition.models import Line, Note
from tests.api.conftest import assert_error, token_client
from tests.recognition.exports.test_import import nothing_left

WIDTH, HEIGHT = 800, 600
BOX = "20 40 700 40 700 90 20 90"  # ALTO POINTS of a line well inside the page
ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"


def image_upload(width: int = WIDTH, height: int = HEIGHT) -> SimpleUploadedFile:
    """A real JPEG of a page with a few dark strokes (lines of writing)."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for y in range(50, height - 50, 60):
        draw.line([(30, y), (width - 60, y + 5)], fill="black", width=4)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return SimpleUploadedFile("page.jpg", out.getvalue(), "image/jpeg")


def alto_line(index: int, text: str = "a line", points: str = BOX, box: str = "") -> str:
    shape = f'<Shape><Polygon POINTS="{points}"/></Shape>' if points else ""
    return (f'<TextLine ID="l{index}" {box}>{shape}'
            + "<SP/>".join(f'<String CONTENT="{word}"/>' for word in text.split())
            + "</TextLine>")


def alto(lines: list[str], *, width: str = str(WIDTH), height: str = str(HEIGHT),
         prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return (f'{prolog}<alto xmlns="{ALTO_NS}"><Description><MeasurementUnit>pixel'
            "</MeasurementUnit></Description><Layout>"
            f'<Page ID="p1" WIDTH="{width}" HEIGHT="{height}"><PrintSpace><TextBlock ID="b1">'
            + "".join(lines) + "</TextBlock></PrintSpace></Page></Layout></alto>")


def page_xml(coords: str = "20,40 700,40 700,90 20,90", baseline: str = "20,85 700,85") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><PcGts xmlns="http://schema.primaresearch.'
            'org/PAGE/gts/pagecontent/2019-07-15"><Page imageFilename="page.jpg" '
            f'imageWidth="{WIDTH}" imageHeight="{HEIGHT}"><TextRegion id="r0">'
            f'<TextLine id="r0l0"><Coords points="{coords}"/><Baseline points="{baseline}"/>'
            "<TextEquiv><Unicode>a line</Unicode></TextEquiv></TextLine></TextRegion></Page>"
            "</PcGts>")


def xml_upload(xml: str | bytes, name: str = "page.xml") -> SimpleUploadedFile:
    data = xml.encode() if isinstance(xml, str) else xml
    return SimpleUploadedFile(name, data, "application/xml")


def refusal(user, xml: str | bytes) -> str:
    """The service's message for this XML with a good image."""
    with pytest.raises(UploadError) as refused:
        imports.note_import(user=user, xml_file=xml_upload(xml), image_file=image_upload())
    return str(refused.value)


def unreadable(detail: str) -> str:
    return imports.ERROR_XML_UNREADABLE.format(name="page.xml", detail=detail)


def bad_coordinate(where: str, value: str) -> str:
    return unreadable(f"line l0 <{where}> holds “{value}”; coordinates must be finite numbers "
                      "of pixels within ±1,000,000")


# Coordinates -----------------------------------------------------------------------------------

NON_FINITE = {
    "inf in an ALTO polygon": (alto([alto_line(0, points="20 40 inf 40 700 90 20 90")]),
                               bad_coordinate("Polygon POINTS", "inf")),
    "nan in an ALTO polygon": (alto([alto_line(0, points="nan 40 700 40 700 90 20 90")]),
                               bad_coordinate("Polygon POINTS", "nan")),
    "1e308 in an ALTO polygon": (alto([alto_line(0, points="20 40 1e308 40 700 90 20 90")]),
                                 bad_coordinate("Polygon POINTS", "1e308")),
    "-Infinity in an ALTO box": (
        alto([alto_line(0, points="", box='HPOS="-Infinity" VPOS="40" WIDTH="600" '
                                          'HEIGHT="50"')]),
        bad_coordinate("TextLine HPOS", "-Infinity")),
    "inf in an ALTO baseline": (
        alto([alto_line(0, box='BASELINE="20 85 inf 85"')]),
        bad_coordinate("TextLine BASELINE", "inf")),
    "a word in a PAGE polygon": (page_xml(coords="20,40 700,forty 700,90"),
                                 unreadable("line r0l0 <Coords points> holds “forty”, which is "
                                            "not a number")),
    "inf in PAGE coordinates": (page_xml(coords="20,40 inf,40 700,90"),
                                unreadable("line r0l0 <Coords points> holds “inf”; coordinates "
                                           "must be finite numbers of pixels within "
                                           "±1,000,000")),
    "nan in a PAGE baseline": (page_xml(baseline="20,85 nan,85"),
                               unreadable("line r0l0 <Baseline points> holds “nan”; coordinates "
                                          "must be finite numbers of pixels within "
                                          "±1,000,000")),
    "inf as the ALTO page width": (
        alto([alto_line(0)], width="inf"),
        unreadable("<Page WIDTH> is “inf”; a page size is a whole number of pixels from 0 to "
                   "1,000,000")),
    "a negative ALTO page height": (
        alto([alto_line(0)], height="-600"),
        unreadable("<Page HEIGHT> is “-600”; a page size is a whole number of pixels from 0 to "
                   "1,000,000")),
}


@pytest.mark.parametrize("case", NON_FINITE)
def test_import_refuses_non_finite_or_absurd_coordinates(user, media_root, case):
    xml, message = NON_FINITE[case]
    assert refusal(user, xml) == message
    assert nothing_left(media_root)


def test_import_refuses_a_line_far_beyond_the_image(user, media_root):
    xml = alto([alto_line(0, points="-5000 40 700 40 700 90 -5000 90")])
    assert refusal(user, xml) == (
        "Line “l0” of “page.xml” lies outside “page.jpg” (800×600 pixels): choose the image "
        "the XML was made from.")
    assert nothing_left(media_root)


def test_import_clamps_a_line_slightly_outside_the_image_to_its_edges(user):
    """Tools pad polygons: 5 px beyond an 800 px page is within the 2% tolerance."""
    xml = alto([alto_line(0, points="-5 40 804 40 804 90 -5 90")])
    note = imports.note_import(user=user, xml_file=xml_upload(xml), image_file=image_upload())
    line = Line.objects.get(page__note=note)
    assert line.polygon == [[0, 40], [WIDTH - 1, 40], [WIDTH - 1, 90], [0, 90]]


def test_web_import_with_inf_coordinates_is_a_400_not_a_500(alice_client, media_root):
    response = alice_client.post(reverse("recognition:note-import"), {
        "xml": xml_upload(alto([alto_line(0, points="20 40 inf 40 700 90 20 90")])),
        "image": image_upload()})
    assert response.status_code == 400
    assert ("“page.xml” cannot be read: line l0 &lt;Polygon POINTS&gt; holds “inf”"
            in response.content.decode())
    assert nothing_left(media_root)


def test_api_import_with_nan_coordinates_is_a_400_not_a_500(user, media_root):
    response = token_client(user).post(reverse("api:note-import"), {
        "xml": xml_upload(page_xml(coords="20,40 nan,40 700,90")), "image": image_upload()},
        format="multipart")
    error = assert_error(response, 400, "invalid")
    assert error["message"] == unreadable(
        "line r0l0 <Coords points> holds “nan”; coordinates must be finite numbers of pixels "
        "within ±1,000,000")
    assert error["fields"] == {"file": [error["message"]]}
    assert nothing_left(media_root)


# DOCTYPE and entities, in any encoding ---------------------------------------------------------

# Billion laughs: a few hundred bytes that expand to gigabytes if the entities are expanded.
LAUGHS = ('<!DOCTYPE alto [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "&lol;" * 10}">'
                    for i in range(9))
          + "]>")
DOCTYPE_REFUSED = imports.ERROR_XML_DOCTYPE.format(name="page.xml")


def with_doctype(doctype: str, encoding: str) -> bytes:
    """An otherwise valid ALTO file whose line text is the entity, encoded as declared."""
    xml = alto([alto_line(0, text="&lol8;" if "lol8" in doctype else "&x;")],
               prolog=f'<?xml version="1.0" encoding="{encoding}"?>\n{doctype}')
    return xml.encode(encoding)


@pytest.mark.parametrize("encoding", ["UTF-16", "UTF-16LE", "UTF-16BE"])
def test_import_refuses_billion_laughs_encoded_in_utf16(user, media_root, encoding):
    """A byte search for "<!DOCTYPE" finds nothing here: every other byte is a zero."""
    data = with_doctype(LAUGHS, encoding)
    assert b"<!DOCTYPE" not in data
    assert refusal(user, data) == DOCTYPE_REFUSED
    assert nothing_left(media_root)


@pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-1", "windows-1252"])
def test_import_refuses_an_internal_entity_in_any_declared_encoding(user, media_root,
                                                                    encoding):
    assert refusal(user, with_doctype('<!DOCTYPE alto [<!ENTITY x "café">]>', encoding)) == (
        DOCTYPE_REFUSED)
    assert nothing_left(media_root)


def test_import_refuses_a_doctype_without_entities(user, media_root):
    assert refusal(user, alto([alto_line(0)], prolog='<!DOCTYPE alto SYSTEM "alto.dtd">')) == (
        DOCTYPE_REFUSED)
    assert nothing_left(media_root)


def test_import_refuses_an_external_entity(user, media_root, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    doctype = f'<!DOCTYPE alto [<!ENTITY x SYSTEM "file://{secret}">]>'
    assert refusal(user, with_doctype(doctype, "UTF-8")) == DOCTYPE_REFUSED
    assert nothing_left(media_root)


def test_web_import_of_a_utf16_doctype_is_a_400(alice_client, media_root):
    response = alice_client.post(reverse("recognition:note-import"), {
        "xml": xml_upload(with_doctype(LAUGHS, "UTF-16")), "image": image_upload()})
    assert response.status_code == 400
    assert ("contains a DOCTYPE/entities, which are not allowed"
            in response.content.decode())
    assert nothing_left(media_root)


def test_api_import_of_a_utf16_doctype_is_a_400(user, media_root):
    response = token_client(user).post(reverse("api:note-import"), {
        "xml": xml_upload(with_doctype(LAUGHS, "UTF-16")), "image": image_upload()},
        format="multipart")
    assert assert_error(response, 400, "invalid")["message"] == DOCTYPE_REFUSED
    assert nothing_left(media_root)


# Bounds ----------------------------------------------------------------------------------------

def test_import_refuses_more_lines_than_the_limit(user, media_root, settings):
    settings.NOTES_IMPORT_MAX_LINES = 3
    assert refusal(user, alto([alto_line(i) for i in range(4)])) == (
        "“page.xml” has 4 text lines; the limit is 3.")
    assert nothing_left(media_root)


def test_import_accepts_exactly_the_line_limit(user, settings):
    settings.NOTES_IMPORT_MAX_LINES = 3
    note = imports.note_import(user=user, xml_file=xml_upload(alto([alto_line(i)
                                                                   for i in range(3)])),
                               image_file=image_upload())
    assert Line.objects.filter(page__note=note).count() == 3


def test_import_refuses_a_million_character_line(user, media_root):
    """The probe's file, at the default limits: it used to be stored as it was."""
    xml = alto([alto_line(0), alto_line(1, text=" ".join(["abcdefghi"] * 100_000))])
    assert refusal(user, xml) == (
        "Line “l1” of “page.xml” has 999,999 characters; the limit is 2,000 a line.")
    assert nothing_left(media_root)


def test_import_refuses_a_line_one_character_over_the_limit(user, media_root, settings):
    settings.NOTES_MAX_LINE_CHARS = 10
    assert refusal(user, alto([alto_line(0, text="abcde 12345")])) == (
        "Line “l0” of “page.xml” has 11 characters; the limit is 10 a line.")
    assert nothing_left(media_root)


def test_import_refuses_a_polygon_of_too_many_points(user, media_root):
    points = " ".join(f"{20 + i % 600} {40 + i % 50}" for i in range(2001))
    assert refusal(user, alto([alto_line(0, points=points)])) == (
        "Line “l0” of “page.xml” has a polygon of 2,001 points; the limit is 2,000.")
    assert nothing_left(media_root)


def test_import_refuses_an_xml_file_over_the_size_limit(user, media_root, settings):
    settings.NOTES_IMPORT_MAX_BYTES = 10 * 1024
    xml = alto([alto_line(i) for i in range(200)])
    assert len(xml) > 10 * 1024
    assert refusal(user, xml) == (
        f"“page.xml” is {round(len(xml) / 1024)} KB; the limit for an XML file is 10 KB.")
    assert nothing_left(media_root)


def test_web_import_over_the_line_limit_is_a_400(alice_client, media_root, settings):
    settings.NOTES_IMPORT_MAX_LINES = 2
    response = alice_client.post(reverse("recognition:note-import"), {
        "xml": xml_upload(alto([alto_line(i) for i in range(3)])), "image": image_upload()})
    assert response.status_code == 400
    assert "“page.xml” has 3 text lines; the limit is 2." in response.content.decode()
    assert nothing_left(media_root)


def test_api_import_of_an_oversized_file_is_a_400(user, media_root, settings):
    """The default limit, 5 MB: a 6 MB file of valid lines."""
    lines = [alto_line(i, text="word " * 40) for i in range(5000)]
    xml = alto(lines)
    assert 5 * 2**20 < len(xml) < 7 * 2**20
    response = token_client(user).post(reverse("api:note-import"), {
        "xml": xml_upload(xml), "image": image_upload()}, format="multipart")
    error = assert_error(response, 400, "invalid")
    assert error["message"].endswith("; the limit for an XML file is 5 MB.")
    assert nothing_left(media_root)


def test_import_page_states_the_configured_limits(alice_client, settings):
    settings.NOTES_IMPORT_MAX_BYTES = 3 * 2**20
    settings.NOTES_IMPORT_MAX_LINES = 1200
    html = " ".join(alice_client.get(reverse("recognition:note-import")).content.decode()
                    .split())
    assert ("The XML file may be up to 3 MB, with at most 1,200 lines of up to 2,000 "
            "characters each.") in html


def test_api_import_needs_a_logged_in_user(db, media_root):
    response = APIClient().post(reverse("api:note-import"), {
        "xml": xml_upload(page_xml()), "image": image_upload()}, format="multipart")
    assert_error(response, 401)
    assert nothing_left(media_root)


# What still works ------------------------------------------------------------------------------

def test_api_import_makes_a_transcribed_note(user):
    collection = user.collections.create(name="Letters")
    response = token_client(user).post(reverse("api:note-import"), {
        "xml": xml_upload(page_xml()), "image": image_upload(), "collection": collection.pk,
        "title": "Letter"}, format="multipart")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    note = Note.objects.get(pk=body["id"])
    assert (body["title"], body["status"], body["collection"]) == ("Letter", "done",
                                                                  collection.pk)
    assert note.text == "a line" and note.owner == user


def test_api_import_into_another_users_collection_is_refused(user, other_user, media_root):
    theirs = other_user.collections.create(name="Bob's")
    response = token_client(user).post(reverse("api:note-import"), {
        "xml": xml_upload(page_xml()), "image": image_upload(), "collection": theirs.pk},
        format="multipart")
    assert "collection" in assert_error(response, 400, "invalid")["fields"]
    assert nothing_left(media_root)


def test_import_of_the_utf16_alto_without_doctype_still_works(user):
    xml = alto([alto_line(0, text="café crème")],
               prolog='<?xml version="1.0" encoding="UTF-16"?>')
    note = imports.note_import(user=user, xml_file=xml_upload(xml.encode("utf-16")),
                               image_file=image_upload())
    assert note.text == "café crème"


def test_web_import_of_5000_lines_is_accepted(alice_client):
    """The largest import allowed by default goes through the web form whole (its time is
    measured in the import notes of the model card, not asserted here)."""
    lines = [alto_line(i, text="eleven words of an ordinary line of handwritten notes on it",
                       points=f"20 {i % 500} 700 {i % 500} 700 {i % 500 + 40} 20 {i % 500 + 40}")
             for i in range(5000)]
    xml = alto(lines)
    response = alice_client.post(reverse("recognition:note-import"), {
        "xml": xml_upload(xml), "image": image_upload()})
    assert response.status_code == 302
    assert Line.objects.filter(page__note__owner__username="alice").count() == 5000
