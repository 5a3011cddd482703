"""SQLModel tables. The ledger is the truth: balances, lots and tiers derive from it."""

# No `from __future__ import annotations` here: real annotations spare pydantic and SQLAlchemy from
# evaluating some 280 strings while the 14 table classes are built at every start.
from datetime import date, datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, DateTime, Index, UniqueConstraint, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from loyaltycli.base.instants import instant, microseconds
from loyaltycli.shop.clock import UTC

# Table models are built without pydantic validation (SQLModel fills them field by field), so their
# validators need not be compiled at import: a faster start for every command; built on first use if ever.
SQLModel.model_config["defer_build"] = True


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out. On SQLite stored as whole microseconds since 1970 (UTC),
    an INTEGER (0011_instants, issue 26: 8 bytes in a row and an index where the text took 27, compared and
    sorted as numbers, written without formatting); elsewhere (PostgreSQL) as a naive UTC timestamp.

    Every time compared with such a column in SQL must go through this type (a column, or a parameter
    compared with one): on SQLite a time bound as text compares with an INTEGER column *silently* wrong
    (any integer sorts before any text). tests/conftest.py refuses a bound time-like text on SQLite."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return microseconds(value)
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return instant(value)
        return value.replace(tzinfo=UTC)


class BigInt(TypeDecorator):
    """64-bit integers for money and points (PostgreSQL's INTEGER stops at 2**31), read back as int:
    PostgreSQL sums BIGINT into NUMERIC, which would otherwise arrive as Decimal."""

    impl = BigInteger
    cache_ok = True

    def process_result_value(self, value, dialect):
        return None if value is None else int(value)


def big(default=..., **kwargs):
    """A 64-bit integer column (cents or points)."""
    return Field(default=default, sa_type=BigInt, **kwargs)


def ts(nullable: bool = False, index: bool = False):
    """A timestamp column."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Customer(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=16)
    name: Optional[str] = Field(default=None, max_length=200)
    phone: Optional[str] = Field(default=None, unique=True, max_length=32)
    email: Optional[str] = Field(default=None, unique=True, max_length=254)
    card: Optional[str] = Field(default=None, unique=True, max_length=40)
    birthday: Optional[date] = None
    consent: bool = False
    referral_code: str = Field(unique=True, max_length=16)
    enrolled_at: datetime = ts()
    # active | merged | forgotten
    status: str = Field(default="active", max_length=16)
    merged_into_id: Optional[int] = Field(default=None, foreign_key="customer.id")
    # The name folded for search (case, accents; base/textkey.py), kept in step by the listener below.
    search_key: Optional[str] = Field(default=None, max_length=200, index=True)
    # A tax id (NIF, NIE, CNP, CUI, codice fiscale) in stdnum's compact form (base/taxid.py): a KEY.
    tax_id: Optional[str] = Field(default=None, unique=True, index=True, max_length=32)
    # The customer's own language (pt_PT, ro, it, es, en: i18n.languages()); None: the shop's.
    language: Optional[str] = Field(default=None, max_length=16)


class ConsentRecord(SQLModel, table=True):
    """When and how a customer answered (gave or withdrew) consent on one channel: membership, e-mail
    offers, SMS offers (loyaltycli/services/consent.py). The proof GDPR and ePrivacy ask for before a campaign.
    Append-only: a channel's answer is its latest record; ``customer.consent`` mirrors the e-mail one."""

    __tablename__ = "consent_record"
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    at: datetime = ts()
    given: bool
    # how it was given: "enroll --consent", "asked at the counter (enroll)", "customer edit --no-consent"...
    how: str = Field(max_length=200)
    # membership | email | sms (rows from before channels answered "offers": the e-mail channel)
    channel: str = Field(default="email", max_length=16, sa_column_kwargs={"server_default": "email"})
    # the version of the wording the customer answered (None: not known)
    version: Optional[str] = Field(default=None, max_length=64)


