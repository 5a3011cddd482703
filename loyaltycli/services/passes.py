"""Card codes: a signed code per customer, printed as a QR code, that a scanner types as a KEY.

A code reads ``LC1.<ref>.<kid>.<mac>`` (27 characters, all in the QR alphanumeric set):

- ``ref``: 8 random base32 characters, stored in ``customer_pass``; nothing in it comes from the person
  (no phone, tax id, name, not even the customer number);
- ``kid``: the id of the ``pass_key`` whose secret signed it;
- ``mac``: the first 60 bits of HMAC-SHA256(secret, ``LC1.<ref>.<kid>``), base32.

A lost card is revoked: its reference is marked revoked and a new one issued (a reference is never given
twice). Rotating the key makes a new signing key; codes signed by an older key keep working until that
key is retired. A code that does not verify, of another database (another secret), revoked, of a retired
key or of a forgotten customer is refused with the same message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.base.errors import InvalidInput, RuleNotMet, UnknownCustomer
from loyaltycli.store.models import Customer, CustomerPass, PassKey
from loyaltycli.i18n import gettext

VERSION = "LC1"
REF_LENGTH = 8
MAC_LENGTH = 12
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SHAPE = re.compile(r"^LC1\.([A-Z2-7]{%d})\.([0-9]{1,6})\.([A-Z2-7]{%d})$" % (REF_LENGTH, MAC_LENGTH))


# -- the code itself (no database) ----------------------------------------------------------------
def looks_like_code(text: str | None) -> bool:
    """Whether a KEY is meant as a card code (then it is checked as one, and never as anything else);
    an e-mail address that starts the same way (lc1.ann@example.ie) is not one."""
    text = (text or "").strip()
    return text.upper().startswith(VERSION + ".") and "@" not in text


def mac(secret_hex: str, kid: int, ref: str) -> str:
    """The code's signature: 60 bits of HMAC-SHA256 over its version, reference and key id, base32."""
    digest = hmac.new(bytes.fromhex(secret_hex), f"{VERSION}.{ref}.{kid}".encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode("ascii")[:MAC_LENGTH]


def sign(secret_hex: str, kid: int, ref: str) -> str:
    """The card code of reference ``ref`` signed by key ``kid``."""
    return f"{VERSION}.{ref}.{kid}.{mac(secret_hex, kid, ref)}"


def parse(text: str | None) -> tuple[str, int, str] | None:
    """(ref, kid, mac) of a code as scanned or typed (any case, spaces around), or None when it has not
    the shape of a code."""
    match = _SHAPE.match((text or "").strip().upper())
    if match is None:
        return None
    return match.group(1), int(match.group(2)), match.group(3)


def new_ref() -> str:
    return "".join(secrets.choice(_BASE32) for _ in range(REF_LENGTH))


# -- keys -------------------------------------------------------------------------------------------
def signing_key(session: Session) -> PassKey:
    """The key that signs new codes: the newest one not retired; the database's first is made here when it
    has none yet (a new database gets it at `init`, an upgraded one from its migration)."""
    key = _newest_key(session)
    return key if key is not None else _new_key(session)


def _newest_key(session: Session) -> PassKey | None:
    return session.execute(select(PassKey).where(PassKey.retired_at.is_(None))
                           .order_by(PassKey.id.desc()).limit(1)).scalar()


def _new_key(session: Session) -> PassKey:
    key = PassKey(secret=secrets.token_hex(32), created_at=clock.now())
    session.add(key)
    session.flush()
    return key


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown of a key (never its secret)."""

    kid: int
    created_at: datetime
    retired_at: datetime | None
    signing: bool


def list_keys(session: Session) -> list[KeyInfo]:
    """Every key, oldest first; which one signs new codes."""
    signer = signing_key(session).id
    keys = session.execute(select(PassKey).order_by(PassKey.id)).scalars().all()
    return [KeyInfo(k.id, k.created_at, k.retired_at, k.id == signer) for k in keys]


def rotate_key(session: Session, *, retire_old: bool = False, at: datetime | None = None) -> PassKey:
    """A new signing key. Codes signed by older keys keep working until those keys are retired
    (``retire_old`` retires them at once: a secret that leaked)."""
    at = at or clock.now()
    if retire_old:
        session.execute(update(PassKey).where(PassKey.retired_at.is_(None)).values(retired_at=at))
    key = PassKey(secret=secrets.token_hex(32), created_at=at)
    session.add(key)
    session.flush()
    return key


def retire_key(session: Session, kid: int, *, at: datetime | None = None) -> PassKey:
    """Stop accepting the codes signed by key ``kid`` (the customers' current codes are signed by the
    signing key, so their cards printed since the rotation keep working). The signing key cannot be retired:
    rotate first."""
    key = session.get(PassKey, kid)
    if key is None:
        raise InvalidInput(gettext('no card key {kid}; see `loyalty pass keys`').format(kid=kid))
    if key.retired_at is None and key.id == signing_key(session).id:
        raise RuleNotMet(gettext('key {kid} signs the current cards; run `loyalty pass rotate-key` first').format(kid=kid))
    if key.retired_at is None:
        key.retired_at = at or clock.now()
        session.flush()
    return key


# -- a customer's code ------------------------------------------------------------------------------
def _current(session: Session, customer_id: int) -> CustomerPass | None:
    return session.execute(select(CustomerPass).where(CustomerPass.customer_id == customer_id,
                                                      CustomerPass.revoked_at.is_(None))
                           .order_by(CustomerPass.id.desc()).limit(1)).scalar()


def _issue(session: Session, customer_id: int, at: datetime) -> CustomerPass:
    while True:
        ref = new_ref()
        if session.execute(select(CustomerPass.id).where(CustomerPass.ref == ref)).first() is None:
            break
    row = CustomerPass(customer_id=customer_id, ref=ref, issued_at=at)
    session.add(row)
    session.flush()
    return row


def _active(session: Session, customer_id: int) -> Customer:
    from loyaltycli.store import ledger

    customer = ledger.lock_customer(session, customer_id, require_active=False)
    if customer is None:
        raise UnknownCustomer(gettext('no customer with id {id}').format(id=customer_id))
    if customer.status != "active":
        raise RuleNotMet(gettext('customer {code} was {status}; it has no card').format(
            code=customer.code, status=gettext(customer.status)))
    return customer


def code_for(session: Session, customer_id: int, *, at: datetime | None = None) -> str:
    """The customer's current card code, signed by the signing key; the customer's card reference is
    issued on first use (call it in a write session). Raises RuleNotMet for a merged or forgotten customer."""
    customer = session.get(Customer, customer_id)
    row = _current(session, customer_id)
    if customer is None or customer.status != "active" or row is None:
        _active(session, customer_id)  # under the customer's lock: refused, or one reference issued
        row = _current(session, customer_id) or _issue(session, customer_id, at or clock.now())
    key = signing_key(session)
    return sign(key.secret, key.id, row.ref)


def current_code(session: Session, customer_id: int) -> str | None:
    """The customer's current code when one was issued (None otherwise); never writes, so a read-only
    command may show it."""
    row = _current(session, customer_id)
    customer = session.get(Customer, customer_id)
    if row is None or customer is None or customer.status != "active":
        return None
    key = _newest_key(session)
    return sign(key.secret, key.id, row.ref) if key is not None else None


def revoke(session: Session, customer_id: int, *, at: datetime | None = None) -> str:
    """A lost card: its code stops working at once; returns the customer's new code."""
    at = at or clock.now()
    _active(session, customer_id)
    revoke_all(session, [customer_id], at=at)
    _issue(session, customer_id, at)
    return code_for(session, customer_id, at=at)


def revoke_all(session: Session, customer_ids: list[int], *, at: datetime | None = None) -> int:
    """Revoke the current codes of these customers without issuing new ones (`customer forget`);
    returns how many were revoked."""
    if not customer_ids:
        return 0
    result = session.execute(update(CustomerPass).where(CustomerPass.customer_id.in_(customer_ids),
                                                        CustomerPass.revoked_at.is_(None))
                             .values(revoked_at=at or clock.now()))
    return result.rowcount or 0


def customer_for_code(session: Session, text: str) -> Customer:
    """The customer a scanned or typed code names: the code must have the shape, be signed by a key of this
    database that is not retired, and hold the current reference of an active customer (a merged
    customer's card finds the customer it was merged into). Anything else raises UnknownCustomer with one
    message, which tells nothing of why."""
    parsed = parse(text)
    if parsed is not None:
        ref, kid, given = parsed
        key = session.get(PassKey, kid)
        if key is not None and key.retired_at is None and hmac.compare_digest(mac(key.secret, kid, ref), given):
            row = session.execute(select(CustomerPass).where(CustomerPass.ref == ref,
                                                             CustomerPass.revoked_at.is_(None))).scalar()
            customer = session.get(Customer, row.customer_id) if row is not None else None
            for _hop in range(8):
                if customer is None or customer.status != "merged":
                    break
                customer = session.get(Customer, customer.merged_into_id)
            if customer is not None and customer.status == "active":
                return customer
    raise UnknownCustomer(gettext('unknown card {code!r}: not a card of this shop, or no longer valid (lost, '
                                  'replaced or forgotten); find the customer by another KEY').format(
        code=(text or "").strip()[:40]))
