"""The customers an import names: found by many keys at once (``find_many``, the counter's
``customers.find`` for a block of keys) and enrolled set-based (``enroll_many``, ``customers.enroll`` for a
block of unknown keys). Use cases over the store: services, not store/storage.py, which they write through.
"""

from __future__ import annotations

from itertools import filterfalse
from operator import attrgetter

import re
from datetime import datetime
from typing import Callable, Iterable

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from loyaltycli.base.errors import LoyaltyError
from loyaltycli.base.taxid import loose as loose_tax_id
from loyaltycli.engine.account import Account
from loyaltycli.services import customers
from loyaltycli.i18n import N_, gettext
from loyaltycli.store.models import Customer, LedgerEntry
from loyaltycli.store.program import Program
from loyaltycli.store import storage
from loyaltycli.store.storage import chunks, id_param, is_sqlite, queries, write_rows
from loyaltycli.tillcsv.presets import CUSTOMER_KINDS
from loyaltycli.tillcsv.records import Receipt


# -- finding ---------------------------------------------------------------------------------------------
def find_many(session: Session, program: Program, keys: Iterable[str], cache: dict,
              tails: Callable[[], set[str]] | None = None) -> None:
    """customers.find for many keys at once, answers into ``cache``: (id, code, enrolled_at) of an active
    customer, None for an unknown key, else the reason (ambiguous, merged, forgotten). Odd keys (phones to
    normalize) go one by one through customers.find; the counter's find is the one-key case. ``tails``: gives
    the last seven digits of every customer's phone (``phone_tails``) when the caller keeps them; else the
    ones needed are looked up here."""
    sqlite = is_sqlite(session)
    keys = list(keys)
    phones: dict[str, str | None] = {}
    code_match = customers._CODE.match
    for chunk in chunks(keys, 5_000 if sqlite else 200):
        candidates, lowered = set(), set()
        for key in chunk:
            candidates.update((key, key.upper(), key.lower()))
            if code_match(key):
                candidates.add(customers.customer_code(int(key[1:])))
            lowered.add(key.lower())
        tax_ids = {key: loose_tax_id(key) for key in chunk}  # a NIF (SAF-T) finds the customer whose tax id it is
        rows = session.execute(queries(session)["customers"], {"ids": id_param(session, sorted(candidates)),
                                                      "lowered": id_param(session, sorted(lowered)),
                                                      "keys": id_param(session, chunk),
                                                      "tax_ids": id_param(session, sorted(set(tax_ids.values())))
                                                      }).all()
        index: dict[str, dict] = {}
        for row in rows:
            for value in {row.code, row.card}:
                if value:
                    index.setdefault(("id", value), {})[row.id] = row
            if row.email:
                index.setdefault(("email", row.email), {})[row.id] = row
            if row.phone:
                index.setdefault(("phone", row.phone), {})[row.id] = row
            if row.tax_id:
                index.setdefault(("tax_id", row.tax_id), {})[row.id] = row
        for key in chunk:
            cands = {key, key.upper(), key.lower()}
            if customers._CODE.match(key):
                cands.add(customers.customer_code(int(key[1:])))
            matches = {}
            for probe in [("id", c) for c in cands] + [("email", key.lower()), ("phone", key),
                                                       ("tax_id", tax_ids[key])]:
                matches.update(index.get(probe, {}))
            if len(matches) == 1:
                row = next(iter(matches.values()))
                if row.status == "active":
                    cache[key] = (row.id, row.code, row.enrolled_at)
                    continue
            if matches:
                _find_one(session, program, key, cache)  # the library says it best: ambiguous, merged, forgotten
            elif _PHONE_LIKE.match(key):
                phones[key] = None
            else:
                cache[key] = None
    if phones:  # keys that may be phones written another way: normalized, then looked up at once
        from loyaltycli.base.errors import InvalidInput

        # a phone a key normalizes to ends in the key's last seven digits: only keys whose seven last
        # digits end some customer's phone are worth normalizing (parsing a phone number is slow)
        ends = {key: re.sub(r"\D", "", key)[-7:] for key in phones}
        known = tails() if tails is not None else phone_tails(session, set(ends.values()))
        for key in phones:
            if ends[key] not in known:
                continue
            try:
                phones[key] = customers.normalize_phone(key, program.phone_region if program else "IE")
            except InvalidInput:
                pass
        owners: dict[str, list] = {}
        for chunk in chunks(sorted({p for p in phones.values() if p})):
            for row in session.execute(select(Customer.id, Customer.code, Customer.enrolled_at, Customer.phone,
                                              Customer.status).where(Customer.phone.in_(chunk))):
                owners.setdefault(row.phone, []).append(row)
        for key, phone in phones.items():
            found = owners.get(phone) if phone else None
            if not found:
                cache[key] = None
            elif len(found) == 1 and found[0].status == "active":
                cache[key] = (found[0].id, found[0].code, found[0].enrolled_at)
            else:
                _find_one(session, program, key, cache)


