"""SMS text, pure: the number in E.164, GSM-7 or UCS-2, segment count, optional transliteration."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import phonenumbers

from services.notifier import wording
from services.notifier.notices import Notice
from services.notifier.ports import PermanentDeliveryError

Encoding = Literal["GSM-7", "UCS-2"]
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"
CYRILLIC_LETTERS = "абвгдђежзијклљмнњопрстћуфхцчџш"
LATIN_LETTERS = "a b v g d đ e ž z i j k l lj m n nj o p r s t ć u f h c č dž š"
CYRILLIC = dict(zip(CYRILLIC_LETTERS, LATIN_LETTERS.split(" "), strict=True))
LATIN = {
    "č": "c",
    "ć": "c",
    "ž": "z",
    "š": "s",
    "đ": "dj",
    "„": '"',
    "”": '"',
    "“": '"',
    "\N{EN DASH}": "-",
}


@dataclass(frozen=True)
class SmsMessage:
    """One SMS as a provider receives it; `reference` is the notification key (idempotency)."""

    to: str
    text: str
    reference: str
    encoding: Encoding
    segments: int


def normalise_number(raw: str, region: str = "RS") -> str:
    """The number in E.164, or PermanentDeliveryError when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise PermanentDeliveryError("SMS number cannot be parsed") from None
    if not phonenumbers.is_valid_number(number):
        raise PermanentDeliveryError("SMS number is not valid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def transliterate(text: str) -> str:
    """Serbian Cyrillic to Latin, then Latin diacritics to plain GSM-7 letters."""
    out = []
    for char in text:
        lower = char.lower()
        latin = CYRILLIC.get(lower, lower)
        latin = "".join(LATIN.get(c, c) for c in latin)
        out.append(latin.capitalize() if char != lower else latin)
    return "".join(out)


def encoding_of(text: str) -> Encoding:
    """GSM-7 when every character is in the GSM 03.38 alphabet, otherwise UCS-2."""
    allowed = GSM7_BASIC + GSM7_EXTENSION
    return "GSM-7" if all(char in allowed for char in text) else "UCS-2"


def segments_of(text: str) -> int:
    """How many SMS segments the text takes (160/153 septets, or 70/67 UTF-16 units)."""
    if encoding_of(text) == "GSM-7":
        units = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
        single, multi = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if units <= single else math.ceil(units / multi)


def compose_sms(
    notice: Notice, *, reference: str, gsm_only: bool = False, region: str = "RS"
) -> SmsMessage:
    """Render the SMS of a notice in the recipient's language."""
    if notice.recipient.phone is None:
        raise PermanentDeliveryError("no phone number")
    values = wording.context(notice, wording.NO_ORGANIZER, {})
    text = wording.render(notice.recipient.language, "sms.txt.j2", values).strip()
    if gsm_only:
        text = transliterate(text)
    return SmsMessage(
        to=normalise_number(notice.recipient.phone, region),
        text=text,
        reference=reference,
        encoding=encoding_of(text),
        segments=segments_of(text),
    )
