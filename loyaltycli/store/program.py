"""The program's settings: SPEC defaults in code, the shop's changes in the database."""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyaltycli.base import place
from loyaltycli.base.errors import InvalidInput, NotFound
from loyaltycli.base.settings import (AMOUNT, NUMBER, TEXT, Setting, amount, amount_setting, choice, decimal,
                                      money_check, tables, whole_setting)
from loyaltycli.store.models import ProgramSetting
from loyaltycli.base.money import format_amount, parse_amount, parse_decimal
from loyaltycli.i18n import N_, _


@dataclass(frozen=True)
class Tier:
    name: str
    min_spend: int  # minor units
    multiplier: Decimal


def _point_value_check(text: str) -> str:
    """point_value: more than nothing (a rebate divides by it; a redemption worth 0.00 takes points for
    nothing)."""
    value = money_check(text)
    if parse_amount(value) <= 0:
        raise InvalidInput(_("must be more than 0 (the money one point is worth when redeemed)"))
    return value


def point_value(program) -> int:
    """What one point is worth (cents), for what turns points into money or money into points (a redemption
    for value, a donation, a rebate); refused when a database from before the check holds 0."""
    if program.point_value <= 0:
        raise InvalidInput(_("point_value is 0: points are worth nothing here; set it with `loyalty program set "
                             "point_value AMOUNT`"))
    return program.point_value


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """'Bronze:0:1.0,Silver:500:1.25,Gold:1500:1.5' -> tiers sorted by minimum spend."""
    tiers = []
    for part in str(text).split(","):
        bits = [b.strip() for b in part.split(":")]
        if len(bits) != 3 or not bits[0]:
            raise InvalidInput(_('tier {part!r} is not NAME:MIN_SPEND:MULTIPLIER (e.g. Silver:500:1.25)').format(part=part.strip()))
        tiers.append(Tier(bits[0], parse_amount(bits[1], what=N_("tier minimum spend")),
                          parse_decimal(bits[2], what=N_("tier multiplier"), minimum=Decimal(0),
                                        maximum=Decimal(100))))
    tiers.sort(key=lambda t: t.min_spend)
    if tiers[0].min_spend != 0:
        raise InvalidInput(_('the first tier must start at 0 spend'))
    names = [t.name.lower() for t in tiers]
    if len(set(names)) != len(names) or len({t.min_spend for t in tiers}) != len(tiers):
        raise InvalidInput(_('tier names and minimum spends must be unique'))
    return tuple(tiers)


def format_tiers(tiers: tuple[Tier, ...]) -> str:
    return ",".join(f"{t.name}:{format_amount(t.min_spend)}:{t.multiplier}" for t in tiers)


def tiers_toml(tiers: tuple[Tier, ...]) -> list[dict]:
    """The tiers as the program file writes them: a table each (name, min_spend, multiplier)."""
    return [{"name": t.name, "min_spend": format_amount(t.min_spend), "multiplier": str(t.multiplier)} for t in tiers]


def tiers_from_toml(value) -> str:
    """The tiers' text (NAME:MIN_SPEND:MULTIPLIER,...) from the program file's tables."""
    for tier in tables({"name": TEXT, "min_spend": AMOUNT, "multiplier": NUMBER}, value):
        if any(mark in str(tier["name"]) for mark in ",:"):  # the text parts tiers by commas, fields by colons
            raise InvalidInput(_('tier name {name!r} may not contain a comma or a colon').format(
                name=str(tier["name"])))
    return ",".join(f"{t['name']}:{t['min_spend']}:{t['multiplier']}" for t in value)


def _place_check(key: str):
    def check(text: str) -> str:
        from loyaltycli.shop import country

        return country.validate(key, text)
    return check


def _question(text: str) -> str:
    value = " ".join(str(text).split())
    if len(value) > 300:
        raise InvalidInput(_("a survey question is at most 300 characters"))
    return value


