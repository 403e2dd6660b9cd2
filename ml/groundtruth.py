"""Read transcribed pages in ALTO and PAGE XML, and cut their lines out of the page image.

These are the formats eScriptorium, kraken, Transkribus and OCR-D exchange. Both readers accept
any version of their schema (the namespace is ignored) and return the same `GroundTruthPage`.
The JSON page files of `../shared/data/pages-fr` (regions holding lines with polygon, baseline
and text) are read into it too.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree as SafeET
import numpy as np
from defusedxml import DefusedXmlException

from ml.charset import collapse_whitespace
from ml.errors import DataError

Point = tuple[int, int]

# Pixels. Far beyond any page scan (an A0 sheet at 600 dpi is ~28,000 px wide), and small enough
# that sums and JSON stay exact: anything larger is a broken or hostile file, not a page.
MAX_COORDINATE = 1_000_000
ERROR_NOT_A_NUMBER = "{where} holds “{value}”, which is not a number"
ERROR_COORDINATE = (
    "{where} holds “{value}”; coordinates must be finite numbers of pixels within "
    f"±{MAX_COORDINATE:,}"
)
ERROR_PAGE_SIZE = "{where} is “{value}”; a page size is a whole number of pixels from 0 to " + (
    f"{MAX_COORDINATE:,}"
)


@dataclass(frozen=True)
class GroundTruthLine:
    id: str
    text: str
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), page pixels
    polygon: tuple[Point, ...] = ()
    baseline: tuple[Point, ...] = ()
    kind: str = ""  # line type, e.g. "Handwritten" (segmOnto), "" when not given
    block: str = ""  # id of the enclosing text block / region


@dataclass(frozen=True)
class GroundTruthPage:
    xml: Path
    image: Path
    width: int
    height: int
    lines: tuple[GroundTruthLine, ...]
    # Regions that hold no transcribed line: text may be there (a printed header, a stamp, a
    # page number) that nobody annotated, so it is neither a line nor background.
    unannotated: tuple[tuple[Point, ...], ...] = ()
    # Regions holding transcribed lines, where the transcription is complete; empty when the
    # format says nothing about completeness. pages-fr leaves margin notes, stamps and
    # signatures outside any region untranscribed.
    transcribed: tuple[tuple[Point, ...], ...] = ()


def read_ground_truth(path: str | Path) -> GroundTruthPage:
    """Read an ALTO or PAGE XML file, whichever it is (or a pages-fr JSON page)."""
    if Path(path).suffix == ".json":
        return read_page_json(path)
    return ground_truth_from_xml(_parse(Path(path)), Path(path))


def ground_truth_from_xml(root: ET.Element, path: Path) -> GroundTruthPage:
    """Read an already parsed ALTO or PAGE document; `path` names it in errors and locates
    its image. Coordinates are checked: a non-finite or absurd number is a `DataError`."""
    name = _local(root.tag)
    if name == "alto":
        return _read_alto(path, root)
    if name == "PcGts":
        return _read_page(path, root)
    raise DataError(f"{path}: neither ALTO nor PAGE XML (root element <{name}>)")


def read_alto(path: str | Path) -> GroundTruthPage:
    root = _parse(Path(path))
    if _local(root.tag) != "alto":
        raise DataError(f"{path}: not an ALTO file")
    return _read_alto(Path(path), root)


def read_page_xml(path: str | Path) -> GroundTruthPage:
    root = _parse(Path(path))
    if _local(root.tag) != "PcGts":
        raise DataError(f"{path}: not a PAGE XML file")
    return _read_page(Path(path), root)


def read_page_json(path: str | Path) -> GroundTruthPage:
    """A page of `pages-fr`: {"image", "width", "height", "regions": [{"polygon", "lines"}]}."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        lines, unannotated, transcribed = [], [], []
        for r, region in enumerate(data["regions"]):
            if not region["lines"]:
                unannotated.append(_rounded(region["polygon"]))
            else:
                transcribed.append(_rounded(region["polygon"]))
            for i, line in enumerate(region["lines"]):
                polygon = _rounded(line["polygon"])
                lines.append(
                    GroundTruthLine(
                        id=f"r{r}l{i}",
                        text=collapse_whitespace(line.get("text", "")),
                        bbox=_bbox(polygon),
                        polygon=polygon,
                        baseline=_rounded(line.get("baseline") or ()),
                        block=f"r{r}",
                    )
                )
        return GroundTruthPage(
            xml=path,
            image=path.with_name(data["image"]),
            width=int(data["width"]),
            height=int(data["height"]),
            lines=tuple(lines),
            unannotated=tuple(p for p in unannotated if len(p) >= 3),
            transcribed=tuple(p for p in transcribed if len(p) >= 3),
        )
    except (OSError, ValueError, KeyError, TypeError, OverflowError) as err:
        raise DataError(f"Cannot read page JSON {path}: {err}") from err


