"""The HTML form over HTTP: four languages, per-field errors with answers kept, honest failures."""

from __future__ import annotations

from typing import Any

import pytest

from services.registration.i18n import LANGUAGES, messages
from shared.contracts import RegistrationSubmittedV1
from tests.service.registration.conftest import MakeRegistry, Registry

pytestmark = pytest.mark.service

URL = "/register/social-networks-lsg"
FILLED = {
    "full_name": "Milica Primerović",
    "email": "milica@example.org",
    "phone": "064 123 4567",
    "organisation": "Opština Primer",
    "language": "sr-Cyrl",
    "preference_1": "sn-training-2",
    "preference_2": "sn-training-4",
    "unavailable_dates": ["2027-06-09", "2027-07-07"],
    "consent_email": "yes",
    "form_token": "token-1",
}


def test_every_language_has_the_same_messages() -> None:
    keys = [set(messages(language).texts) for language in LANGUAGES]
    assert all(k == keys[0] for k in keys)
    assert set(LANGUAGES) == {"sr-Latn", "sr-Cyrl", "bs", "en"}


@pytest.mark.parametrize(
    ("lang", "html_lang", "submit"),
    [
        (None, "sr-Latn", "Prijavi se"),
        ("sr-Latn", "sr-Latn", "Prijavi se"),
        ("sr-Cyrl", "sr-Cyrl", "Пријави се"),  # noqa: RUF001
        ("bs", "bs", "Prijavi se"),
        ("en", "en", "Register"),
        ("de", "sr-Latn", "Prijavi se"),
    ],
)
async def test_form_in_each_language(
    registry: Registry, lang: str | None, html_lang: str, submit: str
) -> None:
    response = await registry.client.get(URL, params={"lang": lang} if lang else {})
    assert response.status_code == 200
    assert f'<html lang="{html_lang}">' in response.text
    assert f'<button type="submit">{submit}</button>' in response.text
    assert '<label for="email">' in response.text
    assert 'name="preference_5"' in response.text
    assert 'value="2027-06-08"' in response.text


async def test_unknown_programme_form_is_404(registry: Registry) -> None:
    assert (await registry.client.get("/register/nope")).status_code == 404
    assert (await registry.client.post("/register/nope", data=FILLED)).status_code == 404


async def test_form_registers_and_a_double_submit_is_one_registration(registry: Registry) -> None:
    for _ in range(2):
        response = await registry.client.post(URL, params={"lang": "en"}, data=FILLED)
        assert response.status_code == 200
        assert "Thank you" in response.text
    [event] = registry.of(RegistrationSubmittedV1)
    assert event.registrant.language == "sr-Cyrl"
    assert event.preferences == ("sn-training-2", "sn-training-4")
    assert [d.isoformat() for d in event.unavailable_dates] == ["2027-06-09", "2027-07-07"]
    assert (event.registrant.consent_email, event.registrant.consent_sms) == (True, False)


async def test_errors_are_per_field_and_answers_are_kept_escaped(registry: Registry) -> None:
    data: dict[str, Any] = {
        **FILLED,
        "email": "milica@",
        "full_name": "",
        "organisation": '<script>alert("x")</script>',
    }
    response = await registry.client.post(URL, params={"lang": "en"}, data=data)
    assert response.status_code == 422
    text = response.text
    assert 'id="email-error">Enter a valid email address' in text
    assert 'aria-describedby="email-hint email-error" aria-invalid="true"' in text
    assert 'id="full_name-error">This field is required.' in text
    assert 'value="milica@"' in text
    assert "<script>alert" not in text
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in text
    assert 'value="2027-06-09" checked' in text
    assert '<option value="sn-training-4" selected>' in text
    assert registry.of(RegistrationSubmittedV1) == []


async def test_phone_from_another_country_is_shown_at_the_phone_field(registry: Registry) -> None:
    data = {**FILLED, "phone": "+49 151 23456789"}
    response = await registry.client.post(URL, params={"lang": "bs"}, data=data)
    assert response.status_code == 422
    assert 'id="phone-error">Brojevi telefona iz ove zemlje nisu prihvaćeni.' in response.text


async def test_form_rate_limit_is_a_429_page(make_registry: MakeRegistry) -> None:
    async with make_registry(rate_limit_per_address="1/minute") as registry:
        await registry.client.post(URL, data=FILLED)
        refused = await registry.client.post(URL, data={**FILLED, "email": "b@example.org"})
        assert refused.status_code == 429
        assert "Retry-After" in refused.headers
        assert "Previše pokušaja" in refused.text


async def test_form_while_kafka_is_down_keeps_the_answers(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*_: Any, **__: Any) -> None:
        raise ConnectionError("down")

    monkeypatch.setattr(registry.broker, "publish", refuse)
    response = await registry.client.post(URL, data=FILLED)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert 'value="milica@example.org"' in response.text
    assert 'value="token-1"' in response.text, "the same token lets the retry stay idempotent"
    monkeypatch.undo()
    assert (await registry.client.post(URL, data=FILLED)).status_code == 200
    assert len(registry.of(RegistrationSubmittedV1)) == 1