def _question_check(text: str) -> str:
    """A question set by a person: read to customers on a terminal, so no control characters."""
    from loyaltycli.base.textkey import check_plain_text

    return _question(check_plain_text(str(text), "question"))


def _timezone(text: str) -> str:
    from loyaltycli.shop import clock

    value = str(text).strip()
    return value or clock.system_zone_name()


def _mail_check(kind: str):
    """Strict checks of the e-mail settings (loyaltycli/customer/notify.py reads them)."""
    def check(text: str) -> str:
        return check_mail_setting(kind, text)
    return check


def check_mail_setting(kind: str, text: str) -> str:
    """The canonical text of an e-mail setting (`program set`); InvalidInput when it is not valid."""
    from loyaltycli.base.textkey import check_plain_text

    value = (check_plain_text(str(text), "value") or "").strip()
    if not value:
        return ""
    if any(ch in value for ch in "\r\n"):
        raise InvalidInput(_("one line only"))
    if kind == "address":
        from email_validator import EmailNotValidError, validate_email

        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise InvalidInput(_("{value!r} is not an e-mail address: {reason}").format(
                value=value, reason=exc)) from None
    if kind == "url":
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.netloc or parts.fragment or " " in value:
            raise InvalidInput(_("{value!r} is not an https:// address").format(value=value))
        return value
    if kind == "host":
        if len(value) > 253 or any(ch.isspace() or ch in "/@:" for ch in value):
            raise InvalidInput(_("{value!r} is not a host name (give the port as smtp_port)").format(
                value=value))
        return value
    if len(value) > 120:
        raise InvalidInput(_("at most 120 characters"))
    return value


# -- what a statement says ---------------------------------------------------------------------------


def _plain_setting(text: str) -> str:
    return str(text).strip()


