"""Customers: enroll, look up by KEY, edit; referral codes."""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.store import ledger
from loyaltycli.base.errors import (AmbiguousCustomer, DuplicateCustomer, InvalidInput, RuleNotMet,
                                    UnknownCustomer)
from loyaltycli.store.models import Customer, Referral
from loyaltycli.store.program import Program
from loyaltycli.i18n import N_, gettext

# No look-alikes: no 0/O, 1/I/L.
REFERRAL_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERRAL_LENGTH = 8
_CODE = re.compile(r"^[cC][0-9]{1,12}$")
_CARD = re.compile(r"^[A-Za-z0-9-]{4,40}$")


def customer_code(customer_id: int) -> str:
    return f"C{customer_id:06d}"


def clean_name(name: str | None) -> str:
    """A display name: trimmed, no control characters, 1 to 200 characters."""
    value = unicodedata.normalize("NFC", (name or "").strip())
    if not value:
        raise InvalidInput(gettext('name is empty'))
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise InvalidInput(gettext('name contains control characters'))
    if len(value) > 200:
        raise InvalidInput(gettext('name is longer than 200 characters'))
    return value


def normalize_phone(text: str, region: str) -> str:
    """E.164 form of a valid phone number (+353851234567)."""
    import phonenumbers

    raw = (text or "").strip()
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(gettext('phone {raw!r} is not a phone number').format(raw=raw)) from None
    if not phonenumbers.is_valid_number(number):
        prefix = phonenumbers.country_code_for_region(region or "") or 353  # the shop's own, as an example
        raise InvalidInput(gettext('phone {raw!r} is not a valid number (add the country code, e.g. {prefix}...)')
                           .format(raw=raw, prefix=f"+{prefix}"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_phone_key(key: str, region: str) -> bool:
    """A key that is a valid phone number for the shop's region (or with its +country code)."""
    if not key or key[0] not in "+0123456789" or not any(ch.isdigit() for ch in key):
        return False
    if key.isdigit() and _too_long_for_a_phone(key, region):
        return False
    try:
        normalize_phone(key, region)
    except InvalidInput:
        return False
    return True


_LENGTHS: dict[str, tuple | None] = {}


def _too_long_for_a_phone(digits: str, region: str) -> bool:
    """True when a key of digits only (no +) has more digits than any national number of the region could
    keep after the prefixes phonenumbers strips (its country code, its national prefix); the full parse
    (a sixth of an import enrolling card numbers) is then skipped. Anything unsure (an international
    prefix, a region that rewrites its prefix) is left to the parse."""
    rule = _LENGTHS.get(region, ())
    if rule == ():
        from phonenumbers import PhoneMetadata

        meta = PhoneMetadata.metadata_for_region(region.upper()) if region else None
        if meta is None or meta.national_prefix_transform_rule or not meta.general_desc.possible_length:
            rule = None
        else:
            rule = (max(meta.general_desc.possible_length), str(meta.country_code),
                    re.compile(meta.national_prefix_for_parsing or meta.national_prefix or "(?!)"),
                    re.compile(meta.international_prefix or "(?!)"))
        _LENGTHS[region] = rule
    if rule is None:
        return False
    longest, country_code, national, international = rule
    if international.match(digits):
        return False
    shortest = len(digits)
    for rest in (digits, digits[len(country_code):] if digits.startswith(country_code) else digits):
        match = national.match(rest)
        shortest = min(shortest, len(rest) - (match.end() if match else 0))
    return shortest > longest + 2  # a margin: never skip a number the parse might still accept


def shown_phone(e164: str | None, region: str | None = None) -> str | None:
    """A stored E.164 phone as people read it (the one phone formatter): as the shop's ``region`` writes
    it, national at home (912 345 678) and international abroad (+40 712 345 678); with no region,
    international (+351 912 345 678). A value that is not a phone number is returned as it is."""
    if not e164:
        return e164
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    home = bool(region) and phonenumbers.region_code_for_number(number) == region.upper()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL if home
                                      else phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize_email(text: str) -> str:
    """The normalized address of a syntactically valid e-mail (no DNS look-up)."""
    from email_validator import EmailNotValidError, validate_email

    raw = (text or "").strip()
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(gettext('e-mail {raw!r} is not valid: {exc}').format(raw=raw, exc=email_reason(exc))) from None
    return result.normalized.lower()


# email_validator's reasons (English), said in the person's language: (start of its message, ours).
EMAIL_REASONS = (
    ("An email address must have an @-sign", N_("it has no @")),
    ("There must be something before the @-sign", N_("nothing before the @")),
    ("There must be something after the @-sign", N_("nothing after the @")),
    ("The part after the @-sign is not valid. It should have a period", N_("the part after the @ needs a dot "
                                                                          "(example.com)")),
    ("An email address cannot have two periods in a row", N_("two dots in a row")),
    ("An email address cannot have a period immediately after the @-sign", N_("a dot right after the @")),
    ("An email address cannot end with a period", N_("it ends with a dot")),
    ("An email address cannot start with a period", N_("it starts with a dot")),
    ("The email address contains invalid characters before the @-sign", N_("characters not allowed before the @")),
    ("The part after the @-sign contains invalid characters", N_("characters not allowed after the @")),
    ("The email address is too long", N_("it is too long")),
    ("The part after the @-sign is a special-use or reserved name", N_("the part after the @ is a reserved name")),
    ("The email address contains an invalid character", N_("a character not allowed")),
)


def email_reason(exc) -> str:
    """Why an address is refused, in the person's language (email_validator speaks English only); a
    reason not known here is given as the library words it."""
    text = str(exc)
    for start, reason in EMAIL_REASONS:
        if text.startswith(start):
            return gettext(reason)
    return text


def normalize_card(text: str) -> str:
    raw = (text or "").strip()
    if not _CARD.match(raw):
        raise InvalidInput(gettext('card {raw!r} must be 4 to 40 letters, digits or dashes').format(raw=raw))
    if _CODE.match(raw):
        raise InvalidInput(gettext('card {raw!r} looks like a customer code; a KEY would name two customers').format(raw=raw))
    return raw.upper()


def _check_card_not_a_phone(session: Session, program: Program, card: str | None, exclude_id: int | None = None) -> None:
    """A card number that is another customer's phone would make that KEY name two customers."""
    other = _phone_holder(session, program, card, exclude_id)
    if other:
        raise DuplicateCustomer(gettext('card {card} is the phone number of customer {other}; a KEY would name both').format(card=card, other=other))


def _check_key_crossing(session: Session, card: str | None, tax_id: str | None,
                        exclude_id: int | None = None) -> None:
    """A card that is another customer's tax id (or a tax id that is another's card) would make that KEY
    name two customers."""
    for value, column, label, other_label in ((card, Customer.tax_id, "card", "tax id"),
                                              (tax_id, Customer.card, "tax id", "card")):
        if not value:
            continue
        other = _holder(session, column, value, exclude_id)
        if other:
            raise DuplicateCustomer(gettext("{label} {value} is the {other_label} of customer {other}; a KEY would "
                                            "name both").format(label=gettext(label), value=value,
                                                                other_label=gettext(other_label), other=other))


def _check_phone_tax_id_crossing(session: Session, program: Program, phone: str | None, tax_id: str | None,
                                 exclude_id: int | None = None) -> None:
    """A tax id that is another customer's phone (912345608 is both a Portuguese mobile and a valid NIF),
    or a phone whose digits are another customer's tax id, would make that KEY name two customers."""
    if tax_id:
        other = _phone_holder(session, program, tax_id, exclude_id)
        if other:
            raise DuplicateCustomer(gettext("tax id {value} is the phone number of customer {other}; a KEY would "
                                            "name both").format(value=tax_id, other=other))
    if phone:
        import phonenumbers

        national = str(phonenumbers.parse(phone).national_number)
        other = _holder(session, Customer.tax_id, national, exclude_id)
        if other:
            raise DuplicateCustomer(gettext("phone {value} is the tax id of customer {other}; a KEY would name "
                                            "both").format(value=national, other=other))


def _phone_holder(session: Session, program: Program, digits: str | None, exclude_id: int | None) -> str | None:
    """The code of the customer (other than ``exclude_id``) whose phone is ``digits`` read as a phone
    number of the shop's region (a card or tax id typed as a KEY would find them), if any."""
    if not digits or not digits.isdigit():
        return None
    try:
        phone = normalize_phone(digits, program.phone_region)
    except InvalidInput:
        return None
    return _holder(session, Customer.phone, phone, exclude_id)


def _holder(session: Session, column, value, exclude_id: int | None) -> str | None:
    """The code of the customer (other than ``exclude_id``) whose ``column`` holds ``value``, if any."""
    query = select(Customer.code).where(column == value)
    if exclude_id is not None:
        query = query.where(Customer.id != exclude_id)
    return session.execute(query).scalar()


def new_referral_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_LENGTH))
        if session.execute(select(Customer.id).where(Customer.referral_code == code)).first() is None:
            return code


