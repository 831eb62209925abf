"""SMS text: E.164 numbers, GSM-7 or UCS-2, segment counts, transliteration, languages."""

from __future__ import annotations

import pytest

from services.notifier.ports import PermanentDeliveryError
from services.notifier.sms_text import (
    compose_sms,
    encoding_of,
    normalise_number,
    segments_of,
    transliterate,
)
from tests.unit.notifier.conftest import notice_of, seat_assigned

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("064 123 4567", "+381641234567"),
        ("+381 64 123-4567", "+381641234567"),
        ("011 3226 000", "+381113226000"),
        ("+387 61 123 456", "+38761123456"),
    ],
)
def test_numbers_are_normalised_to_e164_with_serbia_as_default(raw: str, e164: str) -> None:
    assert normalise_number(raw) == e164


@pytest.mark.parametrize("raw", ["12", "not a number", "+381 1"])
def test_invalid_numbers_are_a_permanent_failure(raw: str) -> None:
    with pytest.raises(PermanentDeliveryError):
        normalise_number(raw)


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # the euro sign takes two septets
        ("€" * 81, "GSM-7", 2),
        ("č" * 70, "UCS-2", 1),
        ("č" * 71, "UCS-2", 2),
        ("Ћ" * 134, "UCS-2", 2),
        ("Ћ" * 135, "UCS-2", 3),
    ],
)
def test_encoding_and_segments(text: str, encoding: str, segments: int) -> None:
    assert (encoding_of(text), segments_of(text)) == (encoding, segments)


def test_transliteration_turns_serbian_into_gsm7() -> None:
    text = transliterate("Подсетник: „Јавне набавке” Đorđe Šćekić, Џеп, Љиљана, Њива")
    assert text == 'Podsetnik: "Javne nabavke" Djordje Scekic, Dzep, Ljiljana, Njiva'
    assert encoding_of(text) == "GSM-7"


@pytest.mark.parametrize(
    ("language", "start"),
    [
        ("sr-Latn", "Podsetnik: „Javne nabavke u praksi” sreda, 10. 6. 2026. 09:30"),
        ("sr-Cyrl", "Подсетник: „Javne nabavke u praksi” среда, 10. 6. 2026. 09:30"),
        ("bs", "Podsjetnik: „Javne nabavke u praksi” srijeda, 10. 6. 2026. 09:30"),
        ("en", 'Reminder: "Javne nabavke u praksi" Wednesday, 10 June 2026 09:30'),
    ],
)
def test_the_reminder_sms_in_each_language_names_the_zone(language: str, start: str) -> None:
    event = seat_assigned(attendee={"language": language, "phone": "+381641234567"})
    sms = compose_sms(notice_of(event, "reminder", channel="sms"), reference="k")
    assert sms.text.startswith(start)
    assert "(Europe/Belgrade)" in sms.text
    assert (sms.to, sms.reference) == ("+381641234567", "k")


def test_transliterated_sms_fits_gsm7() -> None:
    event = seat_assigned(attendee={"language": "sr-Cyrl", "phone": "+381641234567"})
    notice = notice_of(event, "reminder", channel="sms")
    plain, gsm = (
        compose_sms(notice, reference="k"),
        compose_sms(notice, reference="k", gsm_only=True),
    )
    assert (plain.encoding, gsm.encoding) == ("UCS-2", "GSM-7")
    assert gsm.segments < plain.segments
    assert gsm.text.startswith('Podsetnik: "Javne nabavke u praksi" sreda, 10. 6. 2026. 09:30')