# The core settings: the shop's place, the spend points and tiers, expiry and redemption; then, after each
# program type's own (``SETTINGS`` of its rule module, in the rules' order), what the shop says to customers.
_CORE = (
    Setting("country", "", N_("ISO 3166 country of the shop; `program set country PT` also sets currency, "
            "phone_region, timezone and locale"), lambda t: str(t).strip().upper(), check=_place_check("country")),
    Setting("currency", "EUR", N_("ISO 4217 currency of every amount"), lambda t: str(t).strip().upper(),
            check=_place_check("currency")),
    Setting("timezone", "", N_("IANA time zone of the shop's clock (default: the machine's zone)"), _timezone,
            check=_place_check("timezone")),
    Setting("locale", "", N_("how amounts and dates are shown and typed (pt_PT, ro_RO, it_IT, es_ES, en_IE...; "
            "empty: plain 12.50)"),
            lambda t: str(t).strip().replace("-", "_"), check=_place_check("locale")),
    Setting("phone_region", "IE", N_("region for phone numbers written without +country code"),
            lambda t: str(t).strip().upper(), check=_place_check("phone_region")),
    amount_setting("max_purchase", "10000.00", N_("largest counter sale accepted without confirmation")),
    Setting("earn_mode", "points", N_("points: units spent x earn_rate; cashback: store credit in cents, "
            "cashback_percent of the amount (see `program preset`)"), choice("points", "cashback")),
    Setting("earn_rate", "1", N_("points per whole currency unit spent, before multipliers"), decimal()),
    Setting("cashback_percent", "5", N_("cashback: percent of the amount given back as credit (1 point = 1 cent)"),
            decimal("0", "100")),
    Setting("tiers", "Bronze:0.00:1.0,Silver:500.00:1.25,Gold:1500.00:1.5",
            N_("tiers as NAME:MIN_SPEND:MULTIPLIER, by qualifying spend in the window"), parse_tiers,
            format_tiers, to_toml=tiers_toml, from_toml=tiers_from_toml),
    whole_setting("tier_window_days", "365", N_("days of qualifying spend that set the tier"), 1, 3650),
    whole_setting("expiry_days", "365", N_("days after which earned points expire (0: never)"), 0, 36500),
    Setting("point_value", "0.05", N_("currency value of one point when redeemed"), amount, format_amount,
            check=_point_value_check),
    whole_setting("min_redemption", "100", N_("fewest points one redemption may use"), 1),
    amount_setting("min_basket", "0.00", N_("smallest basket a redemption may be used on (0: any)")),
)
_CONTACT = (
    Setting("survey_nps_question", "", N_("the NPS question as the shop words it, read to customers by `loyalty "
            "survey` (empty: the default, in the shop's language)"), _question, check=_question_check),
    Setting("survey_csat_question", "", N_("the CSAT question as the shop words it (empty: the default, in the "
            "shop's language)"), _question, check=_question_check),

    # E-mail statements and reminders (`loyalty notify`); the SMTP password is never a setting: it is read
    # from LOYALTY_SMTP_PASSWORD when a message is sent.
    Setting("shop_name", "", N_("the shop's name as customers know it (e-mails' sender name and greeting)"),
            _plain_setting, check=_mail_check("name")),
    Setting("mail_from", "", N_("the address e-mails to customers come from (`notify`)"), _plain_setting,
            check=_mail_check("address")),
    Setting("mail_reply_to", "", N_("where customers' replies go (empty: mail_from)"), _plain_setting,
            check=_mail_check("address")),
    Setting("smtp_host", "", N_("SMTP server that sends the e-mails (empty: `notify` writes an --outbox only)"),
            _plain_setting, check=_mail_check("host")),
    whole_setting("smtp_port", "0", N_("SMTP port (0: 587 for starttls, 465 for ssl, 25 for none)"), 0, 65535),
    Setting("smtp_security", "starttls", N_("starttls, ssl (TLS from the start) or none (a local relay only)"),
            choice("starttls", "ssl", "none")),
    Setting("smtp_user", "", N_("SMTP login (empty: no login); the password comes from LOYALTY_SMTP_PASSWORD"),
            _plain_setting, check=_mail_check("user")),
    Setting("unsubscribe_mailto", "", N_("address of the List-Unsubscribe header (empty: mail_from)"),
            _plain_setting, check=_mail_check("address")),
    Setting("unsubscribe_url", "", N_("https address of a one-click unsubscribe page (empty: e-mail only)"),
            _plain_setting, check=_mail_check("url")),
)

_SETTINGS: dict[str, Setting] | None = None


def settings() -> dict[str, Setting]:
    """Every setting by its key, in the order `program show` and the program file list them: the core
    ones, each rule module's ``SETTINGS`` (in the rules' order), what the shop says to customers."""
    global _SETTINGS
    if _SETTINGS is None:
        from loyaltycli.engine import rules

        found: dict[str, Setting] = {}
        declared = [*_CORE, *(s for module in rules.modules() for s in getattr(module, "SETTINGS", ())), *_CONTACT]
        for setting in declared:
            if found.setdefault(setting.key, setting) is not setting:
                raise ValueError(f"setting {setting.key!r} is declared twice")
        _SETTINGS = found
    return _SETTINGS


class Program:
    """The settings in force: typed attributes (``program.welcome_bonus``)."""

    def __init__(self, values: dict[str, Any]):
        self._values = values
        self._minimums = [tier.min_spend for tier in values["tiers"]]
        # the settings as plain attributes (an import reads them per receipt)
        self.__dict__.update((key, value) for key, value in values.items()
                             if key not in self.__dict__ and not hasattr(type(self), key))

    def text(self, key: str) -> str:
        return settings()[key].format(self._values[key])

    def items(self):
        return [(key, self.text(key), settings()[key].help) for key in settings()]

    def tier_for_spend(self, spend: int) -> Tier:
        """The highest tier whose minimum the spend reaches (the first tier below every minimum)."""
        # tiers are sorted by minimum spend: found by bisection (the importer asks once per sale)
        return self.tiers[max(bisect_right(self._minimums, spend) - 1, 0)]

    def next_tier(self, spend: int) -> Tier | None:
        for tier in self.tiers:
            if tier.min_spend > spend:
                return tier
        return None

    def expiry_for(self, at):
        """When points earned at ``at`` expire (None: never)."""
        from loyaltycli.engine.earning import credit_expiry

        return credit_expiry(self, at)

    def referrer_bonus(self, successful_count: int) -> int:
        """Points for the referrer's ``successful_count``-th successful referral."""
        points = 0
        for start, value in self.referral_steps:
            if successful_count >= start:
                points = value
        return points


