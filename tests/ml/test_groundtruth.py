import shutil
from pathlib import Path

import numpy as np
import pytest

from ml.errors import DataError
from ml.groundtruth import (
    GroundTruthLine,
    cut_line,
    read_alto,
    read_ground_truth,
    read_page_xml,
)

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture
def page_dir(tmp_path):
    for name in ("alto.xml", "page.xml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path


def test_alto_lines_text_boxes_and_types(page_dir):
    page = read_alto(page_dir / "alto.xml")
    assert page.image == page_dir / "page.png"
    assert (page.width, page.height) == (600, 300)
    first, second = page.lines
    assert first.text == "Buy milk & eggs"
    assert first.bbox == (40, 50, 501, 101)
    assert first.baseline == ((40, 90), (500, 90))
    assert first.kind == "Handwritten"
    assert first.block == "b1"
    # Strings are joined with spaces, the hyphen sticks to its word, the box is HPOS/VPOS.
    assert second.text == "Call Ann-"
    assert second.bbox == (40, 150, 340, 200)
    assert second.kind == "Typewritten"


def test_page_xml_uses_the_line_text_equiv_with_the_lowest_index(page_dir):
    page = read_page_xml(page_dir / "page.xml")
    assert page.image == page_dir / "page.png"
    first, second = page.lines
    assert first.text == "Buy milk & eggs"
    assert first.kind == "handwritten"
    assert first.polygon[0] == (40, 50)
    assert first.baseline == ((40, 90), (500, 90))
    assert second.text == "Call Ann"
    assert second.kind == ""
    assert second.bbox == (40, 150, 341, 201)


def test_read_ground_truth_detects_the_format(page_dir):
    assert read_ground_truth(page_dir / "alto.xml").lines[0].id == "l1"
    assert read_ground_truth(page_dir / "page.xml").lines[0].id == "tl1"


def test_unknown_xml_is_refused(tmp_path):
    path = tmp_path / "other.xml"
    path.write_text("<html/>")
    with pytest.raises(DataError, match="neither ALTO nor PAGE"):
        read_ground_truth(path)


def test_broken_xml_is_a_data_error(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text("<alto><Layout>")
    with pytest.raises(DataError, match="Cannot read XML"):
        read_ground_truth(path)


def test_cut_line_pads_and_stays_inside_the_page(page_dir):
    page_image = np.full((300, 600), 255, np.uint8)
    page_image[60:95, 50:490] = 0
    line = read_alto(page_dir / "alto.xml").lines[0]
    crop = cut_line(page_image, line, padding=0.1)
    assert crop.shape == (51 + 10, 461 + 10)
    assert crop.min() == 0
    edge = GroundTruthLine(id="edge", text="x", bbox=(590, 280, 640, 330))
    assert cut_line(page_image, edge).shape[0] <= 300 - 275


def test_cut_line_outside_the_image_is_refused():
    line = GroundTruthLine(id="far", text="x", bbox=(900, 900, 950, 950))
    with pytest.raises(DataError, match="outside the page"):
        cut_line(np.zeros((300, 600), np.uint8), line)


def test_pages_json_reads_lines_and_marks_regions_without_lines_unannotated(tmp_path):
    import json

    data = {
        "image": "p.jpg",
        "width": 400,
        "height": 300,
        "regions": [
            {"polygon": [[0, 0], [400, 0], [400, 40], [0, 40]], "lines": []},
            {
                "polygon": [[10, 50], [390, 50], [390, 200], [10, 200]],
                "lines": [
                    {
                        "polygon": [[20.4, 60], [380, 60], [380, 100], [20.4, 100]],
                        "baseline": [[20.4, 90.6], [380, 90.6]],
                        "text": "Une  ligne",
                    }
                ],
            },
        ],
    }
    (tmp_path / "p.json").write_text(json.dumps(data))
    page = read_ground_truth(tmp_path / "p.json")
    assert page.image == tmp_path / "p.jpg"
    (line,) = page.lines
    assert (line.text, line.bbox) == ("Une ligne", (20, 60, 381, 101))
    assert line.baseline == ((20, 91), (380, 91))
    assert page.unannotated == (((0, 0), (400, 0), (400, 40), (0, 40)),)


def test_page_xml_round_trips_line_kinds(tmp_path):
    from ml.groundtruth import GroundTruthPage, write_page_xml

    line = GroundTruthLine("l0", "Yours truly", (10, 10, 90, 30), kind="Signature", block="r1")
    page = GroundTruthPage(tmp_path / "p.xml", tmp_path / "p.png", 100, 50, (line,))
    write_page_xml(page, tmp_path / "p.xml")
    assert read_ground_truth(tmp_path / "p.xml").lines[0].kind == "Signature"


ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e308", "-2000000"])
def test_alto_polygon_coordinate_that_is_not_a_pixel_is_a_data_error(tmp_path, value):
    path = tmp_path / "page.xml"
    path.write_text(
        f'<alto xmlns="{ALTO_NS}"><Layout><Page WIDTH="600" HEIGHT="300"><TextBlock ID="b1">'
        f'<TextLine ID="l7"><Shape><Polygon POINTS="10 10 {value} 10 50 40"/></Shape>'
        '<String CONTENT="x"/></TextLine></TextBlock></Page></Layout></alto>')
    with pytest.raises(DataError) as refused:
        read_ground_truth(path)
    assert str(refused.value) == (
        f"{path}: line l7 <Polygon POINTS> holds “{value}”; coordinates must be finite "
        "numbers of pixels within ±1,000,000")


def test_page_text_equiv_index_that_is_not_a_number_is_a_data_error(tmp_path):
    path = tmp_path / "page.xml"
    path.write_text(
        '<PcGts><Page imageWidth="600" imageHeight="300"><TextRegion id="r"><TextLine id="t">'
        '<Coords points="1,1 5,5"/><TextEquiv index="first"><Unicode>a</Unicode></TextEquiv>'
        '<TextEquiv index="1"><Unicode>b</Unicode></TextEquiv></TextLine></TextRegion></Page>'
        "</PcGts>")
    with pytest.raises(DataError, match="line t <TextEquiv index> holds “first”"):
        read_ground_truth(path)


def test_xml_with_entities_is_refused_in_utf16(tmp_path):
    path = tmp_path / "page.xml"
    path.write_bytes(('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE alto '
                      '[<!ENTITY x "boom">]><alto><Layout><Page/></Layout></alto>')
                     .encode("utf-16"))
    with pytest.raises(DataError, match="it declares a DOCTYPE or entities"):
        read_ground_truth(path)


def test_alto_lines_nested_in_lines_are_each_read_once(tmp_path):
    """Blocks nested in lines nested in blocks, 8,000 deep: looking for each line's polygon
    through its whole subtree took 18 s here; only the line's own <Shape> is looked at."""
    depth = 8000
    line = ('<TextLine ID="l{i}" HPOS="1" VPOS="1" WIDTH="5" HEIGHT="5"><String CONTENT="a"/>'
            '<TextBlock ID="b{i}">')
    path = tmp_path / "nested.xml"
    path.write_text('<alto><Layout><Page WIDTH="10" HEIGHT="10"><TextBlock ID="b">'
                    + "".join(line.format(i=i) for i in range(depth))
                    + "</TextBlock></TextLine>" * depth + "</TextBlock></Page></Layout></alto>")
    page = read_ground_truth(path)
    assert len(page.lines) == depth
