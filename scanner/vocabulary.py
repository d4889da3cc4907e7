"""Category labels -> standard purposes, in English, French, German, Spanish and Italian.

    purposes_for_label("Cookies publicitaires")   # ["marketing"]
    purposes_for_label("Nur technisch notwendige") # ["necessary"]
    purposes_for_label("Sonstiges")                # [] : unknown, treat as needing consent

The words live in rules/categories.yaml (reviewable data); this module only matches them.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import yaml

from .paths import rules_dir

PURPOSES = ("necessary", "preferences", "analytics", "marketing", "media")
OPTIONAL_PURPOSES = PURPOSES[1:]
FILE_NAME = "categories.yaml"


def fold(text: str) -> str:
    """Lower case, accents removed, apostrophes unified, words separated by single spaces."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("’", "'")
    return " ".join(re.findall(r"[a-z0-9']+", text.replace("'", "' ")))


class Vocabulary:
    def __init__(self, purposes: dict[str, list[str]], negations: list[str]) -> None:
        self.negations = frozenset(fold(n) for n in negations)
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for purpose in PURPOSES:
            alternatives = []
            for phrase in purposes.get(purpose) or []:
                phrase = str(phrase)
                star = phrase.endswith("*")
                words = fold(phrase.rstrip("*"))
                if not words:
                    continue
                alternatives.append(re.escape(words) + (r"[a-z0-9]*" if star else ""))
            if alternatives:
                # (?<![a-z0-9']) / (?![a-z0-9]): whole words of the folded label
                body = "|".join(sorted(alternatives, key=len, reverse=True))
                self._patterns.append((purpose, re.compile(rf"(?<![a-z0-9'])(?:{body})(?![a-z0-9])")))

    def purposes(self, label: str) -> list[str]:
        """The standard purposes a label names, in PURPOSES order; [] when it names none."""
        text = fold(label)
        found = []
        for purpose, pattern in self._patterns:
            for match in pattern.finditer(text):
                before = text[:match.start()].split()
                if before and before[-1] in self.negations:
                    continue  # "non essentiels", "nicht notwendige"
                found.append(purpose)
                break
        return found


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    data = yaml.safe_load((rules_dir() / FILE_NAME).read_text(encoding="utf-8")) or {}
    return Vocabulary(data.get("purposes") or {}, data.get("negations") or [])


def purposes_for_label(label: str) -> list[str]:
    return default_vocabulary().purposes(label)