def phone_tails(session: Session, among: set[str] | None = None) -> set[str]:
    """The last seven digits of the customers' phones (those in ``among``; None: all of them)."""
    ending = func.substr(Customer.phone, -7) if is_sqlite(session) else func.right(Customer.phone, 7)
    query = select(ending).where(Customer.phone.is_not(None))
    if among is None:
        return set(session.execute(query).scalars())
    found: set[str] = set()
    for ids in storage.id_lists(session, sorted(among)):
        found.update(session.execute(query.where(storage.in_ids(session, ending)), {"ids": ids}).scalars())
    return found


_PHONE_LIKE = re.compile(r"^[+0-9][0-9 ()./-]{5,}$")


def is_phone_like(key: str) -> bool:
    """A key that may be a phone written some other way (spaces, dots, +country)."""
    return bool(_PHONE_LIKE.match(key))


def _find_one(session: Session, program: Program, key: str, cache: dict) -> None:
    try:
        customer = customers.find(session, key, program)
        cache[key] = (customer.id, customer.code, customer.enrolled_at)
    except LoyaltyError as exc:
        cache[key] = None if "unknown customer" in str(exc) else str(exc)


# -- enrolling many --------------------------------------------------------------------------------------
def enroll_many(session: Session, program: Program, wanted: list[tuple[str, str, datetime]],
                recorded: datetime, profiles: dict[str, dict[str, str]] | None = None,
                known_tails: set[str] | None = None) -> dict[str, tuple | str]:
    """Enroll customers first seen in an import, set-based: (key, kind, enrolled_at) with kind card, email
    or phone. Each key gets (id, code, enrolled_at), or the reason it cannot be enrolled, as
    customers.enroll would say it (a value that is not valid, or already another customer's). One INSERT
    for the customers, one for their welcome bonuses. ``profiles``: key -> name and tax id the file gives
    (a name that is not valid is left out; a tax id that is not valid, or another customer's, too).
    ``known_tails``: the caller's set of the last seven digits of every customer's phone (``phone_tails``),
    kept up to date here."""
    from loyaltycli.base.errors import InvalidInput

    out: dict[str, tuple | str] = {}
    rows = []  # (key, column, value, at)
    taken: dict[tuple[str, str], str] = {}
    aliases: list[tuple[str, str]] = []  # (key, the key of the same customer that enrolls them)
    for key, kind, at in wanted:
        try:
            profile = customers.validate_profile(program, **{kind: key})
        except InvalidInput as exc:
            out[key] = gettext("cannot enroll unknown customer {key!r}: {reason}").format(key=key, reason=exc)
            continue
        value = getattr(profile, kind)
        if (kind, value) in taken:  # two ways of typing one customer (0722 123 456, 0722123456): one enrolls
            aliases.append((key, taken[kind, value]))
            continue
        taken[kind, value] = key
        rows.append((key, kind, value, at))
    # values that normalize to an existing customer's
    for kind in ("card", "email", "phone", "tax_id"):
        values = sorted({value for _, k, value, _ in rows if k == kind})
        column = getattr(Customer, kind)
        query = select(column, Customer.code).where(storage.in_ids(session, column))
        for ids in storage.id_lists(session, values):
            for value, code in session.execute(query, {"ids": ids}):
                label = gettext({"email": N_("e-mail"), "tax_id": N_("tax id"), "card": N_("card"),
                                 "phone": N_("phone")}[kind])
                taken[kind, value] = gettext("{label} {value} already belongs to customer {other}").format(
                    label=label, value=value, other=code)
    kept = []
    for key, kind, value, at in rows:
        owner = taken.get((kind, value))
        if owner != key:
            out[key] = gettext("cannot enroll unknown customer {key!r}: {reason}").format(key=key, reason=owner)
        else:
            kept.append((key, kind, value, at))
    if not kept:
        out.update((alias, out[key]) for alias, key in aliases if key in out)
        return out
    codes = _referral_codes(session, len(kept))
    table = Customer.__table__
    extra = _profiles(session, program, [key for key, *_ in kept], profiles or {})
    records = [{"code": f"tmp-{i}-{code}", "name": None, "phone": None, "email": None, "card": None,
                "birthday": None, "consent": False, "referral_code": code, "enrolled_at": at, "status": "active",
                "merged_into_id": None, "search_key": None, "tax_id": None, **extra.get(key, {}), kind: value}
               for i, ((key, kind, value, at), code) in enumerate(zip(kept, codes))]
    if is_sqlite(session):  # the write lock is ours: so are the next ids
        first = (session.execute(select(func.max(Customer.id))).scalar() or 0) + 1
        ids = list(range(first, first + len(records)))
        for id_, record in zip(ids, records):
            record["id"] = id_
            record["code"] = customers.customer_code(id_)
        columns = tuple(records[0])
        write_rows(session, table, columns, [list(map(record.get, columns)) for record in records])
    else:
        ids = list(session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                   records).scalars())
        session.execute(update(table).where(table.c.id == bindparam("cid")).values(code=bindparam("new_code")),
                        [{"cid": id_, "new_code": customers.customer_code(id_)} for id_ in ids])
    if known_tails is not None:
        known_tails.update(value[-7:] for _, kind, value, _ in kept if kind == "phone")
    welcome = []
    from loyaltycli.shop.clock import local_zone
    from loyaltycli.engine.earning import LEDGER_COLUMNS, Engine

    engine = Engine(program, local_zone(), recorded)
    for id_, (key, _, _, at) in zip(ids, kept):
        out[key] = (id_, customers.customer_code(id_), at)
        welcome.extend(engine.enroll(Account(id_, customers.customer_code(id_), at), at).rows)  # the welcome bonus
    if welcome:
        write_rows(session, LedgerEntry.__table__, LEDGER_COLUMNS, welcome)
    out.update((alias, out[key]) for alias, key in aliases if key in out)
    return out


