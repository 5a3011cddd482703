"""The program types as rules of the engine: one module per type, one small protocol, a fixed order.

The protocol (as pluggy's hook specs: every hook is optional, ``Rule`` gives the no-ops; as beancount's
plugins: each rule is a pure function over the event, run in sequence):

- at module level, ``ORDER`` (an int: where the rule runs) and ``build(program) -> Rule | None`` (the
  rule as the shop's settings make it; None where the shop does not run it); optionally ``SETTINGS``
  (``base.settings.Setting``s: the program's settings of this type, read into ``program``'s attributes,
  listed by `program show` after the core ones in this order) and ``NOTES`` (``engine.note.Note``s: the
  kinds of note its rows keep, with their English templates, found by ``engine.notes`` to show them);
- ``Rule.KEY``: the rule's name (what a sale gave it is kept under this key: ``Sale.given[KEY]``);
- ``Rule.needs``: the account state the rule reads, by name (``STATE``); the store loads each named state
  set-based, for one customer or a batch (the store side of a rule's own state:
  ``loyaltycli.programs``);
- ``Rule.items``: whether the rule reads a sale's items (the import reads a receipt's lines only then);
- hooks, each given the engine (its helpers: rates, expiry date, rows) and the event:
  ``sale``, ``refund``, ``enroll``, ``expire`` (cards past their deadline, before a sale or a refund
  and by ``loyalty expire``), ``occasion`` (a dated bonus such as a birthday);
- the rows a hook returns are appended to ``event.out`` (a ``Decision``): ``rows`` for the points
  ledger (lists in ``LEDGER_COLUMNS`` order), ``writes[table]`` for a rule's own table (lists in that
  table's column order, ``purchase_id`` filled in by the caller); ``event.out.given[KEY]`` what a sale
  gave the rule, for its refunds.

The order (``ORDER`` of each module, lowest first; ``order()`` lists it):

  5  earning by product  (``program rule add --earn``: SKU patterns earning spend points at another rate)
 10  spend points        (points per spend or cashback, tier of the window, membership multiplier)
 20  visit points        (``earn_per_visit``)
 30  item rules          (``program rule add --points``)
 40  milestone           (the calendar year's spend reaching ``milestone_spend``, once a year)
 50  referral            (the referee's first purchase of at least the minimum)
 60  stamp cards         (stamps, full cards as vouchers, deadlines)
 70  goals               (spend on SKU patterns in a calendar month, a voucher when reached)
 80  welcome             (enrollment)
 90  birthday            (``birthdays --award``)

A rule earlier in the order may set what a later one reads of the event: ``portions`` (the amount cut
into parts earning at their own rate, read by the spend points). A sale's account takes the sale after
every rule has run (the spend window and the year's spend are those before it).

Pure: no database, no clock, no I/O. Adding a program type is adding a module here, with its settings
and notes (and, for its own state, rows and definitions, one in ``loyaltycli.programs``, whose
``file_section`` puts the definitions in the program file) and its CLI: the engine, the settings' store,
the notes, the program file and the other callers stay as they are.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loyaltycli.engine.account import Account
    from loyaltycli.engine.earning import Decision, Engine, Sale

# account state a rule may declare (``Rule.needs``); a rule's own state is named by its KEY
STATE = ("spend", "memberships", "bonus_keys", "referral", "cards")


@dataclass
class Event:
    """What happens to one account: a sale, a refund, an enrollment, an expiry or an occasion.

    ``amount``: cents (a refund's positive); ``items``: (sku, quantity, amount) tuples (a refund's positive);
    ``sale``: the sale a refund gives back (None: none linked); ``portions``: the amount as (cents, rate)
    parts, rate None for the program's own (rules before the spend points may cut it); ``out``: the
    decision the rules fill in."""

    kind: str
    account: Account
    at: datetime
    out: Decision
    receipt_id: str = ""
    amount: int = 0
    channel: str = "store"
    us: int = 0
    items: tuple | list = ()
    sale: Sale | None = None
    portions: list = field(default_factory=list)
    occasion: str = ""
    key: str = ""
    detail: str = ""


class Rule:
    """A program type: the hooks it implements (the others do nothing)."""

    KEY = ""
    needs: frozenset = frozenset()
    items = False

    def sale(self, engine: Engine, event: Event) -> None:
        """A sale: its rows, and what it gave (``event.out.given[self.KEY]``)."""

    def refund(self, engine: Engine, event: Event) -> None:
        """A refund: the rows taking back what ``event.sale`` gave (or, none linked, the rate's)."""

    def enroll(self, engine: Engine, event: Event) -> None:
        """An enrollment."""

    def expire(self, engine: Engine, event: Event) -> None:
        """Before a sale or a refund at ``event.at`` (and by `expire`): what has lapsed by then."""

    def occasion(self, engine: Engine, event: Event) -> None:
        """A dated bonus (``event.occasion``, e.g. birthday; ``event.key`` its once-only key)."""


def _modules() -> list:
    """The rule modules of this package, in their ORDER (found by their files: adding one is enough)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "ORDER") and hasattr(module, "build"):
            found.append(module)
    found.sort(key=lambda m: (m.ORDER, m.__name__))
    return found


_FOUND: list | None = None


def modules() -> list:
    global _FOUND
    if _FOUND is None:
        _FOUND = _modules()
    return _FOUND


def compose(program: Any) -> tuple[Rule, ...]:
    """The shop's rules, in the fixed order."""
    rules = []
    for module in modules():
        rule = module.build(program)
        if rule is not None:
            rules.append(rule)
    return tuple(rules)


def order() -> list[tuple[int, str]]:
    """(ORDER, module name) of every rule module: the documented order."""
    return [(m.ORDER, m.__name__.rsplit(".", 1)[1]) for m in modules()]


def rate_points(program: Any, amount: int, multiplier: Decimal, rate: Decimal | None = None) -> Decimal:
    """The points of ``amount`` cents before rounding: whole units x earn rate x multiplier, or in
    cashback mode cents x percent / 100 x multiplier; ``rate`` instead of the program's own (an earning
    by product)."""
    if amount <= 0:
        return Decimal(0)
    if program.earn_mode == "cashback":  # 1 point = 1 cent of store credit
        percent = program.cashback_percent if rate is None else rate
        return Decimal(amount) * percent / 100 * multiplier
    return Decimal(amount // 100) * (program.earn_rate if rate is None else rate) * multiplier
