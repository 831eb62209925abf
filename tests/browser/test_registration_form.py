"""The public form in real headless Chromium (Debian's package), with JavaScript switched off."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from faststream.kafka import TestKafkaBroker

from deploy.ports import free_port
from services.registration.main import create_app
from services.registration.settings import RegistrationSettings
from shared import topics
from shared.clock import ManualClock
from shared.contracts import RegistrationSubmittedV1
from shared.kafka import make_broker

playwright = pytest.importorskip("playwright.async_api")

pytestmark = [pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_INSTALLED = CHROMIUM.exists()
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO / "docs/img/registration-form.png"
ERRORS_SCREENSHOT = REPO / "docs/img/registration-form-errors.png"
FORM_URL = "/register/social-networks-lsg"


@dataclass
class Site:
    """The registration service on a real HTTP port, and what it published."""

    url: str
    published: list[RegistrationSubmittedV1] = field(default_factory=list)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    settings = RegistrationSettings(
        data_dir=tmp_path, catalogue_path=REPO / "deploy/seed/programmes.yaml"
    )
    broker = make_broker("localhost:9092", client_id="browser-test")
    app = create_app(
        settings,
        broker=broker,
        clock=ManualClock(datetime(2027, 5, 1, 9, tzinfo=UTC)),
        provision_topics=False,
    )
    published: list[RegistrationSubmittedV1] = []

    @broker.subscriber(topics.REGISTRATIONS, group_id="spy")
    async def spy(event: RegistrationSubmittedV1) -> None:
        published.append(event)

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None, lifespan="on"))
    async with TestKafkaBroker(broker):
        task = asyncio.create_task(server.serve())
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
                await asyncio.sleep(0.02)
        yield Site(f"http://127.0.0.1:{port}", published)
        server.should_exit = True
        await task


@pytest.fixture
async def page(site: Site) -> AsyncIterator[object]:
    if not CHROMIUM_INSTALLED:
        pytest.skip("Chromium is not installed (deploy/setup.sh installs Debian's chromium)")
    async with playwright.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(
            java_script_enabled=False, viewport={"width": 820, "height": 900}
        )
        yield await context.new_page()
        await browser.close()


async def test_fill_in_and_register_without_javascript(site: Site, page: object) -> None:
    p: playwright.Page = page  # type: ignore[assignment]
    await p.goto(f"{site.url}{FORM_URL}?lang=sr-Latn")
    assert await p.get_attribute("html", "lang") == "sr-Latn"
    await p.screenshot(path=str(SCREENSHOT), full_page=True)
    await p.get_by_label("Ime i prezime").fill("Milica Primerović")
    await p.get_by_label("Imejl adresa").fill("milica@example.org")
    await p.get_by_label("Mobilni telefon").fill("064 123 4567")
    await p.get_by_label("Grad, opština ili institucija").fill("Opština Primer")
    await p.get_by_label("1. izbor").select_option("sn-training-3")
    await p.get_by_label("2. izbor").select_option("sn-training-1")
    await p.get_by_label("08.06.2027.").check()
    await p.get_by_label("Saglasan/na sam da primam SMS").check()
    await p.get_by_role("button", name="Prijavi se").click()
    await p.wait_for_load_state()
    assert await p.locator("h1").inner_text() == "Hvala"
    [event] = site.published
    assert event.registrant.full_name == "Milica Primerović"
    assert event.registrant.phone == "+381641234567"
    assert event.preferences == ("sn-training-3", "sn-training-1")
    assert [d.isoformat() for d in event.unavailable_dates] == ["2027-06-08"]
    assert event.registrant.consent_sms is True


async def test_errors_are_shown_next_to_their_fields_and_answers_are_kept(
    site: Site, page: object
) -> None:
    p: playwright.Page = page  # type: ignore[assignment]
    await p.goto(f"{site.url}{FORM_URL}?lang=en")
    await p.get_by_label("Email address").fill("not an email")
    await p.get_by_label("City, municipality or institution").fill("Grad Primer")
    await p.get_by_label("Choice 1").select_option("sn-training-2")
    await p.get_by_label("Choice 2").select_option("sn-training-2")
    await p.get_by_role("button", name="Register").click()
    await p.wait_for_load_state()
    email = p.get_by_label("Email address")
    assert await email.get_attribute("aria-invalid") == "true"
    assert "email-error" in (await email.get_attribute("aria-describedby") or "")
    assert await p.locator("#email-error").inner_text() == (
        "Enter a valid email address, e.g. name@example.org."
    )
    assert "required" in await p.locator("#full_name-error").inner_text()
    assert "only once" in await p.locator("#preferences-error").inner_text()
    assert await email.input_value() == "not an email"
    assert await p.get_by_label("City, municipality or institution").input_value() == "Grad Primer"
    assert await p.get_by_label("Choice 1").input_value() == "sn-training-2"
    assert await p.locator(".summary a[href='#email']").count() == 1
    assert site.published == []
    await p.set_viewport_size({"width": 390, "height": 844})  # a phone
    await p.screenshot(path=str(ERRORS_SCREENSHOT))


async def test_every_control_has_a_label_and_keyboard_order_follows_the_form(
    site: Site, page: object
) -> None:
    p: playwright.Page = page  # type: ignore[assignment]
    await p.goto(f"{site.url}{FORM_URL}?lang=bs")
    controls = p.locator("input:not([type=hidden]), select")
    for index in range(await controls.count()):
        control = controls.nth(index)
        control_id = await control.get_attribute("id")
        assert await p.locator(f"label[for='{control_id}']").count() == 1, control_id
    assert await p.locator("fieldset > legend").count() >= 3
    order = []
    for _ in range(40):
        await p.keyboard.press("Tab")
        order.append(
            await p.evaluate("document.activeElement.id || document.activeElement.tagName")
        )
    wanted = ["full_name", "email", "phone", "organisation", "role", "language", "preference_1"]
    positions = [order.index(name) for name in wanted]
    assert positions == sorted(positions), order
    assert "consent_sms" in order