def _profiles(session: Session, program: Program, keys: list[str],
              profiles: dict[str, dict[str, str]]) -> dict[str, dict]:
    """The name (and its search key) and tax id of customers an import enrolls, as the file gives them;
    a value that is not valid (or a tax id already another customer's, or given twice) is left out."""
    from loyaltycli.base.textkey import search_key

    out: dict[str, dict] = {}
    tax_ids: dict[str, str] = {}
    for key in keys:
        given = profiles.get(key)
        if not given:
            continue
        record: dict = {}
        try:
            name = customers.clean_name(given.get("name"))
            record.update(name=name, search_key=search_key(name))
        except LoyaltyError:
            pass
        if given.get("tax_id"):
            try:
                tax_id = customers.normalize_tax_id(given["tax_id"], program)
                if tax_id not in tax_ids.values():
                    tax_ids[key] = tax_id
            except LoyaltyError:
                pass
        out[key] = record
    if tax_ids:
        taken = set()
        for chunk in chunks(sorted(set(tax_ids.values()))):
            taken.update(session.execute(select(Customer.tax_id).where(Customer.tax_id.in_(chunk))).scalars())
        for key, tax_id in tax_ids.items():
            if tax_id not in taken:
                out[key]["tax_id"] = tax_id
    return out


def _referral_codes(session: Session, count: int) -> list[str]:
    """``count`` new referral codes, none in use (checked set-based)."""
    import secrets

    alphabet, length = customers.REFERRAL_ALPHABET, customers.REFERRAL_LENGTH
    limit = 256 - 256 % len(alphabet)  # bytes at or over this are dropped: every letter equally likely
    codes: list[str] = []
    while len(codes) < count:
        letters = "".join(alphabet[b % len(alphabet)] for b in secrets.token_bytes(2 * length * (count - len(codes)))
                          if b < limit)
        fresh = {letters[i:i + length] for i in range(0, len(letters) - length + 1, length)}
        fresh = set(list(fresh)[:count - len(codes)])
        fresh -= set(codes)
        for chunk in chunks(sorted(fresh)):
            fresh -= set(session.execute(select(Customer.referral_code).where(
                Customer.referral_code.in_(chunk))).scalars())
        codes.extend(fresh)
    return codes


