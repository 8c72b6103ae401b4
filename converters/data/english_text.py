"""English text from Debian's `fortunes` package, split by document for a language model.

A document is one fortune: the text between two `%` lines of a fortune file.
Each line is stripped and its runs of spaces and tabs become one space (the
files indent with both, at random); blank lines stay, one at most in a row.
Only the package's own files count (FILES, in this order): others, such as
fortunes-bofh-excuses, install into the same folder, and the corpus must not
change with what else a machine has. Its ASCII art and its Latin are left out.

Identical documents are kept once (several files repeat a quote), and each
goes to a split by a hash of its text: the train, calibration and test parts
are disjoint whatever the order of the files, and the same on every machine.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path("/usr/share/games/fortunes")
# the fortunes package's files (fortunes-min's `fortunes` among them), less ascii-art and translate-me (Latin)
FILES = ("art", "computers", "cookie", "debian", "definitions", "disclaimer", "drugs", "education", "ethnic", "food",
         "fortunes", "goedel", "humorists", "kids", "knghtbrd", "law", "linux", "linuxcookie", "literature", "love",
         "magic", "medicine", "men-women", "miscellaneous", "news", "paradoxum", "people", "perl", "pets",
         "platitudes", "politics", "pratchett", "riddles", "science", "songs-poems", "sports", "startrek", "tao",
         "wisdom", "work", "zippy")
# a document's split, by its hash modulo 100: 90 % train, 2 % calibration, 8 % test
SPLITS = {"train": range(0, 90), "calibration": range(90, 92), "test": range(92, 100)}


class CorpusMissing(FileNotFoundError):
    pass


def normalize(fortune: str) -> str:
    lines = [" ".join(line.split()) for line in fortune.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@lru_cache(maxsize=1)
def documents() -> tuple[str, ...]:
    """Every fortune of FILES, normalized, in file order, each text once."""
    missing = [f for f in FILES if not (ROOT / f).is_file()]
    if missing:
        raise CorpusMissing(f"the fortune files {', '.join(missing)} are not under {ROOT}: "
                            "`apt-get install fortunes` (Debian's English fortunes)")
    docs = (normalize(d) for f in FILES for d in re.split(r"^%$", (ROOT / f).read_text("utf-8"), flags=re.M))
    return tuple(dict.fromkeys(d for d in docs if d))


def split_of(document: str) -> str:
    bucket = int.from_bytes(hashlib.blake2b(document.encode(), digest_size=8).digest(), "little") % 100
    return next(name for name, buckets in SPLITS.items() if bucket in buckets)


def split(name: str) -> list[str]:
    """The documents of split `name` ("train", "calibration" or "test"), in corpus order."""
    if name not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {name!r}")
    return [d for d in documents() if split_of(d) == name]


def train_documents() -> list[str]:
    return split("train")


def calibration_documents() -> list[str]:
    return split("calibration")


def held_out_documents() -> list[str]:
    """The test split (not named test_* so that pytest does not collect it where a test imports it)."""
    return split("test")
