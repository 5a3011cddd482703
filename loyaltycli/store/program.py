"""The program's settings: SPEC defaults in code, the shop's changes in the database."""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyaltycli.base import place
from loyaltycli.base.errors import InvalidInput, NotFound
from loyaltycli.store.models import ProgramSetting
from loyaltycli.base.money import format_amount, parse_amount, parse_decimal
from loyaltycli.i18n import N_, _


@dataclass(frozen=True)
class Tier:
    name: str
    min_spend: int  # minor units
    multiplier: Decimal


@dataclass(frozen=True)
class Setting:
    """One setting: how to read it from text, how to write it back, and what it means."""

    key: str
    default: str
    help: str
    parse: Callable[[str], Any]
    format: Callable[[Any], str] = str
    toml_type: str = "str"  # str | int | tiers
    # Strict validation when a person sets the value (imports that cost start-up time live here, not
    # in ``parse``, which reads the stored value at every command); returns the canonical text.
    check: Callable[[str], str] | None = None


def _int(minimum: int = 0, maximum: int = 10**9):
    def parse(text: str) -> int:
        try:
            value = int(str(text).strip())
        except ValueError:
            raise InvalidInput(_('{text!r} is not a whole number').format(text=text)) from None
        if not minimum <= value <= maximum:
            raise InvalidInput(_('{value} is out of range ({minimum} to {maximum})').format(value=value, minimum=minimum, maximum=maximum))
        return value
    return parse


def _amount(text: str) -> int:
    return parse_amount(str(text))


def _money_check(text: str) -> str:
    """An amount setting as a person types it: the shop's way (12,50 in pt_PT, like every other amount
    option); stored canonical (12.50), which ``_amount`` reads back."""
    from loyaltycli.base.money import parse_money

    return format_amount(parse_money(str(text)))


def _point_value_check(text: str) -> str:
    """point_value: more than nothing (a rebate divides by it; a redemption worth 0.00 takes points for
    nothing)."""
    value = _money_check(text)
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


def _decimal(minimum: str = "0", maximum: str = "1000"):
    def parse(text: str) -> Decimal:
        return parse_decimal(text, minimum=Decimal(minimum), maximum=Decimal(maximum))
    return parse