# -- a block's customers, for the importer ---------------------------------------------------------------
class BlockCustomers:
    """The importer's part that finds each receipt's customer (a mixin of services/importer.Importer, as
    ImportSetUp is): keys looked up a block at a time (``find_many``) and kept between blocks, unknown ones
    enrolled set-based (``enroll_many``) with --enroll-unknown, each receipt given its customer's Account."""

    def _resolve_customers(self, session: Session, program: Program, ready: list[Receipt]) -> None:
        cache = self._customer_cache
        if len(cache) > 200_000:
            cache.clear()
        named = set(map(attrgetter("customer_key"), ready))
        keys = set(filterfalse(cache.__contains__, named))  # (not named - cache.keys(): that walks every key kept)
        # on SQLite the phones' last digits are kept for the transaction (it holds the write lock: no one
        # enrolls meanwhile); on PostgreSQL another till may commit a customer at any moment: read each time
        tails = (lambda: self._known_tails(session)) if is_sqlite(session) else None
        if keys:
            find_many(session, program, keys, cache, tails)
        unknown: dict[str, datetime] = {}
        if None in map(cache.get, named):  # some key that finds no one
            for receipt in ready:
                if receipt.amount < 0:
                    continue  # a return never enrolls anyone (nor earns a welcome bonus)
                found = cache.get(receipt.customer_key)
                if found is None and receipt.customer_key not in unknown:
                    unknown[receipt.customer_key] = receipt.at
                elif found is None:
                    unknown[receipt.customer_key] = min(unknown[receipt.customer_key], receipt.at)
        if unknown and self.enroll_unknown:
            wanted = []
            for key, at in unknown.items():
                kind = self._kind(key, program)
                if kind == "code":  # the file names our customer codes: an unknown one is not enrolled
                    cache[key] = gettext('unknown customer code {key!r}; --customer-kind code enrolls no one').format(key=key)
                else:
                    wanted.append((key, kind, at))
            profiles = self.reader.names([r for r in ready if r.customer_key in unknown]) if wanted else {}
            enrolled = (enroll_many(session, program, wanted, self._engine.recorded, profiles=profiles,
                                    known_tails=self._phone_tails) if wanted else {})
            cache.update(enrolled)
            fresh = len({found[0] for found in enrolled.values() if not isinstance(found, str)})
            self.summary.enrolled += fresh
            self.summary.points_awarded += fresh * program.welcome_bonus
            self._enrolled_some = self._enrolled_some or bool(fresh)
        if self._enrolled_some:
            # a key looked up before this run enrolled its customer under another spelling (a phone typed
            # 0722 123 456 on the sale, 0722123456 on its return): looked up again, as `balance` finds it
            again = {r.customer_key for r in ready if cache.get(r.customer_key) is None
                     and is_phone_like(r.customer_key)}
            for key in again:
                del cache[key]
            if again:
                find_many(session, program, again, cache, tails)
        states = self._accounts
        # a missed night imported late: customers this import enrolled on a later night move back to it
        early: dict[int, datetime] = {}
        for receipt in ready:
            found = cache.get(receipt.customer_key)
            if found is None and receipt.amount < 0:
                # a return of a customer never seen: their sale predates what we have; counted, skipped
                self.summary.returns_without_sale += len(receipt.lines)
                continue
            if found is None:
                hint = (gettext('unknown customer {customer_key!r}') if self.enroll_unknown else
                        gettext('unknown customer {customer_key!r}; enroll them first or run the import with --enroll-unknown'))
                self.reader.reject_receipt(receipt, hint.format(customer_key=receipt.customer_key))
                continue
            if isinstance(found, str):
                self.reader.reject_receipt(receipt, found)
                continue
            id_, code, enrolled_at = found
            state = states.get(id_)
            if state is None:
                state = states[id_] = Account(id_, code, enrolled_at)
            receipt.customer = state
            if receipt.at < state.enrolled_at and receipt.amount > 0:
                early[id_] = min(receipt.at, early.get(id_, receipt.at))
        if early:
            for id_, at in storage.move_enrolment_back(session, program, early).items():
                states[id_].enrolled_at = at
            for key in [k for k, v in cache.items() if isinstance(v, tuple) and v[0] in early]:
                id_, code, _ = cache[key]
                cache[key] = (id_, code, states[id_].enrolled_at)

    def _known_tails(self, session: Session) -> set[str]:
        """The last seven digits of every customer's phone, read once until customers are forgotten
        (``Importer._forget_customers``: another writer wrote between two transactions); the phones this
        run enrolls are added as it goes. SQLite only: nobody else writes during the transaction."""
        if self._phone_tails is None:
            self._phone_tails = phone_tails(session)
        return self._phone_tails

    def _kind(self, key: str, program: Program) -> str:
        """How an unknown customer's key enrolls them: card, email, phone, or code (not enrolled); the
        preset or --customer-kind may say."""
        kind = self.reader.options.customer_kind
        if kind == "contact":  # a phone or an e-mail, never a card
            return "email" if "@" in key else "phone"
        if kind not in CUSTOMER_KINDS:
            # a number valid for the shop's phone region is a phone; anything else a card
            return "email" if "@" in key else "phone" if customers.is_phone_key(key, program.phone_region) else "card"
        return kind
