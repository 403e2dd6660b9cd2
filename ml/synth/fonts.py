"""The font catalogue for synthetic lines: what we use, where it comes from, and how to fetch it.

`fonts.toml` pins each family to an npm @fontsource release and its integrity hash. `fetch_fonts`
downloads them with `npm pack`, checks the hash, and stores for each family a plain TrueType file
(decompressed from .woff2, so any FreeType build loads it) plus a JSON sidecar with its licence
and the characters it really draws, so the renderer never puts a missing glyph (a box) on a line
whose label says otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
import tomllib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ml.errors import DataError

CATALOGUE_PATH = Path(__file__).with_name("fonts.toml")


@dataclass(frozen=True)
class FontSpec:
    """One catalogue entry."""

    name: str
    version: str
    license: str
    style: str  # "handwriting" | "print"
    split: str  # "train" | "test"
    integrity: str
    caps_only: bool = False  # lower case drawn as small capitals: render capitals only

    @property
    def package(self) -> str:
        return f"@fontsource/{self.name}@{self.version}"


@dataclass(frozen=True)
class Font:
    """A fetched font, ready for the renderer."""

    name: str
    path: Path
    style: str
    split: str
    license: str
    charset: frozenset[str]
    caps_only: bool = False


def load_catalogue(path: Path = CATALOGUE_PATH) -> list[FontSpec]:
    """Read fonts.toml."""
    with open(path, "rb") as f:
        entries = tomllib.load(f)["font"]
    return [FontSpec(**entry) for entry in entries]


def load_fonts(font_dir: Path, *, split: str | None = None, style: str | None = None) -> list[Font]:
    """Fonts fetched into `font_dir`, optionally only one split ("train"/"test") or style."""
    fonts = []
    for spec in load_catalogue():
        if (split and spec.split != split) or (style and spec.style != style):
            continue
        sidecar = font_dir / f"{spec.name}.json"
        if not sidecar.exists():
            raise DataError(
                f"Font {spec.name!r} is missing from {font_dir}; run `python -m ml.synth fonts`."
            )
        meta = json.loads(sidecar.read_text())
        fonts.append(
            Font(
                name=spec.name,
                path=font_dir / meta["file"],
                style=spec.style,
                split=spec.split,
                license=spec.license,
                charset=frozenset(meta["chars"]),
                caps_only=spec.caps_only,
            )
        )
    return fonts


def fetch_fonts(font_dir: Path, specs: Iterable[FontSpec] | None = None, jobs: int = 8) -> int:
    """Download every catalogue font not yet in `font_dir`; returns how many were fetched."""
    font_dir.mkdir(parents=True, exist_ok=True)
    todo = [s for s in (specs or load_catalogue()) if not (font_dir / f"{s.name}.json").exists()]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda spec: _fetch_one(spec, font_dir), todo))
    _write_licence_list(font_dir)
    return len(todo)


def _fetch_one(spec: FontSpec, font_dir: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            ["npm", "pack", spec.package, "--pack-destination", tmp, "--json", "--silent"],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise DataError(f"npm pack {spec.package} failed: {result.stderr.strip()[:500]}")
        tgz = Path(tmp) / json.loads(result.stdout)[0]["filename"]
        data = tgz.read_bytes()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != spec.integrity:
        raise DataError(f"{spec.package}: integrity mismatch ({digest[:24]}...)")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        woff2 = tar.extractfile(f"package/files/{spec.name}-latin-400-normal.woff2").read()
        licence = tar.extractfile("package/LICENSE").read().decode("utf-8", "replace")
    ttf_name = f"{spec.name}.ttf"
    chars = _decompress_woff2(woff2, font_dir / ttf_name)
    (font_dir / f"{spec.name}.LICENSE").write_text(licence)
    sidecar = {
        "name": spec.name,
        "package": spec.package,
        "license": spec.license,
        "file": ttf_name,
        "chars": "".join(sorted(chars)),
    }
    (font_dir / f"{spec.name}.json").write_text(json.dumps(sidecar, ensure_ascii=False))


def _decompress_woff2(woff2: bytes, dest: Path) -> set[str]:
    """Save as plain TrueType; return the characters that map to a glyph with an outline."""
    from fontTools.ttLib import TTFont  # dev dependency: only needed to fetch

    font = TTFont(io.BytesIO(woff2))
    glyph_set = font.getGlyphSet()
    chars = set()
    for code, glyph_name in font.getBestCmap().items():
        char = chr(code)
        # A space has no outline but is real; anything else without one would render blank.
        if char == " " or _has_outline(glyph_set, glyph_name):
            chars.add(char)
    font.flavor = None
    font.save(dest)
    return chars


def _has_outline(glyph_set, glyph_name: str) -> bool:
    from fontTools.pens.boundsPen import BoundsPen

    pen = BoundsPen(glyph_set)
    glyph_set[glyph_name].draw(pen)
    return pen.bounds is not None


def _write_licence_list(font_dir: Path) -> None:
    lines = ["# Fonts used for synthetic handwriting (from the npm registry, @fontsource)", ""]
    lines += ["| family | package | licence | style | split |", "|---|---|---|---|---|"]
    for spec in load_catalogue():
        lines.append(
            f"| {spec.name} | {spec.package} | {spec.license} | {spec.style} | {spec.split} |"
        )
    (font_dir / "FONTS.md").write_text("\n".join(lines) + "\n")