def _check_unique(session: Session, column, value, label: str, exclude_id: int | None = None) -> None:
    if value is None:
        return
    other = _holder(session, column, value, exclude_id)
    if other:
        error = DuplicateCustomer(gettext('{label} {value} already belongs to customer {other}').format(
            label=gettext(label), value=value, other=other))
        error.field = label  # which key clashed, for a screen that must not say whose it is (the kiosk)
        raise error


@dataclass
class Profile:
    """Validated personal fields (None: not given)."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    card: str | None = None
    birthday: date | None = None
    tax_id: str | None = None


def normalize_tax_id(text: str, program: Program | None) -> str:
    """The compact form of a valid tax id for the shop's country (base/taxid.py)."""
    from loyaltycli.base import taxid

    return taxid.normalize(text, getattr(program, "country", None) if program is not None else None)


def validate_profile(program: Program, name=None, phone=None, email=None, card=None,
                     birthday: str | date | None = None, tax_id=None, today: date | None = None) -> Profile:
    """Check and normalize every given field; raises InvalidInput on the first bad one. ``today``: the day
    a birthday may not be after (enrolment's day, or now for an edit)."""
    profile = Profile(
        name=clean_name(name) if name is not None else None,
        phone=normalize_phone(phone, program.phone_region) if phone else None,
        email=normalize_email(email) if email else None,
        card=normalize_card(card) if card else None,
        birthday=(birthday if isinstance(birthday, date) else clock.parse_date(birthday, what=N_("birthday")))
        if birthday else None,
        tax_id=normalize_tax_id(tax_id, program) if tax_id else None,
    )
    if today is not None and profile.birthday and profile.birthday > today:
        raise InvalidInput(gettext('birthday is in the future'))
    return profile


