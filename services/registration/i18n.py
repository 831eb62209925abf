"""Message catalogues of the registration pages: one YAML file per language, the same keys in each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import get_args

import yaml

from shared.contracts import Language

MESSAGES_DIR = Path(__file__).parent / "messages"
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "sr-Latn"
HTML_LANG = {"sr-Latn": "sr-Latn", "sr-Cyrl": "sr-Cyrl", "bs": "bs", "en": "en"}


@dataclass(frozen=True)
class Messages:
    """The texts of one language."""

    language: Language
    texts: dict[str, str]

    def __call__(self, key: str, **values: object) -> str:
        """The text for `key`, with `{name}` placeholders filled in."""
        text = self.texts[key]
        return text.format(**values) if values else text

    def day(self, value: date) -> str:
        """A date as people in this language write it."""
        if self.language == "en":
            return f"{value.day} {value:%b %Y}"
        return f"{value:%d.%m.%Y.}"


@cache
def messages(language: Language) -> Messages:
    """Load (once) the catalogue of a language."""
    raw = yaml.safe_load((MESSAGES_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
    return Messages(language, {str(k): str(v) for k, v in raw.items()})


def pick_language(requested: str | None) -> Language:
    """The requested language if we have it, else Serbian (Latin script)."""
    for language in LANGUAGES:
        if requested == language:
            return language
    return DEFAULT_LANGUAGE