def load_program(session: Session, *, activate: bool = True) -> Program:
    """The program in force: defaults overlaid with the stored settings. ``activate=False``: its place (zone,
    locale, language of messages) is not put in force, for a command that reads the program it is changing."""
    stored = dict(session.execute(select(ProgramSetting.key, ProgramSetting.value)).all())
    values = {}
    for key, setting in settings().items():
        raw = json.loads(stored[key]) if key in stored else setting.default
        values[key] = setting.parse(raw)
    from loyaltycli.store import cards, goals

    # the definitions of the program types with tables of their own, as the rules engine reads them
    values["cards"] = cards.load_rules(session)
    values["goals"] = goals.load_rules(session)
    if activate:
        from loyaltycli.base import place

        place.activate(values)
    return Program(values)


def unknown_setting(key: str) -> str:
    """The refusal of an unknown setting, with the nearest key when one is close."""
    import difflib

    close = difflib.get_close_matches(key, list(settings()), n=1, cutoff=0.6)
    if close:
        return _("unknown setting {key!r}; did you mean {match}? see `loyalty program show` for the keys").format(
            key=key, match=close[0])
    return _("unknown setting {key!r}; see `loyalty program show` for the keys").format(key=key)


def check_rule_name_free(program: Program, name: str) -> None:
    """No two item rules (bonus points or spend rates) share a name: `program rule remove` names one."""
    if any(r.name.lower() == name.lower() for r in (*program.item_rules, *program.earn_rules)):
        raise InvalidInput(_('a rule named {name!r} already exists; see `loyalty program rule list`').format(name=name))


def add_item_rule(session: Session, name: str, skus: list[str], points: int, per: str = "item") -> dict:
    """`program rule add`: bonus points for items of SKU patterns, on top of the spend points."""
    from loyaltycli.engine.cards import ItemRule, rule_definition
    from loyaltycli.engine.rules.items import ITEM_RULES

    name, patterns = rule_definition(name, skus)
    if not 0 < points <= 10**6:
        raise InvalidInput(_('--points must be 1 to 1000000'))
    per = (per or "").strip().lower()
    if per not in ("item", "visit"):
        raise InvalidInput(_('--per {per!r} is not one of item, visit').format(per=per))
    program = load_program(session)
    check_rule_name_free(program, name)
    set_setting(session, "item_rules", ITEM_RULES.format((*program.item_rules, ItemRule(name, patterns, points, per))),
                whole=False)
    return {"name": name, "skus": list(patterns), "points": points, "per": per}


def set_setting(session: Session, key: str, value: str, *, whole: bool = True) -> str:
    """Validate and store one setting; returns its canonical text. ``whole=False``: the caller changed one
    part of it (`program rule add`, `remove`) and checked that part; the rest, stored before, is not
    checked again (a rule a laxer version stored must not stop the shop adding another)."""
    key = key.strip().lower().replace("-", "_")
    if key not in settings():
        raise NotFound(unknown_setting(key))
    setting = settings()[key]
    try:
        if setting.check is not None and whole:
            value = setting.check(value)
        canonical = setting.format(setting.parse(value))
    except InvalidInput as exc:
        raise InvalidInput(_('{key}: {exc}').format(key=key, exc=exc)) from None
    row = session.get(ProgramSetting, key)
    if row is None:
        session.add(ProgramSetting(key=key, value=json.dumps(canonical)))
    else:
        row.value = json.dumps(canonical)
    session.flush()
    return canonical