def _rounded(points) -> tuple[Point, ...]:
    return tuple((round(float(x)), round(float(y))) for x, y in points)


def _parse(path: Path) -> ET.Element:
    # defusedxml, not plain ElementTree: neither format has a DTD, so a DOCTYPE, an entity
    # declaration or an external reference is refused whatever the file's encoding (expat
    # decodes first; a byte search for "<!DOCTYPE" misses UTF-16).
    try:
        return SafeET.parse(path, forbid_dtd=True).getroot()
    except DefusedXmlException as err:
        raise DataError(f"Cannot read XML {path}: it declares a DOCTYPE or entities") from err
    except (ET.ParseError, OSError) as err:
        raise DataError(f"Cannot read XML {path}: {err}") from err


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str):
    return [e for e in element.iter() if _local(e.tag) == name]


def _first(element: ET.Element, name: str) -> ET.Element | None:
    return next((e for e in element.iter() if _local(e.tag) == name), None)


def _points(text: str | None, where: str) -> tuple[Point, ...]:
    """ALTO's "x y x y ..." or PAGE's "x,y x,y ..." as integer points."""
    numbers = [round(_coordinate(n, where))
               for n in re.split(r"[\s,]+", (text or "").strip()) if n]
    return tuple(zip(numbers[::2], numbers[1::2], strict=False))


def _coordinate(text: str, where: str) -> float:
    """A pixel coordinate; `where` names the element and attribute in errors."""
    try:
        value = float(text)
    except ValueError:
        raise DataError(ERROR_NOT_A_NUMBER.format(where=where, value=text[:30])) from None
    # inf and nan are floats too, and round()/int() raise OverflowError/ValueError on them.
    if not math.isfinite(value) or abs(value) > MAX_COORDINATE:
        raise DataError(ERROR_COORDINATE.format(where=where, value=text[:30]))
    return value


def _page_size(text: str | None, where: str) -> int:
    """The page's width or height; 0 when not given (tools that don't know it)."""
    if text is None or not text.strip():
        return 0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_COORDINATE:  # false for nan too
        raise DataError(ERROR_PAGE_SIZE.format(where=where, value=text[:30]))
    return int(value)


def _image_path(path: Path, name: str | None) -> Path:
    """The image beside the XML file, by its base name (tools may write a folder or a URL)."""
    base = Path((name or "").strip().replace("\\", "/")).name
    return path.with_name(base) if base else path


def _bbox(points: tuple[Point, ...]) -> tuple[int, int, int, int]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1