def enroll(session: Session, program: Program, name: str, *, phone: str | None = None,
           email: str | None = None, card: str | None = None, birthday: str | date | None = None,
           consent: bool = False, referral_code: str | None = None, at: datetime | None = None,
           consent_how: str = "enroll --consent", tax_id: str | None = None, language: str | None = None,
           consents: dict[str, bool] | None = None, consent_version: str | None = None) -> Customer:
    """Enroll a customer: validate, refuse duplicates, link the referrer, post the welcome bonus.
    ``consents``: the answers per channel (loyaltycli/services/consent.py: membership, email, sms), recorded with
    ``consent_how`` and ``consent_version``; ``consent`` is the older single answer, the e-mail one.
    ``language``: the customer's own language (None: the shop's)."""
    from loyaltycli.services import consent as channels

    answers = dict(consents or {})
    if consent and channels.EMAIL not in answers:
        answers[channels.EMAIL] = True
    at = at or clock.now()
    profile = validate_profile(program, name, phone, email, card, birthday, tax_id, today=at.date())
    language = customer_language(language) if language else None
    # self-referral first: its reason is clearer than 'phone already belongs to ...'
    referrer = find_by_referral_code(session, referral_code) if referral_code else None
    if referrer is not None:
        if (profile.phone and profile.phone == referrer.phone) or (profile.email and profile.email == referrer.email):
            raise RuleNotMet(gettext('self-referral: code {referral_code} belongs to {code}, who has the same phone or e-mail').format(referral_code=referrer.referral_code, code=referrer.code))
        if referrer.enrolled_at > at:
            raise RuleNotMet(gettext('referral code {referral_code} was issued after {at}').format(referral_code=referrer.referral_code, at=clock.local_text(at)))
    _check_unique(session, Customer.phone, profile.phone, "phone")
    _check_unique(session, Customer.email, profile.email, "e-mail")
    _check_unique(session, Customer.card, profile.card, "card")
    _check_card_not_a_phone(session, program, profile.card)
    _check_unique(session, Customer.tax_id, profile.tax_id, "tax id")
    _check_key_crossing(session, profile.card, profile.tax_id)
    _check_phone_tax_id_crossing(session, program, profile.phone, profile.tax_id)
    customer = Customer(code="tmp-" + uuid.uuid4().hex[:10], name=profile.name, phone=profile.phone,
                        email=profile.email, card=profile.card, birthday=profile.birthday,
                        consent=bool(answers.get(channels.EMAIL)), tax_id=profile.tax_id, language=language,
                        referral_code=new_referral_code(session), enrolled_at=at)
    session.add(customer)
    session.flush()
    customer.code = customer_code(customer.id)
    session.flush()
    if referrer is not None:
        session.add(Referral(referee_id=customer.id, referrer_id=referrer.id, code=referrer.referral_code, at=at))
    if answers:
        channels.answer(session, customer, answers, how=consent_how, version=consent_version, at=at)
    from loyaltycli.engine.account import Account
    from loyaltycli.engine.earning import Engine

    # the rules of an enrollment (the welcome bonus), as the import's import_customers.enroll_many asks them
    for row in Engine(program, clock.local_zone(), clock.now()).enroll(Account(customer.id, customer.code, at), at).rows:
        _, kind, delta, when, expires, _, _, bonus_key, text, _, note_kind, note_args = row
        ledger.post(session, customer.id, kind, delta, when, expires_at=expires, bonus_key=bonus_key,
                    note=(text, note_kind, note_args))
    return customer


