"""The store side of the engine's rules (loyaltycli.engine.rules): per program type that keeps state or
rows of its own, one module here with its ``KEY`` (the rule's) and any of

- ``TABLES``: table name -> (SQLAlchemy table, columns) of the rows its rule returns (``Decision.writes``);
- ``load(session, accounts)``: its state into ``account.state[KEY]`` (or its slots) for a batch of accounts
  (id -> Account), set-based;
- ``given(session, sale_ids, refund_of)``: sale id -> (what the sale gave, what its refunds took back);
- ``shown(session, program, customer_id, now)``: (JSON key, value, text) for `balance` and `customer show`,
  or None;
- ``use_voucher(session, customer, reward, at)``: use a voucher it gave (NotFound: it gives none for that);
- ``write_rows(session, rows)``: writes its rows itself (ids filled in), instead of one plain insert;
- ``history(session, customer_id)``: its rows for `history` (at, kind, note for scripts, say() for people).

- ``file_section()``: a ``Section``, its definitions' ``[[list]]`` in the program file (`program dump` and
  `program load`, services/program_file.py): their keys, how one is written and how one is added.

A program type's definitions (its rules as the engine reads them: ``Program.cards``, ``Program.goals``) are
read by the settings, store/program.py, from the store below. The callers (counter, import, displays) go
through the functions below, whatever the program types.
"""

from __future__ import annotations

import importlib
import pkgutil

from loyaltycli.i18n import gettext

_FOUND: list | None = None


class Section:
    """One ``[[NAME]]`` list of the program file: the keys of its tables (and what each must be), the ones it
    needs, what the database holds (``listed(session)``), how a table is written (``written(row)``) and how one
    is added (``added(session, table)``); ``differs``: the refusal of a name held with other terms (None when a
    name is all there is); ``words``: (added, already there) as (singular, plural) for `program load`'s line."""

    def __init__(self, name: str, keys: dict, defaults: dict, listed, written, added, differs: str | None,
                 words: tuple[tuple[str, str], tuple[str, str]]):
        # a key without a default is required
        self.name, self.keys, self.defaults = name, keys, defaults
        self.required = tuple(key for key in keys if key not in defaults)
        self.listed, self.written, self.added, self.differs, self.words = listed, written, added, differs, words


def file_sections() -> list[Section]:
    """The program types' lists in the program file, in the stores' order."""
    return [store.file_section() for store in stores() if hasattr(store, "file_section")]


def stores() -> list:
    """The store modules, by name."""
    global _FOUND
    if _FOUND is None:
        _FOUND = [importlib.import_module(f"{__name__}.{info.name}")
                  for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)]
    return _FOUND


def load(session, needs, accounts: dict) -> None:
    """The state the rules need (``needs``: engine.needs) of ``accounts`` (id -> Account)."""
    for store in stores():
        if store.KEY in needs and hasattr(store, "load"):
            store.load(session, accounts)


def given(session, sale_ids: list[int], refund_of: dict[int, int]) -> dict[int, tuple[dict, dict]]:
    """sale id -> (rule KEY -> what the sale gave it, rule KEY -> what its refunds took back)."""
    out: dict[int, tuple[dict, dict]] = {}
    for store in stores():
        if not hasattr(store, "given"):
            continue
        for sale_id, (gave, took) in store.given(session, sale_ids, refund_of).items():
            mine = out.setdefault(sale_id, ({}, {}))
            mine[0][store.KEY] = gave
            mine[1][store.KEY] = took
    return out


def write(session, writes: dict[str, list], purchase_ids=None) -> None:
    """The rules' own rows (``Decision.writes``, table -> rows); ``purchase_ids`` maps each row's purchase
    placeholder to its id (a list or dict), None when the rows hold ids already."""
    from loyaltycli.store import storage

    tables = {name: (store, spec) for store in stores() for name, spec in getattr(store, "TABLES", {}).items()}
    for name, rows in writes.items():
        if not rows:
            continue
        store, (table, columns) = tables[name]
        if purchase_ids is not None:
            at = columns.index("purchase_id")
            for row in rows:
                row[at] = purchase_ids[row[at]]
        if hasattr(store, "write_rows"):  # a type that completes its rows as they are written
            store.write_rows(session, rows)
        else:
            storage.write_rows(session, table, columns, rows)


