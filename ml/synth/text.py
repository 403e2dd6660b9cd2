"""Text for synthetic lines: what people write in notes, not just dictionary words.

Words are drawn from real word frequencies (the `wordfreq` package: English, plus some French,
Spanish and German for accented letters), flattened so rare letters are seen often enough. Lines
mix prose with what notes are full of: bullets, dates, times, prices, quantities, e-mail
addresses, phone numbers, arrows and abbreviations.
"""

from __future__ import annotations

import bisect
import itertools
import random
import string
from dataclasses import dataclass
from pathlib import Path

from ml.charset import DEFAULT_CHARSET, Charset

# How much each language contributes to the vocabulary and how many of its top words we take.
LANGUAGES = {"en": 40_000, "fr": 8_000, "es": 3_000, "de": 3_000}
# Frequencies are raised to this power: 1.0 is true Zipf ("the" in every line), 0 is uniform.
FLATTEN = 0.5

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
BULLETS = ("- ", "• ", "* ", "– ", "-> ", "> ", "[ ] ", "[x] ", "o ")
LABELS = ("TODO:", "NB:", "Re:", "Note:", "Q:", "A:", "Ref:", "Tel:", "Due:", "PS:", "Idea:")
ABBREVIATIONS = (
    "e.g.",
    "i.e.",
    "etc.",
    "approx.",
    "vs",
    "w/",
    "w/o",
    "p.",
    "pp.",
    "no.",
    "Dr",
    "Mr",
    "Mrs",
    "Ms",
    "St.",
    "Ave.",
    "dept.",
    "min",
    "max",
    "ca.",
    "cf.",
)
DOMAINS = ("gmail.com", "example.org", "uni.edu", "mail.co.uk", "outlook.com", "web.de")
SYMBOLS = (
    "&",
    "+",
    "=",
    "#",
    "@",
    "%",
    "/",
    "*",
    "~",
    "|",
    "<",
    ">",
    "=>",
    "->",
    "<-",
    "x",
    "×",
    "±",
    "§",
    "°",
)


@dataclass(frozen=True)
class Vocabulary:
    """Words per language with cumulative sampling weights."""

    words: dict[str, tuple[str, ...]]
    cumulative: dict[str, tuple[float, ...]]

    def sample(self, rng: random.Random, language: str = "en") -> str:
        cum = self.cumulative[language]
        return self.words[language][bisect.bisect(cum, rng.random() * cum[-1])]

    def save(self, path: Path) -> None:
        """TSV of language, word, weight: lets machines without `wordfreq` render text."""
        with open(path, "w", encoding="utf-8") as f:
            for lang, words in self.words.items():
                cum = self.cumulative[lang]
                for word, before, after in zip(words, (0.0, *cum), cum, strict=False):
                    f.write(f"{lang}\t{word}\t{after - before:.6g}\n")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        entries: dict[str, list[tuple[str, float]]] = {}
        with open(path, encoding="utf-8") as f:
            for line in f:
                lang, word, weight = line.rstrip("\n").split("\t")
                entries.setdefault(lang, []).append((word, float(weight)))
        return cls._from_weights(entries)

    @classmethod
    def from_wordfreq(cls, charset: Charset = DEFAULT_CHARSET) -> Vocabulary:
        from wordfreq import top_n_list, word_frequency

        entries = {}
        for lang, n in LANGUAGES.items():
            entries[lang] = [
                (word, word_frequency(word, lang) ** FLATTEN)
                for word in top_n_list(lang, n)
                if word.isalpha() or ("'" in word and word.replace("'", "").isalpha())
                if all(c in charset for c in word)
            ]
        return cls._from_weights(entries)

    @classmethod
    def _from_weights(cls, entries: dict[str, list[tuple[str, float]]]) -> Vocabulary:
        words = {lang: tuple(w for w, _ in pairs) for lang, pairs in entries.items()}
        cumulative = {
            lang: tuple(itertools.accumulate(weight for _, weight in pairs))
            for lang, pairs in entries.items()
        }
        return cls(words, cumulative)