def check_new_field(session: Session, program: Program, field: str, value: str, *, phone: str | None = None,
                    email: str | None = None) -> str:
    """One answer of an enrollment, checked as it is typed: a phone, e-mail or card is valid and not
    anyone's yet; a referral code exists and is not the new customer's own (same ``phone`` or ``email``).
    Returns the normalized value; raises InvalidInput, DuplicateCustomer or RuleNotMet."""
    if field == "phone":
        norm = normalize_phone(value, program.phone_region)
        _check_unique(session, Customer.phone, norm, "phone")
    elif field == "email":
        norm = normalize_email(value)
        _check_unique(session, Customer.email, norm, "e-mail")
    elif field == "card":
        norm = normalize_card(value)
        _check_unique(session, Customer.card, norm, "card")
    elif field == "tax_id":
        norm = normalize_tax_id(value, program)
        _check_unique(session, Customer.tax_id, norm, "tax id")
    elif field == "referral_code":
        referrer = find_by_referral_code(session, value)
        phone = normalize_phone(phone, program.phone_region) if phone else None
        email = normalize_email(email) if email else None
        if (phone and phone == referrer.phone) or (email and email == referrer.email):
            raise RuleNotMet(gettext('self-referral: code {referral_code} belongs to {code}, who has the same phone or e-mail').format(referral_code=referrer.referral_code, code=referrer.code))
        norm = referrer.referral_code
    else:
        raise ValueError(field)
    return norm


def find_by_referral_code(session: Session, code: str) -> Customer:
    norm = (code or "").strip().upper()
    customer = session.execute(select(Customer).where(Customer.referral_code == norm)).scalar()
    if customer is None or customer.status != "active":
        raise RuleNotMet(gettext('unknown referral code {code!r}; check it with `loyalty referral code KEY`').format(code=code.strip()))
    return customer