def _bool(text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InvalidInput(_('{text!r} is not true or false').format(text=text))


def _text(max_length: int = 64):
    def parse(text: str) -> str:
        value = str(text).strip()
        if not value or len(value) > max_length:
            raise InvalidInput(_('{text!r} must be 1 to {max_length} characters').format(text=text, max_length=max_length))
        return value
    return parse


def _choice(*allowed: str):
    def parse(text: str) -> str:
        value = str(text).strip().lower()
        if value not in allowed:
            raise InvalidInput(_('{text!r} is not one of {allowed}').format(text=text, allowed=', '.join(allowed)))
        return value
    return parse


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


def parse_steps(text: str) -> tuple[tuple[int, int], ...]:
    """'1:200,5:300': from the 1st successful referral 200 points, from the 5th 300."""
    steps = []
    for part in str(text).split(","):
        bits = [b.strip() for b in part.split(":")]
        if len(bits) != 2:
            raise InvalidInput(_('step {part!r} is not FROM_COUNT:POINTS (e.g. 5:300)').format(part=part.strip()))
        steps.append((_int(1, 10**6)(bits[0]), _int(0, 10**9)(bits[1])))
    steps.sort()
    if steps[0][0] != 1:
        raise InvalidInput(_('the first referral step must start at 1'))
    return tuple(steps)


def format_steps(steps) -> str:
    return ",".join(f"{n}:{p}" for n, p in steps)


def _item_rules(text: str):
    """The item rules as stored (a JSON list of {name, skus, points, per}) -> engine ItemRules."""
    from loyaltycli.engine.cards import ItemRule

    try:
        data = json.loads(str(text) or "[]")
        rules = tuple(ItemRule(str(r["name"]), tuple(str(p) for p in r["skus"]), int(r["points"]),
                               str(r.get("per", "item"))) for r in data)
    except (ValueError, TypeError, KeyError):
        raise InvalidInput(_("item_rules must be a JSON list of {fields}; use `program rule add`").format(
            fields="{name, skus, points, per}"))
    for rule in rules:
        if not rule.name or not rule.skus or rule.per not in ("item", "visit") or not 0 < rule.points <= 10**6:
            raise InvalidInput(_('item rule {name!r} needs a name, SKU patterns, 1 to 1000000 points and per item or visit').format(name=rule.name))
    return rules


def _format_item_rules(rules) -> str:
    return json.dumps([{"name": r.name, "skus": list(r.skus), "points": r.points, "per": r.per} for r in rules], ensure_ascii=False)


def _earn_rules(text: str):
    """The earn rules as stored (a JSON list of {name, skus, earn}) -> engine EarnRules."""
    from loyaltycli.engine.rules.by_product import EarnRule

    try:
        data = json.loads(str(text) or "[]")
        rules = tuple(EarnRule(str(r["name"]), tuple(str(p) for p in r["skus"]), Decimal(str(r["earn"])))
                      for r in data)
    except (ValueError, TypeError, KeyError, ArithmeticError):
        raise InvalidInput(_("earn_rules must be a JSON list of {fields}; use `program rule add --earn`").format(
            fields="{name, skus, earn}")) from None
    for rule in rules:
        if not rule.name or not rule.skus or not rule.rate.is_finite() or not 0 <= rule.rate <= 1000:
            raise InvalidInput(_('earn rule {name!r} needs a name, SKU patterns and a rate of 0 to 1000').format(
                name=rule.name))
    return rules


def format_earn_rules(rules) -> str:
    return json.dumps([{"name": r.name, "skus": list(r.skus), "earn": str(r.rate)} for r in rules], ensure_ascii=False)


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


SETTINGS: dict[str, Setting] = {s.key: s for s in [
    Setting("country", "", N_("ISO 3166 country of the shop; `program set country PT` also sets currency, "
            "phone_region, timezone and locale"), lambda t: str(t).strip().upper(), check=_place_check("country")),
    Setting("currency", "EUR", N_("ISO 4217 currency of every amount"), lambda t: str(t).strip().upper(),
            check=_place_check("currency")),
    Setting("timezone", "", N_("IANA time zone of the shop's clock (default: the machine's zone)"), _timezone,
            check=_place_check("timezone")),
    Setting("locale", "", N_("how amounts and dates are shown and typed (pt_PT, ro_RO, it_IT, es_ES, en_IE...; "
            "empty: plain 12.50)"),
            lambda t: str(t).strip().replace("-", "_"), check=_place_check("locale")),
    Setting("max_purchase", "10000.00", N_("largest counter sale accepted without confirmation"), _amount,
            format_amount, check=_money_check),
    Setting("earn_rate", "1", N_("points per whole currency unit spent, before multipliers"), _decimal()),
    Setting("tiers", "Bronze:0.00:1.0,Silver:500.00:1.25,Gold:1500.00:1.5",
            N_("tiers as NAME:MIN_SPEND:MULTIPLIER, by qualifying spend in the window"), parse_tiers,
            format_tiers, "tiers"),
    Setting("tier_window_days", "365", N_("days of qualifying spend that set the tier"), _int(1, 3650), str, "int"),
    Setting("welcome_bonus", "50", N_("points at enrollment"), _int(), str, "int"),
    Setting("milestone_spend", "500.00", N_("calendar-year spend that earns the milestone bonus"), _amount,
            format_amount, check=_money_check),
    Setting("milestone_bonus", "250", N_("points when the year's spend first reaches milestone_spend (0: off)"),
            _int(), str, "int"),
    Setting("point_value", "0.05", N_("currency value of one point when redeemed"), _amount, format_amount,
            check=_point_value_check),
    Setting("min_redemption", "100", N_("fewest points one redemption may use"), _int(1), str, "int"),
    Setting("min_basket", "0.00", N_("smallest basket a redemption may be used on (0: any)"), _amount, format_amount,
            check=_money_check),
    Setting("expiry_days", "365", N_("days after which earned points expire (0: never)"), _int(0, 36500), str, "int"),
    Setting("referral_min_purchase", "10.00", N_("the referee's first purchase of at least this rewards both"),
            _amount, format_amount,
            check=_money_check),
    Setting("referral_referee_bonus", "100", N_("points for the new customer"), _int(), str, "int"),
    Setting("referral_steps", "1:200,5:300",
            N_("referrer points by count of successful referrals, FROM:POINTS"), parse_steps, format_steps),
    Setting("earn_mode", "points", N_("points: units spent x earn_rate; cashback: store credit in cents, "
            "cashback_percent of the amount (see `program preset`)"), _choice("points", "cashback")),
    Setting("cashback_percent", "5", N_("cashback: percent of the amount given back as credit (1 point = 1 cent)"),
            _decimal("0", "100")),
    Setting("birthday_bonus", "100", N_("points `birthdays --award` gives once a year (0: off)"), _int(), str, "int"),
    Setting("earn_per_visit", "0", N_("points for every purchase of at least visit_min_amount (0: off)"), _int(),
            str, "int"),
    Setting("visit_min_amount", "0.00", N_("smallest purchase that earns earn_per_visit points"), _amount,
            format_amount, check=_money_check),
    Setting("item_rules", "[]", N_("bonus points for items of SKU patterns (see `program rule add`)"), _item_rules,
            _format_item_rules),
    Setting("earn_rules", "[]", N_("items of SKU patterns earning spend points at another rate, 0: none (see "
            "`program rule add --earn`)"), _earn_rules, format_earn_rules),
    Setting("phone_region", "IE", N_("region for phone numbers written without +country code"),
            lambda t: str(t).strip().upper(), check=_place_check("phone_region")),
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
    Setting("smtp_port", "0", N_("SMTP port (0: 587 for starttls, 465 for ssl, 25 for none)"), _int(0, 65535),
            str, "int"),
    Setting("smtp_security", "starttls", N_("starttls, ssl (TLS from the start) or none (a local relay only)"),
            _choice("starttls", "ssl", "none")),
    Setting("smtp_user", "", N_("SMTP login (empty: no login); the password comes from LOYALTY_SMTP_PASSWORD"),
            _plain_setting, check=_mail_check("user")),
    Setting("unsubscribe_mailto", "", N_("address of the List-Unsubscribe header (empty: mail_from)"),
            _plain_setting, check=_mail_check("address")),
    Setting("unsubscribe_url", "", N_("https address of a one-click unsubscribe page (empty: e-mail only)"),
            _plain_setting, check=_mail_check("url")),
]}


class Program:
    """The settings in force: typed attributes (``program.welcome_bonus``)."""

    def __init__(self, values: dict[str, Any]):
        self._values = values
        self._minimums = [tier.min_spend for tier in values["tiers"]]
        # the settings as plain attributes (an import reads them per receipt)
        self.__dict__.update((key, value) for key, value in values.items()
                             if key not in self.__dict__ and not hasattr(type(self), key))

    def text(self, key: str) -> str:
        return SETTINGS[key].format(self._values[key])

    def items(self):
        return [(key, self.text(key), SETTINGS[key].help) for key in SETTINGS]

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
    for key, setting in SETTINGS.items():
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

    close = difflib.get_close_matches(key, list(SETTINGS), n=1, cutoff=0.6)
    if close:
        return _("unknown setting {key!r}; did you mean {match}? see `loyalty program show` for the keys").format(
            key=key, match=close[0])
    return _("unknown setting {key!r}; see `loyalty program show` for the keys").format(key=key)


def rule_definition(name: str, skus: list[str] | None) -> tuple[str, tuple[str, ...]]:
    """An item rule's name and SKU patterns as typed (`program rule add`, --points or --earn), checked."""
    from loyaltycli.base.textkey import check_plain_text

    name = (check_plain_text(name, "rule name") or "").strip()
    patterns = tuple(check_plain_text(p, "--sku pattern").strip() for p in skus or [] if p.strip())
    if not name or len(name) > 100:
        raise InvalidInput(_('rule name must be 1 to 100 characters'))
    if not patterns:
        raise InvalidInput(_("give at least one --sku pattern (e.g. --sku 'CRO-*')"))
    return name, patterns


def check_rule_name_free(program: Program, name: str) -> None:
    """No two item rules (bonus points or spend rates) share a name: `program rule remove` names one."""
    if any(r.name.lower() == name.lower() for r in (*program.item_rules, *program.earn_rules)):
        raise InvalidInput(_('a rule named {name!r} already exists; see `loyalty program rule list`').format(name=name))


def add_item_rule(session: Session, name: str, skus: list[str], points: int, per: str = "item") -> dict:
    """`program rule add`: bonus points for items of SKU patterns, on top of the spend points."""
    from loyaltycli.engine.cards import ItemRule

    name, patterns = rule_definition(name, skus)
    if not 0 < points <= 10**6:
        raise InvalidInput(_('--points must be 1 to 1000000'))
    per = (per or "").strip().lower()
    if per not in ("item", "visit"):
        raise InvalidInput(_('--per {per!r} is not one of item, visit').format(per=per))
    program = load_program(session)
    check_rule_name_free(program, name)
    set_setting(session, "item_rules", _format_item_rules((*program.item_rules, ItemRule(name, patterns, points, per))))
    return {"name": name, "skus": list(patterns), "points": points, "per": per}


def set_setting(session: Session, key: str, value: str) -> str:
    """Validate and store one setting; returns its canonical text."""
    key = key.strip().lower().replace("-", "_")
    if key not in SETTINGS:
        raise NotFound(unknown_setting(key))
    setting = SETTINGS[key]
    try:
        if setting.check is not None:
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
        if norm == "tiers" and isinstance(value, list):
            try:
                value = ",".join(f"{t['name']}:{t['min_spend']}:{t['multiplier']}" for t in value)
            except (KeyError, TypeError):
                raise InvalidInput(_('tiers: each [[tiers]] needs name, min_spend and multiplier')) from None
            for tier in data[key]:  # the setting's own text separates tiers by commas, their parts by colons
                if any(mark in str(tier["name"]) for mark in ",:"):
                    raise InvalidInput(_('tiers: tier name {name!r} may not contain a comma or a colon').format(name=str(tier["name"])))
        if isinstance(value, (dict, list)):
            if norm not in SETTINGS:  # [foo] or foo = [...]: a name the file got wrong, said as such
                raise NotFound(unknown_setting(norm))
            raise InvalidInput(_('{key}: expected a single value').format(key=key))
        texts[norm] = str(value).lower() if isinstance(value, bool) else str(value)
    if texts.get("country", "").strip():  # a country brings its currency, zone, locale... unless the file says
        from loyaltycli.shop.country import place_for

        try:
            texts = {**place_for(texts["country"]), **texts}
        except InvalidInput as exc:
            raise InvalidInput(_('country: {exc}').format(exc=exc)) from None
    for key, value in texts.items():  # validate all first: a bad file changes nothing
        if key not in SETTINGS:
            raise NotFound(unknown_setting(key))
        try:
            if SETTINGS[key].check is not None:
                SETTINGS[key].check(value)
            SETTINGS[key].parse(value)
        except InvalidInput as exc:
            raise InvalidInput(_('{key}: {exc}').format(key=key, exc=exc)) from None
    for key, value in texts.items():
        set_setting(session, key, value)
    return list(texts)


def toml_document(program: Program) -> dict[str, Any]:
    """The settings as the TOML document's keys (``[[tiers]]`` as tables)."""
    doc: dict[str, Any] = {}
    tiers = []
    for key, setting in SETTINGS.items():
        value = getattr(program, key)
        if setting.toml_type == "int":
            doc[key] = value
        elif setting.toml_type == "tiers":
            tiers = [{"name": t.name, "min_spend": format_amount(t.min_spend), "multiplier": str(t.multiplier)}
                     for t in value]
        else:
            doc[key] = setting.format(value)
    doc["tiers"] = tiers
    return doc


# `program preset NAME`: several settings that only make sense together.
PRESETS = ("points", "cashback")


def apply_preset(session: Session, name: str, percent: str | None = None) -> dict[str, str]:
    """Switch the program to plain points (SPEC defaults) or to cashback: points are store credit in
    cents (point_value 0.01, no minimum redemption), ``percent`` of each amount."""
    name = (name or "").strip().lower()
    if name == "cashback":
        values = {"earn_mode": "cashback", "cashback_percent": percent or SETTINGS["cashback_percent"].default,
                  "point_value": "0.01", "min_redemption": "1"}
    elif name == "points":
        if percent is not None:
            raise InvalidInput(_('--percent belongs to the cashback preset'))
        values = {key: SETTINGS[key].default for key in ("earn_mode", "point_value", "min_redemption")}
    else:
        raise NotFound(_('unknown preset {name!r}; presets are {presets}').format(name=name, presets=', '.join(PRESETS)))
    for key, value in values.items():  # validate all first: a bad value changes nothing
        try:
            SETTINGS[key].parse(value)
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