def placed(writes: dict[str, list], index: int, into: dict[str, list]) -> None:
    """A decision's rows with their purchase's index (its id once written, see ``write``), added to ``into``."""
    tables = {name: spec for store in stores() for name, spec in getattr(store, "TABLES", {}).items()}
    for name, rows in writes.items():
        if rows:
            at = tables[name][1].index("purchase_id")
            for row in rows:
                row[at] = index
            into.setdefault(name, []).extend(rows)


def giving(offers, reward: str) -> list:
    """The definitions among ``offers`` (stamp cards, goals) whose reward or name is ``reward``, any case."""
    wanted = reward.strip().lower()
    return [offer for offer in offers if offer.reward.lower() == wanted or offer.name.lower() == wanted]


def use_voucher(session, customer, reward: str, at):
    """`redeem KEY --voucher REWARD`: the customer's oldest usable voucher for ``reward`` (or a card's or
    goal's name) from the program type that gives it; the first type's refusal when none does."""
    from loyaltycli.base.errors import InvalidInput, NotFound

    if not (reward or "").strip():
        raise InvalidInput(gettext('--voucher needs the reward, e.g. --voucher "Free coffee"'))
    from loyaltycli.base.errors import RuleNotMet
    from loyaltycli.store.ledger import check_when

    at = check_when(at)

    refused = []
    for store in stores():  # a card and a goal may give the same reward: the first that has a voucher
        if hasattr(store, "use_voucher"):
            try:
                used = store.use_voucher(session, customer, reward, at)
            except (NotFound, RuleNotMet) as exc:
                refused.append(exc)
                continue
            # left: the customer's vouchers for that reward, whichever program type gave them
            used["vouchers_left"] += sum(other.vouchers_held(session, customer, reward, at) for other in stores()
                                         if other is not store and hasattr(other, "vouchers_held"))
            return used
    held = [exc for exc in refused if not isinstance(exc, NotFound)]
    if held:
        raise held[0]  # a type that gives it, but the customer has no (unexpired) voucher of it
    if len(refused) > 1:  # no program type gives it: say so of them all, not of the first one asked
        raise NotFound(gettext('no stamp card or goal gives {reward!r}; see `loyalty card list` and '
                               '`loyalty goal list`').format(reward=reward.strip()))
    raise refused[0]


def shown(session, program, customer_id: int, now, written: set[str] | None = None) -> list[tuple[str, object, str]]:
    """(JSON key, value, text) of each program type a customer has something on (`balance`, `customer show`);
    ``written``: only the types that wrote rows to these tables (what a sale just moved)."""
    out = []
    for store in stores():
        if written is not None and not written & set(getattr(store, "TABLES", {})):
            continue
        if hasattr(store, "shown"):
            found = store.shown(session, program, customer_id, now)
            if found is not None:
                out.append(found)
    return out


def history(session, customer_id: int) -> list[dict]:
    """The rows of the program types that keep their own ledger and say it in `history` (goals), oldest
    first: ``at``, ``kind``, ``note`` (English, for scripts), ``say()`` (for people, in the language then)."""
    rows = [row for store in stores() if hasattr(store, "history") for row in store.history(session, customer_id)]
    return sorted(rows, key=lambda row: row["at"])


def checked_offer(name: str, reward: str, skus: list[str] | None, name_refused: str) -> tuple[str, str, list[str]]:
    """The name, reward and SKU patterns of a program type that gives vouchers (stamp cards, goals), as
    typed, checked; ``name_refused``: the refusal of a name that is empty or too long."""
    from loyaltycli.base.errors import InvalidInput
    from loyaltycli.base.textkey import check_plain_text

    name = (check_plain_text(name, "name") or "").strip()
    reward = (check_plain_text(reward, "reward") or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(name_refused)
    if not reward or len(reward) > 200:
        raise InvalidInput(gettext('--reward must be 1 to 200 characters (e.g. "Free coffee")'))
    patterns = [p.strip() for p in skus or [] if p.strip()]
    if any(len(p) > 64 or "\n" in p for p in patterns) or sum(len(p) + 1 for p in patterns) > 1000:
        raise InvalidInput(gettext('--sku patterns must be at most 64 characters each'))
    return name, reward, patterns
