"""ALTO XML v4 (schema 4.2, the version whose BASELINE is a polyline), one file per page.

Lines are TextLines with their polygon (Shape), box and baseline, and `CS` (correction status)
telling whether a person corrected them; consecutive lines of one block form a TextBlock, so
the element order is the reading order. Words are Strings: with the recognizer's confidence
(`WC`) and its alternatives (ALTERNATIVE) while they still spell the line, plain otherwise.
`ml.groundtruth.read_alto` reads these files back (the import does).
"""

from __future__ import annotations

from lxml import etree

from recognition.exports.document import Document, DocumentPage
from recognition.exports.layout import PlacedLine, placed_lines, xml_safe

NAMESPACE = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

_NS = f"{{{NAMESPACE}}}"


def write_alto(document: Document, page: DocumentPage, image_name: str) -> bytes:
    """One page of the note as ALTO, referring to its image as `image_name`."""
    root = etree.Element(f"{_NS}alto", {
        f"{{{XSI}}}schemaLocation": f"{NAMESPACE} {SCHEMA}", "SCHEMAVERSION": "4.2"},
        nsmap={None: NAMESPACE, "xsi": XSI})
    description = etree.SubElement(root, f"{_NS}Description")
    etree.SubElement(description, f"{_NS}MeasurementUnit").text = "pixel"
    source = etree.SubElement(description, f"{_NS}sourceImageInformation")
    etree.SubElement(source, f"{_NS}fileName").text = xml_safe(image_name)
    processing = etree.SubElement(description, f"{_NS}Processing", ID="export")
    if document.updated:
        etree.SubElement(processing, f"{_NS}processingDateTime").text = (
            document.updated.isoformat(timespec="seconds"))
    software = etree.SubElement(processing, f"{_NS}processingSoftware")
    etree.SubElement(software, f"{_NS}softwareName").text = "notes-digitizer"

    layout = etree.SubElement(root, f"{_NS}Layout")
    page_el = etree.SubElement(layout, f"{_NS}Page", ID=f"page{page.number}",
                            PHYSICAL_IMG_NR=str(page.number), WIDTH=str(page.width),
                            HEIGHT=str(page.height))
    space = etree.SubElement(page_el, f"{_NS}PrintSpace", HPOS="0", VPOS="0",
                          WIDTH=str(page.width), HEIGHT=str(page.height))
    lines = placed_lines(page)
    for run in sorted({placed.run for placed in lines}):
        members = [placed for placed in lines if placed.run == run]
        block = etree.SubElement(space, f"{_NS}TextBlock", ID=f"block{run + 1}",
                              **_box_attributes(_union(p.box for p in members)))
        for placed in members:
            _text_line(block, placed)
    etree.indent(root, space=" ")
    return etree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _text_line(block: etree._Element, placed: PlacedLine) -> None:
    line = placed.line
    attributes = {"ID": f"line{line.id}", **_box_attributes(placed.box)}
    if placed.baseline:
        attributes["BASELINE"] = _points(placed.baseline)
    attributes["CS"] = "true" if line.corrected else "false"
    element = etree.SubElement(block, f"{_NS}TextLine", attributes)
    shape = etree.SubElement(element, f"{_NS}Shape")
    etree.SubElement(shape, f"{_NS}Polygon", POINTS=_points(placed.polygon))
    words = list(line.words) if line.words_match_text else [{"text": w} for w in
                                                             line.text.split()]
    for index, word in enumerate(words or [{"text": ""}]):  # ALTO wants a String per line
        if index:
            etree.SubElement(element, f"{_NS}SP")
        string = etree.SubElement(element, f"{_NS}String", CONTENT=xml_safe(word["text"]))
        if word.get("confidence") is not None:
            string.set("WC", f"{min(max(word['confidence'], 0.0), 1.0):.4f}")
        for alternative in word.get("alternatives", ()):
            if alternative["text"] != word["text"]:
                etree.SubElement(string, f"{_NS}ALTERNATIVE").text = xml_safe(alternative["text"])


def _box_attributes(box) -> dict[str, str]:
    x0, y0, x1, y1 = box
    return {"HPOS": str(x0), "VPOS": str(y0), "WIDTH": str(x1 - x0), "HEIGHT": str(y1 - y0)}


def _union(boxes):
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _points(points) -> str:
    # "x y x y ...", as eScriptorium writes ALTO 4.2 (ml.groundtruth reads either form).
    return " ".join(f"{x} {y}" for x, y in points)