def _read_alto(path: Path, root: ET.Element) -> GroundTruthPage:
    tags = {t.get("ID"): t.get("LABEL", "") for t in _children(root, "OtherTag")}
    page = _first(root, "Page")
    if page is None:
        raise DataError(f"{path}: ALTO file without a <Page>")
    file_name = _first(root, "fileName")
    image = _image_path(path, file_name.text if file_name is not None else None)
    lines = []
    for block in _children(page, "TextBlock"):
        for line in (e for e in block if _local(e.tag) == "TextLine"):
            lines.append(_alto_line(path, line, tags, block.get("ID", "")))
    return GroundTruthPage(
        xml=path,
        image=image,
        width=_page_size(page.get("WIDTH"), f"{path}: <Page WIDTH>"),
        height=_page_size(page.get("HEIGHT"), f"{path}: <Page HEIGHT>"),
        lines=tuple(lines),
    )


def _alto_line(path: Path, line: ET.Element, tags: dict, block: str) -> GroundTruthLine:
    words = []
    for part in line:
        name = _local(part.tag)
        if name == "String":
            words.append(part.get("CONTENT", ""))
        elif name == "HYP":  # a hyphen at the end of the line belongs to the last word
            hyphen = part.get("CONTENT", "-")
            if words:
                words[-1] += hyphen
            else:
                words.append(hyphen)
    where = f"{path}: line {line.get('ID', '')}"
    # The line's own <Shape><Polygon>, not a search of its subtree: that was quadratic in a
    # file nesting lines in blocks in lines, and found a word's polygon when the line had none.
    polygon_el = next((p for shape in line if _local(shape.tag) == "Shape"
                       for p in shape if _local(p.tag) == "Polygon"), None)
    polygon = _points(polygon_el.get("POINTS"), f"{where} <Polygon POINTS>") \
        if polygon_el is not None else ()
    if polygon:
        bbox = _bbox(polygon)
    else:
        box = [line.get(name) for name in ("HPOS", "VPOS", "WIDTH", "HEIGHT")]
        if None in box:
            raise DataError(f"{where} has neither a polygon nor a box")
        x, y, w, h = (int(_coordinate(value, f"{where} <TextLine {name}>"))
                      for value, name in zip(box, ("HPOS", "VPOS", "WIDTH", "HEIGHT"),
                                             strict=True))
        bbox = (x, y, x + w, y + h)
    kinds = [tags.get(ref, "") for ref in (line.get("TAGREFS") or "").split()]
    kind = next((k.split(":")[-1] for k in kinds if k), "")
    return GroundTruthLine(
        id=line.get("ID", ""),
        text=collapse_whitespace(" ".join(words)),
        bbox=bbox,
        polygon=polygon,
        baseline=_points(line.get("BASELINE"), f"{where} <TextLine BASELINE>"),
        kind=kind,
        block=block,
    )


def _read_page(path: Path, root: ET.Element) -> GroundTruthPage:
    page = _first(root, "Page")
    if page is None:
        raise DataError(f"{path}: PAGE file without a <Page>")
    lines = []
    for region in _children(page, "TextRegion"):
        for line in (e for e in region if _local(e.tag) == "TextLine"):
            where = f"{path}: line {line.get('id', '')}"
            coords = next((e for e in line if _local(e.tag) == "Coords"), None)
            polygon = _points(coords.get("points"), f"{where} <Coords points>") \
                if coords is not None else ()
            if not polygon:
                raise DataError(f"{where} has no Coords")
            baseline_el = next((e for e in line if _local(e.tag) == "Baseline"), None)
            baseline = _points(baseline_el.get("points"), f"{where} <Baseline points>") \
                if baseline_el is not None else ()
            lines.append(
                GroundTruthLine(
                    id=line.get("id", ""),
                    text=collapse_whitespace(_page_text(line, where)),
                    bbox=_bbox(polygon),
                    polygon=polygon,
                    baseline=baseline,
                    kind=_page_kind(line.get("custom", "")),
                    block=region.get("id", ""),
                )
            )
    return GroundTruthPage(
        xml=path,
        image=_image_path(path, page.get("imageFilename")),
        width=_page_size(page.get("imageWidth"), f"{path}: <Page imageWidth>"),
        height=_page_size(page.get("imageHeight"), f"{path}: <Page imageHeight>"),
        lines=tuple(lines),
    )