def load_toml(session: Session, data: dict) -> list[str]:
    """Apply a TOML document's settings (all validated before any is stored)."""
    texts = {}
    for key, value in data.items():
        norm = key.strip().lower().replace("-", "_")
        if isinstance(value, (dict, list)):
            if norm not in settings():  # [foo] or foo = [...]: a name the file got wrong, said as such
                raise NotFound(unknown_setting(norm))
            if settings()[norm].from_toml is None:
                raise InvalidInput(_('{key}: expected a single value').format(key=key))
            try:
                value = settings()[norm].from_toml(value)
            except InvalidInput as exc:
                raise InvalidInput(_('{key}: {exc}').format(key=norm, exc=exc)) from None
        texts[norm] = str(value).lower() if isinstance(value, bool) else str(value)
    if texts.get("country", "").strip():  # a country brings its currency, zone, locale... unless the file says
        from loyaltycli.shop.country import place_for

        try:
            texts = {**place_for(texts["country"]), **texts}
        except InvalidInput as exc:
            raise InvalidInput(_('country: {exc}').format(exc=exc)) from None
    for key, value in texts.items():  # validate all first: a bad file changes nothing
        if key not in settings():
            raise NotFound(unknown_setting(key))
        try:
            if settings()[key].check is not None:
                settings()[key].check(value)
            settings()[key].parse(value)
        except InvalidInput as exc:
            raise InvalidInput(_('{key}: {exc}').format(key=key, exc=exc)) from None
    for key, value in texts.items():
        set_setting(session, key, value)
    return list(texts)


def toml_document(program: Program) -> dict[str, Any]:
    """The settings as the TOML document's keys (numbers as numbers, the tiers and rules as tables)."""
    return {key: setting.toml(getattr(program, key)) for key, setting in settings().items()}


# `program preset NAME`: several settings that only make sense together.
PRESETS = ("points", "cashback")


def apply_preset(session: Session, name: str, percent: str | None = None) -> dict[str, str]:
    """Switch the program to plain points (SPEC defaults) or to cashback: points are store credit in
    cents (point_value 0.01, no minimum redemption), ``percent`` of each amount."""
    name = (name or "").strip().lower()
    if name == "cashback":
        values = {"earn_mode": "cashback", "cashback_percent": percent or settings()["cashback_percent"].default,
                  "point_value": "0.01", "min_redemption": "1"}
    elif name == "points":
        if percent is not None:
            raise InvalidInput(_('--percent belongs to the cashback preset'))
        values = {key: settings()[key].default for key in ("earn_mode", "point_value", "min_redemption")}
    else:
        raise NotFound(_('unknown preset {name!r}; presets are {presets}').format(name=name, presets=', '.join(PRESETS)))
    for key, value in values.items():  # validate all first: a bad value changes nothing
        try:
            settings()[key].parse(value)
        except InvalidInput as exc:
            raise InvalidInput(_('{key}: {exc}').format(key=key, exc=exc)) from None
    return {key: set_setting(session, key, value) for key, value in values.items()}


def read_settings(session) -> dict:
    """The place's settings as stored (text), without loading the whole program."""
    rows = session.execute(select(ProgramSetting.key, ProgramSetting.value)
                           .where(ProgramSetting.key.in_(place.KEYS + ("max_purchase",)))).all()
    return {key: json.loads(value) for key, value in rows}


def set_country(session, text: str) -> dict[str, str]:
    """Store the country and the four settings that follow from it; returns what was set."""
    from loyaltycli.shop.country import place_for

    values = place_for(text)
    return {key: set_setting(session, key, value) for key, value in values.items()}
