"""The program as a file: `program dump` writes it as TOML, `program load` reads it back (all or nothing).

The file holds the settings (store/program.py) and the definitions the shop sets up in tables of their
own: the program types' (each type's ``file_section`` in loyaltycli.programs: the stamp cards ``[[cards]]``,
the goals ``[[goals]]``), the reward catalogue (``[[rewards]]``), the paid membership plans (``[[plans]]``)
and the donation causes (``[[causes]]``), in the order they were added.
Definitions only, as for the settings: no customer's stamps, progress, vouchers, redemptions, memberships
or donations. A file without some of these lists (one dumped before they were written there) loads as
before, and a shop without any of one kind dumps no list for it.

Loading adds the definitions the database has not got, through the services that add them at the counter
(the same checks), and leaves alone the ones it has with the same terms (a file loads twice to the same
result). One of the same name (in any case) with other terms is refused: customers hold stamps, progress,
memberships on it, and no command changes its terms (a reward's cost changes only by removing it first).
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from loyaltycli.base.errors import InvalidInput, NotFound, RuleNotMet, shortened
from loyaltycli.i18n import N_, Nn_, gettext, ngettext
from loyaltycli.base.numbers import decimal_text
from loyaltycli.base.settings import AMOUNT, NUMBER, PATTERNS, TEXT, WHOLE, YES_NO, table_problem
from loyaltycli.programs import Section, file_sections

# -- the reward catalogue --------------------------------------------------------------------------------
def _reward_written(reward) -> dict:
    return {"name": reward.name, "cost": reward.cost}


def _reward_added(session: Session, table: dict):
    from loyaltycli.services.rewards import add_reward
    from loyaltycli.store.program import load_program

    # the file's settings are stored by now: a cost is checked against its min_redemption
    return add_reward(session, load_program(session, activate=False), table["name"], table["cost"])


def _rewards():
    from loyaltycli.services.rewards import offered

    # the rewards on offer: a removed one is history (past redemptions name it), and a file naming it offers
    # it again, as `reward add` does
    return Section("rewards", {"name": TEXT, "cost": WHOLE}, {}, offered, _reward_written, _reward_added,
                   N_("a reward named {name!r} is already offered with other terms ({key}: {have} here, {given} "
                      "in the file); to change its cost, remove it first (`loyalty reward remove`)"),
                   (Nn_("{count} reward added ({names})", "{count} rewards added ({names})"),
                    Nn_("{count} reward already there ({names})", "{count} rewards already there ({names})")))


# -- paid membership plans --------------------------------------------------------------------------------
def _plan_written(plan) -> dict:
    from decimal import Decimal

    from loyaltycli.base.money import format_amount

    return {"name": plan.name, "fee": format_amount(plan.fee), "months": plan.months,
            "multiplier": decimal_text(Decimal(plan.multiplier)), "perk": plan.perk,
            "active": bool(plan.active)}


def _plan_added(session: Session, table: dict):
    from loyaltycli.base.money import parse_money
    from loyaltycli.services.memberships import add_plan

    fee = parse_money(str(table["fee"]), what="fee")
    return add_plan(session, table["name"], fee, table["months"], str(table["multiplier"]), table["perk"])


def _plans():
    from loyaltycli.services.memberships import all_plans

    return Section("plans", {"name": TEXT, "fee": AMOUNT, "months": WHOLE, "multiplier": NUMBER, "perk": TEXT,
                             "active": YES_NO},
                   {"perk": "", "active": True}, all_plans, _plan_written, _plan_added,
                   N_("a membership plan named {name!r} already exists with other terms ({key}: {have} here, "
                      "{given} in the file); a file does not change a plan's terms"),
                   (Nn_("{count} membership plan added ({names})", "{count} membership plans added ({names})"),
                    Nn_("{count} membership plan already there ({names})",
                        "{count} membership plans already there ({names})")))


# -- donation causes --------------------------------------------------------------------------------------
def _cause_added(session: Session, table: dict):
    from loyaltycli.services.donations import add_cause

    return add_cause(session, table["name"])


def _causes():
    from loyaltycli.services.donations import all_causes

    return Section("causes", {"name": TEXT}, {}, all_causes, lambda cause: {"name": cause.name}, _cause_added,
                   None, (Nn_("{count} cause added ({names})", "{count} causes added ({names})"),
                          Nn_("{count} cause already there ({names})", "{count} causes already there ({names})")))


def sections() -> list[Section]:
    """The program types' lists (loyaltycli.programs: stamp cards, goals...), then the catalogue's."""
    return [*file_sections(), _rewards(), _plans(), _causes()]


# -- the file ----------------------------------------------------------------------------------------------
def dump(session: Session) -> str:
    """The program as a TOML document: the settings, then each list of definitions (``[[cards]]``,
    ``[[goals]]``, ``[[rewards]]``, ``[[plans]]``, ``[[causes]]``) that is not empty."""
    import tomli_w

    from loyaltycli.store.program import load_program, toml_document

    doc = toml_document(load_program(session))
    for section in sections():
        tables = [section.written(row) for row in section.listed(session)]
        if tables:
            doc[section.name] = tables
    return tomli_w.dumps(doc)


def load(session: Session, data: dict) -> dict[str, list[str]]:
    """Apply a program file's document: its settings, and the definitions the database has not got.
    Returns the settings loaded (``loaded``) and, per section, the names added and the names already there
    with the same terms (``cards_added``, ``cards_unchanged``, ``goals_added``... ``causes_unchanged``). A
    refusal (InvalidInput, RuleNotMet, NotFound) names the table; the caller's transaction then changes
    nothing."""
    from loyaltycli.store.program import load_toml

    data = dict(data)
    found = {}
    for section in sections():
        key = next((k for k in data if k.strip().lower() == section.name), None)
        found[section.name] = (section, _tables(section, data.pop(key)) if key is not None else [])
    out: dict[str, list[str]] = {"loaded": load_toml(session, data)}
    for name, (section, tables) in found.items():
        added, unchanged = [], []
        held = {_named(row.name): row for row in section.listed(session)}
        in_file: dict[str, int] = {}  # a name -> the number of its first table in this file
        for number, table, given in tables:
            try:
                first = in_file.setdefault(_named(table["name"]), number)
                if first != number:
                    raise InvalidInput(gettext("the same name as #{first}: each name once in a file").format(
                        first=first))
                row = held.get(_named(table["name"]))
                if row is not None:
                    _same_terms(section, row, table, given)
                    unchanged.append(row.name)
                    continue
                try:
                    row = section.added(session, table)
                except (InvalidInput, RuleNotMet, NotFound) as exc:  # worded for the command line
                    raise type(exc)(_file_words(str(exc), section, table)) from None
                if "active" in section.keys and not table["active"]:
                    row.active = False
                    session.flush()
            except (InvalidInput, RuleNotMet, NotFound) as exc:
                raise type(exc)(gettext("[[{section}]] #{number} ({name}): {exc}").format(
                    section=name, number=number, name=shortened(str(table["name"]).strip()), exc=exc)) from None
            held[_named(row.name)] = row
            added.append(row.name)
        out[f"{name}_added"], out[f"{name}_unchanged"] = added, unchanged
    return out


def _file_words(message: str, section: Section, table: dict) -> str:
    """A service's refusal worded for the command line (``--stamps must be 1 to 1000``) as the file says it
    (``stamps must be 1 to 1000``): each option named by its key in the table (option names are the same in
    every language; a list's key is its repeatable option's plural: ``--sku`` is ``skus``). An option name
    inside one of the table's own values quoted in the message (a reward named "Tea --cost") is left as it
    is."""
    given = {v for value in table.values() for v in (value if isinstance(value, list) else [value])
             if isinstance(v, str) and "--" in v}
    quoted = [m.span() for v in given for m in re.finditer(re.escape(v), message)]
    names = {}
    for key in section.keys:
        option = "--" + key.replace("_", "-")
        names.update({said: key for said in ((option, option[:-1]) if section.keys[key] == PATTERNS else (option,))})
    pattern = "|".join(re.escape(said) for said in sorted(names, key=len, reverse=True))
    return re.sub(f"(?:{pattern})(?![\\w-])",
                  lambda m: m[0] if any(a <= m.start() and m.end() <= b for a, b in quoted) else names[m[0]],
                  message)


def _named(name) -> str:
    """A name as the services compare them: any case, runs of spaces as one."""
    return " ".join(str(name).split()).lower()


def _tables(section: Section, value) -> list[tuple[int, dict, tuple[str, ...]]]:
    """(number from 1, table, the keys the file gave) of a section's tables, each checked for its keys and the
    kinds of their values; a key left out takes its default."""
    if not isinstance(value, list) or not all(isinstance(table, dict) for table in value):
        raise InvalidInput(gettext("{section} must be a list of [[{section}]] tables, each with {keys}").format(
            section=section.name, keys=", ".join(section.required)))
    out = []
    for number, table in enumerate(value, start=1):
        def refused(text: str, number: int = number, **values) -> InvalidInput:
            return InvalidInput(gettext("[[{section}]] #{number}: {problem}").format(
                section=section.name, number=number, problem=gettext(text).format(**values)))

        problem = table_problem(section.keys, section.required, table)
        if problem is not None:
            raise refused(problem[0], **problem[1])
        out.append((number, {**section.defaults, **table}, tuple(table)))  # a key left out: its default, as typed
    return out


def _same_terms(section: Section, row, table: dict, given: tuple[str, ...] = ()) -> None:
    """Refuse a table naming a definition the database has with other terms (case of the name aside). The
    first difference is said: among the keys the file ``given`` first, then those it left to their defaults."""
    have = {**section.defaults, **section.written(row)}
    keys = [key for key in section.keys if key in given] + [key for key in section.keys if key not in given]
    for key in keys:
        if key == "name" or key not in table:
            continue
        value = _term(section.keys[key], key, table[key])
        if value != _term(section.keys[key], key, have.get(key)):
            raise InvalidInput(gettext(section.differs).format(
                name=row.name, key=key, have=_shown(have.get(key)), given=_shown(value)))


def _term(kind: str, key: str, value):
    """A value of the file as the database would hold it, to compare with what it holds."""
    from loyaltycli.base.money import format_amount, parse_decimal, parse_money

    if value is None:
        return None
    if kind == AMOUNT:
        return format_amount(parse_money(str(value), what=key))
    if kind == NUMBER:
        return decimal_text(parse_decimal(str(value), what=key))
    if kind == PATTERNS:  # the same patterns in another order, or one twice, are the same terms
        return sorted({p.strip() for p in value if p.strip()})
    if kind == TEXT:
        return str(value).strip().lower() if key == "per" else str(value).strip()
    return value


def _shown(value) -> str:
    if value is None or value == "":
        return gettext("none")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(value) or gettext("none")
    return str(value)


def summary(loaded: dict[str, list[str]]) -> list[str]:
    """What a load did to the definitions, in words (one part per list that is not empty)."""
    words = {f"{section.name}_{done}": said for section in sections()
             for done, said in zip(("added", "unchanged"), section.words)}
    return [ngettext(*words[key], len(names)).format(count=len(names), names=", ".join(names))
            for key, names in loaded.items() if key in words and names]
