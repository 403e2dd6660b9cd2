"""PAGE XML (2019-07-15 schema), one file per page (a PcGts holds exactly one Page).

Written by the engine's own writer, `ml.groundtruth.write_page_xml`, so what we export is what
the engine reads as ground truth; then stamped with what that writer, made for training data,
leaves out: the note's dates and each line's confidence. Consecutive lines of one block form a
TextRegion, so the element order is the reading order. PAGE words need their own polygons, which
the recognizer does not give; words and their alternatives are in the JSON and ALTO exports.
"""

from __future__ import annotations

import io
from pathlib import Path

from lxml import etree

from ml.groundtruth import PAGE_NAMESPACE, GroundTruthLine, GroundTruthPage, write_page_xml
from recognition.exports.document import Document, DocumentPage
from recognition.exports.layout import PlacedLine, placed_lines, xml_safe

_NS = f"{{{PAGE_NAMESPACE}}}"


def write_page(document: Document, page: DocumentPage, image_name: str) -> bytes:
    """One page of the note as PAGE XML, referring to its image as `image_name`."""
    lines = placed_lines(page)
    ground_truth = GroundTruthPage(
        xml=Path(image_name).with_suffix(".xml"), image=Path(image_name),
        width=page.width, height=page.height, lines=tuple(_ground_truth(p) for p in lines))
    buffer = io.BytesIO()
    write_page_xml(ground_truth, buffer)
    root = etree.fromstring(buffer.getvalue())
    _stamp(root, document, {f"line{p.line.id}": p for p in lines})
    etree.indent(root, space=" ")
    return etree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _ground_truth(placed: PlacedLine) -> GroundTruthLine:
    return GroundTruthLine(
        id=f"line{placed.line.id}", text=xml_safe(placed.line.text), bbox=placed.box,
        polygon=placed.polygon, baseline=placed.baseline, block=f"region{placed.run + 1}")


def _stamp(root: etree._Element, document: Document, lines: dict[str, PlacedLine]) -> None:
    metadata = root.find(f"{_NS}Metadata")
    for tag, value in (("Created", document.created), ("LastChange", document.updated)):
        if value is not None:
            metadata.find(f"{_NS}{tag}").text = value.isoformat(timespec="seconds")
    for element in root.iter(f"{_NS}TextLine"):
        line = lines[element.get("id")].line
        equiv = element.find(f"{_NS}TextEquiv")
        # A person's text is as sure as it gets; the recognizer's carries its confidence.
        equiv.set("conf", "1" if line.corrected else f"{min(max(line.confidence, 0), 1):.4f}")