class TextSampler:
    """Random note-like lines; `max_words` bounds the line length (the training curriculum)."""

    def __init__(self, vocabulary: Vocabulary, rng: random.Random):
        self.vocab = vocabulary
        self.rng = rng

    def line(self, max_words: int = 8, max_chars: int = 64) -> str:
        rng = self.rng
        kind = rng.choices(
            ("prose", "list", "data", "foreign", "heading"), weights=(58, 14, 18, 7, 3)
        )[0]
        n_words = rng.randint(1, max_words)
        if kind == "prose":
            text = self._prose(n_words)
        elif kind == "list":
            text = self._list_item(max(1, n_words - 1))
        elif kind == "data":
            text = self._data(n_words)
        elif kind == "foreign":
            text = self._prose(n_words, language=rng.choice(("fr", "fr", "es", "de")))
        else:
            text = self._prose(min(n_words, 5)).upper()
        if rng.random() < 0.15:
            text = _curly_quotes(text)
        return _truncate(text, max_chars)

    def _word(self, language: str = "en") -> str:
        word = self.vocab.sample(self.rng, language)
        roll = self.rng.random()
        if roll < 0.08:
            return word.capitalize()
        if roll < 0.1:
            return word.upper()
        return word

    def _prose(self, n_words: int, language: str = "en") -> str:
        rng = self.rng
        words = []
        for i in range(n_words):
            word = self._word(language)
            if rng.random() < 0.04:
                word = rng.choice(ABBREVIATIONS)
            elif rng.random() < 0.05:
                word = self._token()
            if i == 0 and rng.random() < 0.5:
                word = word[:1].upper() + word[1:]
            if rng.random() < 0.03:
                word = f"{word}-{self._word(language)}"
            if i < n_words - 1 and rng.random() < 0.12:
                word += rng.choice((",", ",", ",", ";", ":", " -", " –", "."))
            words.append(word)
        text = " ".join(words)
        if rng.random() < 0.05:
            text = f"({text})"
        elif rng.random() < 0.06:
            text = f'"{text}"'
        if rng.random() < 0.45:
            text += rng.choice((".", ".", ".", "?", "!", ":", "...", ",", ";", "!!", "?!"))
        return text

    def _list_item(self, n_words: int) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            prefix = rng.choice(BULLETS)
        elif roll < 0.75:
            number = rng.randint(1, 20)
            prefix = rng.choice(
                (
                    f"{number}. ",
                    f"{number}) ",
                    f"{chr(96 + min(number, 26))}) ",
                    f"({number}) ",
                    f"{number}: ",
                )
            )
        else:
            prefix = rng.choice(LABELS) + " "
        return prefix + self._prose(n_words)

    def _data(self, n_words: int) -> str:
        parts = []
        for _ in range(max(1, n_words)):
            parts.append(self._token() if self.rng.random() < 0.55 else self._word())
        return " ".join(parts)

    def _token(self) -> str:
        rng = self.rng
        kind = rng.randrange(13)
        if kind == 0:
            return self._date()
        if kind == 1:
            return self._time()
        if kind == 2:
            return self._price()
        if kind == 3:
            return self._number()
        if kind == 4:
            return self._email()
        if kind == 5:
            return self._phone()
        if kind == 6:
            return rng.choice(SYMBOLS)
        if kind == 7:
            return f"{rng.randint(1, 99)}%"
        if kind == 8:
            unit = rng.choice(
                (
                    "km",
                    "kg",
                    "g",
                    "m",
                    "cm",
                    "mm",
                    "ml",
                    "l",
                    "h",
                    "min",
                    "mg",
                    "lbs",
                    "oz",
                    "ft",
                    "in",
                    "miles",
                    "°C",
                    "°F",
                    "GB",
                    "MB",
                )
            )
            sep = rng.choice((" ", ""))
            return f"{self._number()}{sep}{unit}"
        if kind == 9:
            return f"{rng.randint(1, 31)}{_ordinal(rng.randint(1, 31))}"
        if kind == 10:
            return (
                rng.choice(("www.", "https://", ""))
                + self._word().lower()
                + rng.choice(
                    (".com", ".org", ".net", ".co.uk", ".io", ".fr", "/docs", ".com/about")
                )
            )
        if kind == 11:
            letters = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(2, 4)))
            return letters + rng.choice(
                ("", "-" + str(rng.randint(1, 999)), str(rng.randint(1, 99)))
            )
        return f"{rng.randint(1, 12)}/{rng.randint(2, 12)}"

    def _date(self) -> str:
        rng = self.rng
        d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1900, 2035)
        month = MONTHS[m - 1]
        return rng.choice(
            (
                f"{d:02d}/{m:02d}/{y}",
                f"{d}/{m}/{y % 100:02d}",
                f"{y}-{m:02d}-{d:02d}",
                f"{d} {month} {y}",
                f"{month} {d}, {y}",
                f"{month[:3]}. {d}",
                f"{rng.choice(WEEKDAYS)} {d}{_ordinal(d)}",
                f"{rng.choice(WEEKDAYS)[:3]} {d} {month[:3]}",
                f"{d}.{m}.{y}",
            )
        )

    def _time(self) -> str:
        rng = self.rng
        h, m = rng.randint(0, 23), rng.choice((0, 0, 15, 30, 45, rng.randint(0, 59)))
        h12 = h % 12 or 12
        return rng.choice(
            (
                f"{h}:{m:02d}",
                f"{h:02d}:{m:02d}",
                f"{h12}{rng.choice(('am', 'pm', ' am', ' pm'))}",
                f"{h12}.{m:02d}{rng.choice(('am', 'pm'))}",
                f"{h}h{m:02d}",
                f"{h}h",
                f"{h12}:{m:02d}-{(h12 % 12) + 1}:{m:02d}",
            )
        )

    def _price(self) -> str:
        rng = self.rng
        amount = rng.choice(
            (rng.randint(1, 99), rng.randint(1, 5000), round(rng.uniform(0, 200), 2))
        )
        text = f"{amount:,.2f}" if isinstance(amount, float) else f"{amount:,}"
        if rng.random() < 0.3:
            text = text.replace(",", " ").replace(".", ",")
        symbol = rng.choice(("£", "€", "$", "$", "£"))
        return rng.choice(
            (
                f"{symbol}{text}",
                f"{text} {symbol}",
                f"{text}{symbol}",
                f"{rng.randint(1, 99)}p",
                f"{text} EUR",
                f"USD {text}",
            )
        )

    def _number(self) -> str:
        rng = self.rng
        return rng.choice(
            (
                str(rng.randint(0, 9)),
                str(rng.randint(10, 999)),
                f"{rng.randint(1000, 99999):,}",
                f"{rng.uniform(0, 100):.1f}",
                f"{rng.uniform(0, 10):.2f}",
                f"{rng.randint(1, 20)}-{rng.randint(21, 60)}",
                f"#{rng.randint(1, 500)}",
                f"{rng.randint(1, 9)}/{rng.randint(2, 10)}",
                f"-{rng.randint(1, 40)}",
                f"x{rng.randint(2, 12)}",
                f"No. {rng.randint(1, 200)}",
                f"{rng.randint(1, 9)}½",
            )
        )

    def _email(self) -> str:
        rng = self.rng
        first, last = self.vocab.sample(rng), self.vocab.sample(rng)
        user = rng.choice(
            (
                f"{first}.{last}",
                f"{first[0]}{last}",
                f"{first}{rng.randint(1, 99)}",
                f"{first}_{last}",
            )
        )
        return f"{user}@{rng.choice(DOMAINS)}".lower()

    def _phone(self) -> str:
        rng = self.rng
        digits = lambda n: "".join(rng.choices(string.digits, k=n))  # noqa: E731
        return rng.choice(
            (
                f"+44 {digits(2)} {digits(4)} {digits(4)}",
                f"({digits(3)}) {digits(3)}-{digits(4)}",
                f"0{digits(1)} {digits(2)} {digits(2)} {digits(2)} {digits(2)}",
                f"{digits(3)}-{digits(4)}",
                f"+1 {digits(3)} {digits(3)} {digits(4)}",
            )
        )


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _curly_quotes(text: str) -> str:
    out = []
    double_open = True
    for i, c in enumerate(text):
        if c == "'":
            out.append("‘" if i == 0 or text[i - 1] == " " else "’")
        elif c == '"':
            out.append("“" if double_open else "”")
            double_open = not double_open
        else:
            out.append(c)
    return "".join(out)


def _truncate(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > 0 else max_chars].rstrip()