class Purchase(SQLModel, table=True):
    """A sale (amount > 0) or a refund (amount < 0, refund_of set when it names its sale)."""

    __table_args__ = (
        # One index for a receipt's identity and its look-ups (0010_lean): unique on (source, receipt_id),
        # as upper(receipt_id) is a function of receipt_id, and led by upper(receipt_id) because receipt
        # ids compare case-insensitively (ab-1 is AB-1), in one source or across them (the same till's
        # receipts imported under another --source). A look-up by the exact id names upper() too.
        Index("uq_purchase_receipt", text("upper(receipt_id)"), "source", "receipt_id", unique=True),
        # amount (and channel) ride along so that reports aggregate from the index alone
        Index("ix_purchase_customer_at", "customer_id", "at", "amount"),
        Index("ix_purchase_at", "at", "amount", "customer_id", "channel"),
        # Only refunds that name their sale are looked up by it: most purchases are sales (NULL here).
        # (sqlite_where only, as uq_ledger_bonus below: PostgreSQL keeps the whole index.)
        Index("ix_purchase_refund_of_id", "refund_of_id", sqlite_where=text("refund_of_id IS NOT NULL")),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    source: str = Field(default="counter", max_length=64)
    receipt_id: str = Field(max_length=64)
    at: datetime = ts()
    amount: int = big()
    channel: str = Field(default="store", max_length=32)
    refund_of_id: Optional[int] = Field(default=None, foreign_key="purchase.id")
    # provenance of imported rows: file name and first line
    import_file: Optional[str] = Field(default=None, max_length=255)
    import_line: Optional[int] = None


class PurchaseItem(SQLModel, table=True):
    __tablename__ = "purchase_item"
    __table_args__ = (Index("ix_purchase_item_purchase_id", "purchase_id", "sku"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    purchase_id: int = Field(foreign_key="purchase.id")
    sku: str = Field(max_length=64, index=True)
    # thousandths of a unit, exact: 2 items = 2000, 0.750 kg = 750 (base/numbers.py)
    quantity_milli: int
    unit_price: int = big()
    amount: int = big()


class LedgerEntry(SQLModel, table=True):
    """One change of a balance. Append-only: never deleted, never updated (but for the free-text reason of
    an award, erased when its customer is forgotten)."""

    __tablename__ = "ledger"
    __table_args__ = (
        Index("ix_ledger_customer_at", "customer_id", "at"),
        Index("ix_ledger_kind_at", "kind", "at", "delta"),
        # once-only bonuses (welcome, milestone:2026, referral:7...) cannot be written twice. Rows without
        # a bonus key never clash: NULLs are distinct in a unique index on SQLite and PostgreSQL alike.
        # (No postgresql_where: naming a postgresql_* option imports SQLAlchemy's PostgreSQL dialect and
        # its drivers' modules into every SQLite command, some 30 ms of each counter command's start.)
        Index("uq_ledger_bonus", "customer_id", "bonus_key", unique=True,
              sqlite_where=text("bonus_key IS NOT NULL")),
        # a sale's rows (earned, reversed); rows of no sale (welcome, redeem, expire...) are never
        # looked up by it (0010_lean; on PostgreSQL the whole index, as above)
        Index("ix_ledger_purchase_id", "purchase_id", sqlite_where=text("purchase_id IS NOT NULL")),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    # earn, refund, welcome, milestone, referral, award, adjust, redeem, expire, donate, ...
    kind: str = Field(max_length=24)
    delta: int = big()
    at: datetime = ts()
    expires_at: Optional[datetime] = ts(nullable=True)
    purchase_id: Optional[int] = Field(default=None, foreign_key="purchase.id")
    # for kind=expire: the earning row whose remainder expired
    lot_id: Optional[int] = Field(default=None, foreign_key="ledger.id")
    bonus_key: Optional[str] = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=500)
    recorded_at: datetime = ts()
    # who wrote the row by hand (award, refund, redeem, merge, forget); None for rows written by rules
    operator: Optional[str] = Field(default=None, max_length=64)
    # the note as data (engine/notes.py): its kind and values (JSON), rendered in the reader's language;
    # None for rows written before notes were data, and for reasons typed by staff (``note`` as typed)
    note_kind: Optional[str] = Field(default=None, max_length=24)
    note_args: Optional[str] = Field(default=None, max_length=1000)


class ProgramSetting(SQLModel, table=True):
    __tablename__ = "program_setting"
    key: str = Field(primary_key=True, max_length=64)
    value: str


class Referral(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    referee_id: int = Field(foreign_key="customer.id", unique=True)
    referrer_id: int = Field(foreign_key="customer.id", index=True)
    code: str = Field(max_length=16)
    at: datetime = ts()
    rewarded_purchase_id: Optional[int] = Field(default=None, foreign_key="purchase.id")
    rewarded_at: Optional[datetime] = ts(nullable=True)


class Reward(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    cost: int = big()
    active: bool = True
    created_at: datetime = ts()


class Redemption(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    ledger_id: int = Field(foreign_key="ledger.id", unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    points: int = big()
    value: int = big()
    reward_id: Optional[int] = Field(default=None, foreign_key="reward.id")
    basket: Optional[int] = big(None)
    at: datetime = ts(index=True)


class MembershipPlan(SQLModel, table=True):
    __tablename__ = "membership_plan"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    fee: int = big()
    months: int
    multiplier: str = Field(default="1", max_length=16)
    perk: str = Field(default="", max_length=500)
    active: bool = True


class Membership(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    plan_id: int = Field(foreign_key="membership_plan.id")
    started_at: datetime = ts()
    ends_at: datetime = ts()
    cancelled_at: Optional[datetime] = ts(nullable=True)
    # the fee paid for this period: a payment, never qualifying spend
    fee: int = big()


class Cause(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    created_at: datetime = ts()


class Donation(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    ledger_id: int = Field(foreign_key="ledger.id", unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    cause_id: int = Field(foreign_key="cause.id", index=True)
    points: int = big()
    value: int = big()
    at: datetime = ts()


class SurveyResponse(SQLModel, table=True):
    __tablename__ = "survey_response"
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: Optional[int] = Field(default=None, foreign_key="customer.id", index=True)
    at: datetime = ts(index=True)
    nps: Optional[int] = None
    csat: Optional[int] = None
    cli1: Optional[int] = None
    cli2: Optional[int] = None
    cli3: Optional[int] = None
    comment: Optional[str] = Field(default=None, max_length=2000)


class Product(SQLModel, table=True):
    """A product's name as the till exports describe it (the latest import wins)."""

    __tablename__ = "product"
    sku: str = Field(primary_key=True, max_length=64)
    description: str = Field(max_length=200)
    updated_at: datetime = ts()


class ImportFile(SQLModel, table=True):
    """A file an import run read: its SHA-256 and size, so that the same file is not imported twice."""

    __tablename__ = "import_file"
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="import_run.id", index=True)
    sha256: str = Field(max_length=64, index=True)
    size: int = big()
    source: str = Field(max_length=64)
    imported_at: datetime = ts()


class ImportRun(SQLModel, table=True):
    __tablename__ = "import_run"
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    file: str = Field(max_length=255)
    started_at: datetime = ts()
    finished_at: Optional[datetime] = ts(nullable=True)
    read: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    points_awarded: int = big(0)


def sku_patterns(skus: str) -> tuple[str, ...]:
    """The SKU patterns a card's or a goal's ``skus`` column holds (one per line)."""
    return tuple(p for p in skus.split("\n") if p)


class Card(SQLModel, table=True):
    """A stamp card: ``stamps`` stamps (one per matching item unit, or per visit) make a voucher for ``reward``."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    stamps: int
    reward: str = Field(max_length=200)
    # SKU patterns (fnmatch), one per line; empty: every item (per item) or any purchase (per visit)
    skus: str = Field(default="", max_length=1000)
    min_amount: int = big(0)
    per: str = Field(default="visit", max_length=8)  # visit | item
    expires_days: Optional[int] = None  # a card not filled within N days of its first stamp expires; a voucher N days
    active: bool = True
    created_at: datetime = ts()


class CardEntry(SQLModel, table=True):
    """The stamp-card ledger: stamps and vouchers, never points. Append-only like the points ledger.
    kind stamp (+, a sale), unstamp (-, its refund), complete (-, a full card), expire (-, a card not filled
    by its deadline) in unit stamp; voucher (+1, issued), voucher_used (-1, naming its voucher) in unit voucher.
    A stamp row's expires_at is the deadline of the card it leaves open (cards with --expires-days)."""

    __tablename__ = "card_ledger"
    __table_args__ = (Index("ix_card_ledger_customer_card", "customer_id", "card_id", "at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    card_id: int = Field(foreign_key="card.id", index=True)
    kind: str = Field(max_length=24)
    unit: str = Field(max_length=8)  # stamp | voucher
    delta: int
    at: datetime = ts()
    expires_at: Optional[datetime] = ts(nullable=True)
    purchase_id: Optional[int] = Field(default=None, foreign_key="purchase.id", index=True)
    voucher_id: Optional[int] = Field(default=None, foreign_key="card_ledger.id")
    note: str = Field(default="", max_length=500)
    recorded_at: datetime = ts()
    # the note as data, as the points ledger has it (engine/notes.py)
    note_kind: Optional[str] = Field(default=None, max_length=24)
    note_args: Optional[str] = Field(default=None, max_length=1000)


class PassKey(SQLModel, table=True):
    """A secret that signs the customers' card codes (loyaltycli/services/passes.py): the newest key not
    retired signs new codes; every key not retired still verifies the codes it signed."""

    __tablename__ = "pass_key"
    id: Optional[int] = Field(default=None, primary_key=True)  # the key id written in a code
    secret: str = Field(max_length=64)  # 32 random bytes, hex
    created_at: datetime = ts()
    retired_at: Optional[datetime] = ts(nullable=True)


class CustomerPass(SQLModel, table=True):
    """A customer's card reference: random, no personal data in it. The one without revoked_at is current;
    revoked ones are kept so that a reference is never given twice."""

    __tablename__ = "customer_pass"
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    ref: str = Field(max_length=16, unique=True)
    issued_at: datetime = ts()
    revoked_at: Optional[datetime] = ts(nullable=True)


class Notice(SQLModel, table=True):
    """A statement or expiry reminder given to a customer by e-mail (loyaltycli/customer/notify.py): recorded
    as ``sending`` before it leaves and ``sent`` after, so that a re-run never gives it twice; ``refused``
    when the mail server refused the address, ``failed`` when it never left (a re-run tries both again)."""

    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("customer_id", "kind", "period", name="uq_notice_customer_kind_period"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=16)  # statement | expiring
    period: str = Field(max_length=64)  # what it covers: 'ledger:<last row id>', 'until:<date>'
    last_ledger_id: Optional[int] = None  # a statement: the newest ledger row it shows
    covered_until: Optional[datetime] = ts(nullable=True)  # a reminder: the latest expiry it announces
    status: str = Field(max_length=12)  # sending | sent | refused | failed (never left)
    via: str = Field(max_length=12)  # smtp | outbox
    message_id: str = Field(max_length=255)
    created_at: datetime = ts()
    sent_at: Optional[datetime] = ts(nullable=True)
    error: Optional[str] = Field(default=None, max_length=300)


def _keep_search_key(_mapper, _connection, target) -> None:
    from loyaltycli.base.textkey import search_key

    target.search_key = search_key(target.name)


from sqlalchemy import event  # noqa: E402  (after the tables: listeners on the Customer class)

event.listen(Customer, "before_insert", _keep_search_key)
event.listen(Customer, "before_update", _keep_search_key)


class Goal(SQLModel, table=True):
    """A goal: spend of ``spend`` cents on items of the SKU patterns within a calendar ``per`` (month or
    year) gives a voucher for ``reward`` (engine/rules/goals.py)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    spend: int = big(0)
    skus: str = Field(default="", max_length=1000)  # SKU patterns, one per line; empty: the whole amount
    per: str = Field(default="month", max_length=8)  # month | year
    reward: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = ts()


class GoalEntry(SQLModel, table=True):
    """The goals' ledger, append-only: kind progress (+cents, a sale's matching spend), unprogress (-cents,
    its refund), voucher (+1, the goal reached in ``period``), voucher_used (-1, naming its voucher)."""

    __tablename__ = "goal_ledger"
    __table_args__ = (Index("ix_goal_ledger_customer_goal", "customer_id", "goal_id", "period"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    goal_id: int = Field(foreign_key="goal.id", index=True)
    kind: str = Field(max_length=24)
    period: str = Field(max_length=8)  # 2026-05 (per month) or 2026 (per year), the shop's calendar
    delta: int = big(0)
    at: datetime = ts()
    purchase_id: Optional[int] = Field(default=None, foreign_key="purchase.id", index=True)
    voucher_id: Optional[int] = Field(default=None, foreign_key="goal_ledger.id")
    note: str = Field(default="", max_length=500)
    recorded_at: datetime = ts()
