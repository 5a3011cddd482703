"""The kiosk in a real headless Chromium (Debian's `chromium`, driven by Playwright for Python) against the
real `loyalty kiosk` process: enrolment in each language, the card on screen and scanned back, a duplicate
phone refused, an unticked e-mail box storing no e-mail consent, enrolment with the keyboard alone, and the
idle timeout. Screenshots are kept under $LOYALTY_TEST_ARTIFACTS (default: <tmp>/loyalty-kiosk-screenshots).

In CI (CI=true) a missing browser or Playwright fails these tests; elsewhere they are skipped."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from kiosk_server import Kiosk

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TABLET = {"width": 1024, "height": 768}
# What the browser does with the kiosk's pages (keys, focus, the idle return, the card drawn and scanned):
# nothing of it is the database's. The same enrolments, refusals and card look-ups through the database,
# and the real kiosk process beside a selling counter, are checked on PostgreSQL by these tests:
pytestmark = pytest.mark.dialect_free(
    "a browser driving the kiosk's pages; their data path runs on PostgreSQL in the tests named",
    covered_by=("tests/test_kiosk.py::test_enrol_records_membership_and_only_the_ticked_offers",
                "tests/test_kiosk.py::test_duplicate_phone_or_email_is_refused_without_saying_whose",
                "tests/test_kiosk.py::test_my_card_by_signed_code_only",
                "tests/test_kiosk.py::test_start_screen_speaks_the_shops_language_and_nothing_is_cached",
                "tests/test_kiosk_server.py::test_counter_sells_while_the_kiosk_enrolls"))
# Each language's shop: a country (its currency, locale and phone region) and a local mobile number.
SHOPS = {"pt_PT": ("PT", "912 345 678", "pontos"), "ro": ("RO", "0712 345 678", "puncte"),
         "it": ("IT", "312 345 6789", "punti"), "es": ("ES", "612 345 678", "puntos")}
# A birthday typed the way each page shows it (day first; Romanian with dots), and the page's example.
BIRTHDAYS = {"pt_PT": ("02/04/1990", "31/12/1990"), "ro": ("02.04.1990", "31.12.1990"),
             "it": ("02/04/1990", "31/12/1990"), "es": ("02/04/1990", "31/12/1990")}


def _missing(why: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{why}: CI installs it (.ci/run: Debian's chromium; the test extra: playwright)")
    pytest.skip(why)


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):
        _missing("chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots() -> Path:
    folder = Path(os.environ.get("LOYALTY_TEST_ARTIFACTS") or Path(tempfile.gettempdir()) / "loyalty-kiosk-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(chromium):
    # An en-US browser: the page must not follow its month-first dates.
    context = chromium.new_context(viewport=TABLET, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def shop_in(cli, country: str) -> None:
    assert cli("program", "set", "country", country).exit_code == 0


def consents_of(database, phone_digits: str) -> tuple:
    from sqlalchemy import select

    from loyaltycli.services import consent
    from loyaltycli.store.models import Customer

    with database.session(write=False) as session:
        customer = session.execute(select(Customer).where(Customer.phone.like(f"%{phone_digits}"))).scalar_one()
        return customer, {row["channel"]: (row["given"], row["how"], row["version"])
                          for row in consent.history(session, customer.id)}


@pytest.mark.parametrize("lang", list(SHOPS))
def test_enrol_see_the_card_and_scan_it_back(lang, cli, database, page, shots):
    from loyaltycli.services.consent import WORDING_VERSION

    country, phone, points_word = SHOPS[lang]
    shop_in(cli, country)
    with Kiosk() as kiosk:
        page.goto(kiosk.url + "/")
        assert page.get_attribute("html", "lang") == lang.replace("_", "-")  # the shop's language
        page.click("#join")
        page.fill("#name", "Ana Test")
        page.fill("#phone", phone)
        page.fill("#email", f"ana.{lang.lower()}@example.eu")
        typed, example = BIRTHDAYS[lang]
        assert page.get_attribute("#birthday", "placeholder") == example
        assert example in page.text_content("#birthday-hint")
        page.focus("#birthday")
        page.keyboard.type(typed)
        page.check("#membership")  # the e-mail and SMS boxes stay unticked
        page.screenshot(path=str(shots / f"kiosk-{lang}-join.png"), full_page=True)
        page.click("#submit")
        page.wait_for_selector("#qr svg")
        code = page.text_content("#code").strip()
        assert re.fullmatch(r"LC1\.[A-Z2-7]{8}\.\d+\.[A-Z2-7]{12}", code)
        page.screenshot(path=str(shots / f"kiosk-{lang}-card.png"), full_page=True)
        customer, answers = consents_of(database, phone.replace(" ", "")[-6:])
        assert customer.language == lang and customer.email == f"ana.{lang.lower()}@example.eu"
        assert str(customer.birthday) == "1990-04-02"
        assert answers == {"membership": (True, "kiosk", WORDING_VERSION)}  # no e-mail consent stored
        assert not customer.consent

        assert cli("purchase", customer.code, "12,50").exit_code == 0
        page.click("#done")
        page.click("#my-card")
        page.wait_for_selector("#code:focus")  # the scanner types here
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        page.wait_for_selector("#points")
        assert page.text_content("#points") == str(cli.json("balance", customer.code)["balance"])
        assert re.search(r"\d,\d\d", page.text_content("#value"))  # the locale's decimal comma
        assert points_word in page.text_content("#card")  # the catalogs the CLI speaks
        assert code not in page.url and "?" not in page.url
        page.screenshot(path=str(shots / f"kiosk-{lang}-my-card.png"), full_page=True)


def test_duplicate_phone_refused_in_the_page(cli, page, shots, database):
    assert cli("enroll", "Aoife Byrne", "--phone", "0851234567").exit_code == 0
    with Kiosk("--lang", "en") as kiosk:
        page.goto(kiosk.url + "/en/join")
        page.fill("#phone", "085 123 4567")
        page.check("#membership")
        page.click("#submit")
        problem = page.text_content("#problem")
        page.screenshot(path=str(shots / "kiosk-duplicate.png"), full_page=True)
    assert "This phone number is already registered" in problem
    assert "Aoife" not in page.content() and "C000001" not in page.content()
    assert cli.json("customer", "list")[-1]["code"] == "C000001"


def _tab_to(page, element_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_keyboard_only_enrolment(cli, database, page, shots):
    from loyaltycli.services.consent import WORDING_VERSION

    with Kiosk("--lang", "en") as kiosk:
        page.goto(kiosk.url + "/")
        _tab_to(page, "join")
        page.keyboard.press("Enter")
        page.wait_for_selector("#name:focus")
        page.keyboard.type("Keyboard Kate")
        page.keyboard.press("Tab")
        page.keyboard.type("0857654321")
        page.keyboard.press("Tab")
        page.keyboard.type("kate@example.ie")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "birthday"
        page.keyboard.type("29/02/2000")
        _tab_to(page, "membership")
        page.keyboard.press("Space")
        page.keyboard.press("Tab")  # the e-mail offers box: left unticked
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "sms-offers"
        page.keyboard.press("Space")
        _tab_to(page, "submit")
        page.screenshot(path=str(shots / "kiosk-keyboard.png"), full_page=True)
        page.keyboard.press("Enter")
        page.wait_for_selector("#qr svg")
    customer, answers = consents_of(database, "857654321")
    assert customer.name == "Keyboard Kate" and customer.email == "kate@example.ie"
    assert str(customer.birthday) == "2000-02-29"
    assert answers == {"membership": (True, "kiosk", WORDING_VERSION), "sms": (True, "kiosk", WORDING_VERSION)}


def test_language_switch_and_idle_return_to_start(cli, page):
    assert cli("enroll", "Aoife Byrne", "--phone", "0851234567").exit_code == 0
    code = cli("pass", "show", "C000001", "--quiet").stdout.strip()
    with Kiosk("--lang", "en", "--idle", "5") as kiosk:
        page.goto(kiosk.url + "/")
        page.click("a[data-lang=ro]")
        assert page.get_attribute("html", "lang") == "ro"
        page.click("#my-card")
        page.wait_for_selector("#code:focus")
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        page.wait_for_selector("#points")
        assert "Aoife Byrne" in page.content()
        page.wait_for_url(kiosk.url + "/en/", timeout=60_000)  # left alone: the start screen, the shop's language
        assert "Aoife" not in page.content()
        page.go_back()  # the card's page is not in the history to come back to
        assert "Aoife" not in page.content()


def test_a_birthday_that_is_no_date_is_explained_the_pages_way(cli, database, page, shots):
    shop_in(cli, "RO")
    with Kiosk("--lang", "ro") as kiosk:
        page.goto(kiosk.url + "/ro/join")
        page.fill("#phone", "0712 345 679")
        page.focus("#birthday")
        page.keyboard.type("31.02.1990")
        page.check("#membership")
        page.click("#submit")
        problem = page.text_content("#problem")
        page.screenshot(path=str(shots / "kiosk-ro-birthday.png"), full_page=True)
        assert "31.02.1990" in problem and "31.12.1990" in problem
        assert page.input_value("#birthday") == "31.02.1990"  # kept, to be mended
        page.fill("#birthday", "28.02.1990")
        page.click("#submit")
        page.wait_for_selector("#qr svg")
    customer, _answers = consents_of(database, "345679")
    assert str(customer.birthday) == "1990-02-28"