def _page_text(line: ET.Element, where: str) -> str:
    """The line's own TextEquiv (not its words'), preferring index 0 / the first one."""
    equivs = [e for e in line if _local(e.tag) == "TextEquiv"]
    if not equivs:
        return ""

    def index(equiv: ET.Element) -> int:
        value = (equiv.get("index") or "0").strip()
        if not value.lstrip("-").isdecimal() or len(value) > 10:
            raise DataError(ERROR_NOT_A_NUMBER.format(where=f"{where} <TextEquiv index>",
                                                      value=value[:30]))
        return int(value)

    equivs.sort(key=index)
    unicode = next((e for e in equivs[0] if _local(e.tag) == "Unicode"), None)
    return unicode.text or "" if unicode is not None else ""


def _page_kind(custom: str) -> str:
    match = re.search(r"structure\s*\{[^}]*type:\s*([^;}]+)", custom)
    return match.group(1).strip() if match else ""


def cut_line(page: np.ndarray, line: GroundTruthLine, padding: float = 0.08) -> np.ndarray:
    """The line's bounding box from a grayscale page, padded by a fraction of its height."""
    x0, y0, x1, y1 = line.bbox
    pad = int(round((y1 - y0) * padding))
    height, width = page.shape[:2]
    x0, y0 = max(0, x0 - pad), max(0, y0 - pad)
    x1, y1 = min(width, x1 + pad), min(height, y1 + pad)
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise DataError(f"Line {line.id} lies outside the page image")
    return page[y0:y1, x0:x1]


PAGE_NAMESPACE = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"


def write_page_xml(page: GroundTruthPage, path: str | Path) -> None:
    """Write a page as PAGE XML 2019 (one TextRegion per block, lines in reading order)."""
    ET.register_namespace("", PAGE_NAMESPACE)
    ns = f"{{{PAGE_NAMESPACE}}}"
    root = ET.Element(f"{ns}PcGts")
    metadata = ET.SubElement(root, f"{ns}Metadata")
    ET.SubElement(metadata, f"{ns}Creator").text = "notes-digitizer"
    for tag in ("Created", "LastChange"):
        ET.SubElement(metadata, f"{ns}{tag}").text = "1970-01-01T00:00:00"
    page_el = ET.SubElement(
        root,
        f"{ns}Page",
        imageFilename=page.image.name,
        imageWidth=str(page.width),
        imageHeight=str(page.height),
    )
    regions: dict[str, ET.Element] = {}
    for index, line in enumerate(page.lines):
        block = line.block or "r0"
        region = regions.get(block)
        if region is None:
            region = regions[block] = ET.SubElement(page_el, f"{ns}TextRegion", id=block)
            ET.SubElement(region, f"{ns}Coords", points="0,0")
        line_el = ET.SubElement(region, f"{ns}TextLine", id=line.id or f"l{index}")
        if line.kind:
            line_el.set("custom", f"structure {{type:{line.kind};}}")
        polygon = line.polygon or _box_polygon(line.bbox)
        ET.SubElement(line_el, f"{ns}Coords", points=_format_points(polygon))
        if line.baseline:
            ET.SubElement(line_el, f"{ns}Baseline", points=_format_points(line.baseline))
        equiv = ET.SubElement(line_el, f"{ns}TextEquiv")
        ET.SubElement(equiv, f"{ns}Unicode").text = line.text
    for block, region in regions.items():
        boxes = [
            _bbox(ln.polygon or _box_polygon(ln.bbox))
            for ln in page.lines
            if (ln.block or "r0") == block
        ]
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        region.find(f"{ns}Coords").set("points", _format_points(_box_polygon((x0, y0, x1, y1))))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _box_polygon(box: tuple[int, int, int, int]) -> tuple[Point, ...]:
    x0, y0, x1, y1 = box
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def _format_points(points) -> str:
    return " ".join(f"{round(x)},{round(y)}" for x, y in points)
