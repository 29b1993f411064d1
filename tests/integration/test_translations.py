"""English and Dutch: every text is translated, and each page speaks the reader's language."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy import update

from sfs.app import Services
from sfs.i18n import LOCALE_DIR, translator
from sfs.metadata.models import User
from tests.signed_in import log_in
from tests.support import csrf_token_in, read_outbox
from tests.world import CLIENT, actor, make_tenant

ROOT = Path(__file__).resolve().parents[2]
# As the Makefile's `messages` target extracts: the defaults and sfs.i18n.plural_message.
KEYWORDS = {**DEFAULT_KEYWORDS, "plural_message": (1, 2)}
DUTCH_PO = LOCALE_DIR / "nl" / "LC_MESSAGES" / "messages.po"


def _dutch_catalogue() -> Catalog:
    with DUTCH_PO.open("rb") as source:
        return read_po(source, locale="nl")


def _extracted_msgids() -> dict[str | tuple[str, ...], str]:
    """Every msgid in the code and templates now, with where it was found."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str | tuple[str, ...], str] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        key = message if isinstance(message, str) else tuple(message)
        found.setdefault(key, f"{filename}:{line}")
    return found


def test_every_text_in_code_and_templates_has_a_dutch_translation() -> None:
    catalogue = _dutch_catalogue()
    extracted = _extracted_msgids()
    # the extraction really reads both the templates and the code
    assert "Organisation settings" in extracted and "Enter a whole number." in extracted
    # ... and the emails and the service messages (values and plural forms included)
    for text in (
        "Your Secure File Sync authentication code",
        "Your two-factor authentication was reset",
        "You are invited to Secure File Sync (%(organisation)s)",
        "%(name)s already exists in this folder.",
        (
            "Wrong code. %(num)d try left for this code.",
            "Wrong code. %(num)d tries left for this code.",
        ),
    ):
        assert text in extracted, text
    untranslated = []
    for msgid, where in sorted(extracted.items(), key=lambda item: item[1]):
        entry = catalogue.get(msgid[0] if isinstance(msgid, tuple) else msgid)
        strings = (
            ()
            if entry is None
            else (entry.string,)
            if isinstance(entry.string, str)
            else tuple(entry.string)
        )
        if entry is None or entry.fuzzy or not strings or not all(strings):
            untranslated.append(f"{where}: {msgid!r}")
    assert not untranslated, (
        "Texts without a Dutch translation (run `make messages`, translate them in "
        f"{DUTCH_PO.relative_to(ROOT)}):\n" + "\n".join(untranslated)
    )


def test_dutch_translations_keep_every_placeholder() -> None:
    problems = [
        f"{message.id!r}: {error}"
        for message, errors in _dutch_catalogue().check()
        for error in errors
    ]
    assert not problems, "\n".join(problems)


def test_the_compiled_dutch_catalogue_is_current() -> None:
    compiled = DUTCH_PO.with_suffix(".mo")
    assert compiled.exists(), "run `make translations` (make test does) to compile the catalogue"
    assert compiled.stat().st_mtime >= DUTCH_PO.stat().st_mtime, "run `make translations`"


def test_emails_and_other_texts_outside_pages_can_be_translated() -> None:
    assert translator("nl")("Two-factor authentication") == "Tweestapsverificatie"
    assert translator("en")("Two-factor authentication") == "Two-factor authentication"
    assert translator("nl")("A text nobody translated") == "A text nobody translated"


def test_the_browsers_language_chooses_the_login_page_language(client: TestClient) -> None:
    dutch = client.get("/login", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})
    assert '<html lang="nl">' in dutch.text
    assert "<h1>Inloggen</h1>" in dutch.text and "Wachtwoord" in dutch.text
    assert dutch.headers["content-language"] == "nl"
    english = client.get("/login", headers={"Accept-Language": "de-DE,en;q=0.5"})
    assert '<html lang="en">' in english.text and "<h1>Log in</h1>" in english.text
    assert '<html lang="en">' in client.get("/login").text


def _choose_language(services: Services, user_id: object, language: str) -> None:
    with services.database.transaction() as session:
        session.execute(update(User).where(User.id == user_id).values(language=language))


def test_the_users_choice_beats_the_browsers_language(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    _choose_language(services, acme.admin.id, "nl")
    log_in(client, acme.admin.email)
    client.headers["Accept-Language"] = "en-GB,en;q=0.9"
    page = client.get("/organisation")
    assert '<html lang="nl">' in page.text
    assert "<h1>Organisatie-instellingen</h1>" in page.text
    assert "Tweestapsverificatie verplichten" in page.text
    assert '<a href="/audit">Auditlog</a>' in page.text
    assert "Gebeurtenissen worden bewaard" in client.get("/audit").text
    _choose_language(services, acme.admin.id, "en")
    assert "<h1>Organisation settings</h1>" in client.get("/organisation").text


def test_error_pages_and_service_messages_are_translated(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    _choose_language(services, acme.admin.id, "nl")
    log_in(client, acme.admin.email)
    refused = client.get("/provider")
    assert refused.status_code == 403
    assert "<h1>Niet toegestaan</h1>" in refused.text
    assert "Alleen beheerders van de provider kunnen de providerconsole gebruiken." in refused.text
    bad_date = client.get("/audit", params={"date_from": "gisteren"})
    assert "Vul datums in als JJJJ-MM-DD." in bad_date.text


def test_emails_speak_the_recipients_language_with_plural_forms_right(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    _choose_language(services, acme.user.id, "nl")
    log_in(client, acme.admin.email)  # the administrator reads English
    admin = actor(services, acme.admin)
    services.account_admin.reset_second_factor(admin, acme.user.id, client=CLIENT)
    services.second_factor.send_mailbox_code(actor(services, acme.user), client=CLIENT)
    reset, code = read_outbox(services.settings.outbox_dir)[-2:]
    assert reset["Subject"] == "Uw tweestapsverificatie is opnieuw ingesteld"
    assert "een beheerder van uw organisatie" in reset.get_content()
    assert code["Subject"] == "Uw Secure File Sync-authenticatiecode"
    assert "De code is 10 minuten geldig en werkt één keer." in code.get_content()
    assert "Uw authenticatiecode is: " in code.get_content()


def test_service_messages_with_values_are_translated_on_the_page(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    _choose_language(services, acme.admin.id, "nl")
    log_in(client, acme.admin.email)
    page = client.get(f"/accounts/{acme.user.id}/password").text
    refused = client.post(
        f"/accounts/{acme.user.id}/password",
        data={
            "csrf_token": csrf_token_in(page),
            "new_password": "umberto-acme-rocks-77",
            "confirm_password": "umberto-acme-rocks-77",
        },
    )
    assert "Het wachtwoord mag de naam van de gebruiker niet bevatten." in refused.text
    assert "Minstens 12 en hoogstens 256 tekens." in page
    short = client.post(
        f"/accounts/{acme.user.id}/password",
        data={
            "csrf_token": csrf_token_in(page),
            "new_password": "kort",
            "confirm_password": "kort",
        },
    )
    assert "Het wachtwoord moet minstens 12 tekens lang zijn." in short.text
