"""Pack a self-contained, small training bundle for a machine that has no shared data.

    python -m ml.bundle --out .gpu/bundle --max-per-folder 3500 \
        train=.cache/data/fr-train.tsv stanford-train=.cache/data/stanford-train.tsv \
        fr-val=.cache/data/fr-val.tsv stanford-val=.cache/data/stanford-val.tsv

The bundle holds the fetched fonts, the word list as a TSV (so `wordfreq` is not needed), and each
manifest's line images re-encoded at the model height as WebP, with new manifests beside them.
`--max-per-folder` keeps at most that many lines from each source folder (a deterministic
sample), so one large collection does not crowd out the others, and the bundle stays small
enough to travel (the GPU machines take 64 MiB).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import cv2

from ml.data import load_line_gray
from ml.manifest import ManifestEntry, read_manifest, write_manifest
from ml.synth.text import Vocabulary


def sample_per_folder(entries: list[ManifestEntry], limit: int) -> list[ManifestEntry]:
    """At most `limit` entries per image folder, chosen by a hash of the path (stable)."""
    if not limit:
        return entries
    groups: dict[Path, list[ManifestEntry]] = defaultdict(list)
    for entry in entries:
        groups[entry.image.parent].append(entry)
    kept = []
    for group in groups.values():
        group.sort(key=lambda e: hashlib.sha1(str(e.image.name).encode()).hexdigest())
        kept += group[:limit]
    return kept


def pack_manifest(
    name: str, manifest: Path, out: Path, height: int, limit: int, quality: int
) -> int:
    images = out / name
    images.mkdir(parents=True, exist_ok=True)
    packed = []
    for i, entry in enumerate(sample_per_folder(read_manifest(manifest), limit)):
        gray = load_line_gray(entry.image)
        h, w = gray.shape
        width = max(8, round(w * height / h))
        resized = cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)
        target = images / f"{i:06d}.webp"
        cv2.imwrite(str(target), resized, [cv2.IMWRITE_WEBP_QUALITY, quality])
        packed.append(ManifestEntry(target, entry.text))
    return write_manifest(out / f"{name}.tsv", packed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifests", nargs="+", metavar="NAME=MANIFEST")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--fonts", type=Path, default=Path(".cache/fonts"))
    parser.add_argument("--height", type=int, default=40)
    parser.add_argument("--quality", type=int, default=70, help="WebP quality")
    parser.add_argument("--max-per-folder", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        args.fonts,
        args.out / "fonts",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("*.LICENSE"),
    )
    Vocabulary.from_wordfreq().save(args.out / "vocab.tsv")
    for item in args.manifests:
        name, _, path = item.partition("=")
        count = pack_manifest(
            name, Path(path), args.out, args.height, args.max_per_folder, args.quality
        )
        print(f"{name}\t{count}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