def find(session: Session, key: str, program: Program | None = None, *, usable: bool = True) -> Customer:
    """The customer named by KEY: code, card, e-mail, phone or tax id. Unknown or ambiguous keys raise."""
    import unicodedata

    from loyaltycli.base.textkey import plain_digits

    given = (key or "").strip()
    if not given:
        raise UnknownCustomer(gettext('customer KEY is empty; give a code (C000042), card, e-mail or phone'))
    if "\x00" in given:  # nobody's key holds one, and PostgreSQL text cannot: refused before any query
        raise UnknownCustomer(gettext('customer KEY {key!r} holds a NUL character; give a code (C000042), card, e-mail or phone').format(key=given))
    from loyaltycli.services import passes

    if passes.looks_like_code(given):  # a scanned card code: signed, current, of an active customer
        return passes.customer_for_code(session, given)
    # Looked up as stored: NFC (an NFD e-mail), ASCII digits (fullwidth or Arabic-Indic ones in a phone)
    raw = unicodedata.normalize("NFC", plain_digits(given)).strip()
    candidates = [raw, raw.upper(), raw.lower()]
    if _CODE.match(raw):
        candidates.append(customer_code(int(raw[1:])))
    from loyaltycli.base.taxid import loose

    conditions = [Customer.code.in_(candidates), Customer.card.in_(candidates),
                  Customer.email == raw.lower(), Customer.phone == raw, Customer.tax_id == loose(raw)]
    matches = session.execute(select(Customer).where(or_(*conditions)).order_by(Customer.id)).scalars().all()
    if re.match(r"^[+0-9][0-9 ()./-]{5,}$", raw) and not any(c.phone == raw for c in matches):
        # the phone as typed at home (912345608): also whoever has it, beside a card or tax id of those digits
        region = program.phone_region if program else _phone_region(session)
        try:
            phone = normalize_phone(raw, region)
        except InvalidInput:
            phone = None
        if phone:
            found = session.execute(select(Customer).where(Customer.phone == phone)).scalars().all()
            matches = sorted({c.id: c for c in [*matches, *found]}.values(), key=lambda c: c.id)
    if not matches:
        import shlex  # the hint is pasted into a shell: quote what needs it ('Ann Walsh', O'Brien)

        from loyaltycli.base.errors import QUOTED_MAX

        # a KEY of thousands of characters is quoted shortened (base.errors.shortened); the hint searches its
        # beginning, a text --search takes and that still finds what contains it
        unknown = UnknownCustomer(gettext('unknown customer {raw!r}; try `loyalty customer list --search {quote}`')
                                  .format(raw=raw, quote=shlex.quote(raw[:QUOTED_MAX])))
        unknown.key = raw  # on a terminal the CLI may read it as a name (cli/byname.py)
        raise unknown
    if len(matches) > 1:
        listed = ", ".join(f"{c.code} ({c.name or shown_phone(c.phone) or '-'})" for c in matches)
        raise AmbiguousCustomer(gettext('customer {raw!r} is ambiguous: it matches {listed}; use the code').format(raw=raw, listed=listed))
    customer = matches[0]
    if usable and customer.status == "merged":
        target = session.get(Customer, customer.merged_into_id)
        raise UnknownCustomer(gettext('customer {code} was merged into {code2}; use {code3}').format(code=customer.code, code2=target.code if target else '?', code3=target.code if target else 'that code'))
    if usable and customer.status == "forgotten":
        raise UnknownCustomer(gettext('customer {code} was forgotten (personal data erased)').format(code=customer.code))
    return customer


def _phone_region(session: Session) -> str:
    """The shop's `phone_region` when the caller has no Program at hand (a look-up by KEY): the setting as
    stored, else its default."""
    from loyaltycli.store.program import read_settings, settings

    return read_settings(session).get("phone_region") or settings()["phone_region"].default


