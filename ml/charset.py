"""The characters the recognizer can emit, and how any text is normalized onto them.

Class 0 is the CTC blank; character i of the alphabet is class i + 1.

Normalization (applied to training labels, evaluation references and nothing else):
1. Unicode NFC, every run of whitespace becomes one space, ends stripped.
2. Look-alikes with no distinct meaning in notes map to one form: non-breaking and thin spaces
   to a space, the hyphen family (‐ ‑ ‒ −) to "-", ligatures (ﬁ ﬂ ﬀ ﬃ ﬄ) to their letters,
   primes to quotes, long s to s, „ and ‟ to ", ‚ and ‛ to ', the Unicode ellipsis to "...",
   letters with a stroke (Ł đ ı ħ) to their plain letter, arrows (→ ← ⇒) to -> <- =>.
3. Any other character outside the alphabet is decomposed (NFKD) and loses its combining marks,
   so "ā" becomes "a" and "ŵ" becomes "w"; what still is not in the alphabet is dropped.
Typographic quotes and dashes (’ “ ” – —) stay distinct from ' " - because typed notes contain them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cached_property

BLANK = 0

_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
_ACCENTED = "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝŸŒàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿœß"
_TYPOGRAPHIC = "‘’“”«»–—•…£€¥¢°§¶©®™±×÷½¼¾²³µ¿¡"

DEFAULT_ALPHABET = _ASCII + _ACCENTED + _TYPOGRAPHIC.replace("…", "")

_LOOKALIKES = str.maketrans(
    {
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u2007": " ",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2212": "-",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb00": "ff",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\u2032": "'",
        "\u2033": '"',
        "\u017f": "s",
        "\u201e": '"',
        "\u201f": '"',
        "\u201a": "'",
        "\u201b": "'",
        "\u2026": "...",
        "→": "->",
        "←": "<-",
        "⇒": "=>",
        # Letters with a stroke have no Unicode decomposition to fall back on.
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "ı": "i",
        "ħ": "h",
    }
)
_WHITESPACE = re.compile(r"\s+")


def collapse_whitespace(text: str) -> str:
    """NFC, one space for every whitespace run, no leading or trailing space."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


class Charset:
    """An alphabet with the CTC blank at index 0."""

    def __init__(self, alphabet: str | Sequence[str]):
        chars = list(alphabet)
        if len(set(chars)) != len(chars):
            raise ValueError("Alphabet has duplicate characters")
        if any(len(c) != 1 for c in chars):
            raise ValueError("Alphabet entries must be single characters")
        self.chars: tuple[str, ...] = tuple(chars)
        self._index = {c: i + 1 for i, c in enumerate(chars)}

    def __len__(self) -> int:
        """Number of classes, blank included."""
        return len(self.chars) + 1

    def __contains__(self, char: str) -> bool:
        return char in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Charset) and self.chars == other.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    @cached_property
    def alphabet(self) -> str:
        return "".join(self.chars)

    def encode(self, text: str) -> list[int]:
        """Class ids of an already normalized text; raises KeyError on a foreign character."""
        return [self._index[c] for c in text]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of class ids (no CTC collapsing; blanks are skipped)."""
        return "".join(self.chars[i - 1] for i in ids if i != BLANK)

    def normalize(self, text: str) -> str:
        """Map any text onto this alphabet (see the module docstring for the rules)."""
        text = collapse_whitespace(text.translate(_LOOKALIKES))
        if all(c in self._index for c in text):
            return text
        out = []
        for char in text:
            if char in self._index:
                out.append(char)
                continue
            for part in unicodedata.normalize("NFKD", char):
                if part in self._index and not unicodedata.combining(part):
                    out.append(part)
        return collapse_whitespace("".join(out))


DEFAULT_CHARSET = Charset(DEFAULT_ALPHABET)