def edit(session: Session, program: Program, customer: Customer, *, name=None, phone=None, email=None,
         card=None, birthday=None, consent: bool | None = None,
         consent_how: str = "customer edit", tax_id=None, language: str | None = None,
         consents: dict[str, bool] | None = None, consent_version: str | None = None) -> Customer:
    """Change the given fields; '' clears the name, phone, e-mail, card, birthday, tax id or language (the
    shop's then), as long as something is left to find the customer by. A change of consent (``consents`` per channel; ``consent``: the e-mail answer) is recorded with
    when, ``consent_how`` and ``consent_version``."""
    from loyaltycli.services import consent as channels
    from loyaltycli.store import ledger

    ledger.lock_customer(session, customer.id)  # merged or forgotten meanwhile: refused, no data written back
    blank_name = name is not None and not name.strip()
    profile = validate_profile(program, None if blank_name else name, phone or None, email or None, card or None,
                               birthday or None, tax_id or None, today=clock.now().date())
    if name is not None:
        customer.name = None if blank_name else profile.name  # '' clears it: a phone alone is a customer
    for field_name, given in (("phone", phone), ("email", email), ("card", card), ("birthday", birthday),
                              ("tax_id", tax_id)):
        if given is None:
            continue
        value = getattr(profile, field_name)
        if field_name != "birthday":
            label = {"email": "e-mail", "tax_id": "tax id"}.get(field_name, field_name)
            _check_unique(session, getattr(Customer, field_name), value, label, exclude_id=customer.id)
        if field_name == "card":
            _check_card_not_a_phone(session, program, value, exclude_id=customer.id)
            _check_key_crossing(session, value, None, exclude_id=customer.id)
        if field_name == "tax_id":
            _check_key_crossing(session, None, value, exclude_id=customer.id)
        if field_name in ("phone", "tax_id"):
            _check_phone_tax_id_crossing(session, program, value if field_name == "phone" else None,
                                         value if field_name == "tax_id" else None, exclude_id=customer.id)
        setattr(customer, field_name, value)
    if not any((customer.name, customer.phone, customer.email, customer.card, customer.tax_id)):
        raise InvalidInput(gettext('{code} would be left with nothing to find them by: keep a name, phone, '
                                   'e-mail, card or tax id').format(code=customer.code))
    if language is not None:
        customer.language = customer_language(language) if language.strip() else None
    answers = dict(consents or {})
    if consent is not None and channels.EMAIL not in answers:
        answers[channels.EMAIL] = bool(consent)
    if answers:
        channels.answer(session, customer, answers, how=consent_how, version=consent_version)
    session.flush()
    return customer


def customer_language(text: str) -> str:
    """The language a customer's ``--lang`` names, as the program speaks it: 'pt', 'pt_PT' and 'pt-PT'
    are pt_PT, 'ro_RO' is ro, 'en_GB' is en. Refused when the program has no catalog for it."""
    from loyaltycli import i18n

    try:
        return i18n.language_of(text)
    except ValueError:
        raise InvalidInput(gettext("language {text!r} is not one this program speaks; languages: {languages}")
                           .format(text=(text or "").strip(), languages=", ".join(i18n.languages()))) from None


MAX_SEARCH = 200  # characters of `customer list --search`


def search_conditions(text: str, program: Program | None = None) -> list:
    """Where `--search TEXT` may match: the stored name key (case and accents folded), code, e-mail
    and card as typed (NFC, lower-case), and the phone as typed or as the E.164 number it means."""
    import unicodedata

    from loyaltycli.base.textkey import fold, plain_digits

    if "\x00" in text:
        raise InvalidInput(gettext('--search text {text!r} holds a NUL character').format(text=text[:40]))
    if len(text) > MAX_SEARCH:  # no name, e-mail or card is that long (and SQLite caps LIKE patterns)
        raise InvalidInput(gettext('--search text of {count} characters is too long; give at most {limit}').format(
            count=len(text), limit=MAX_SEARCH))
    typed = unicodedata.normalize("NFC", plain_digits(text)).strip()
    pattern = like_pattern(typed)
    out = [Customer.search_key.like(like_pattern(fold(text)), escape="\\"),
           *[func.lower(col).like(pattern, escape="\\") for col in
             (Customer.code, Customer.phone, Customer.email, Customer.card)]]
    if re.match(r"^[+0-9][0-9 ()./-]{5,}$", typed):
        try:
            phone = normalize_phone(typed, program.phone_region if program else "IE")
        except InvalidInput:
            phone = None
        if phone:
            out.append(Customer.phone == phone)
    return out


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, case-insensitively, wildcards escaped."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
