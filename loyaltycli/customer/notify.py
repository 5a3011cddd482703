"""Statements and expiry reminders by e-mail (`loyalty notify`): who gets one, what it covers, giving it
out (SMTP, or .eml files in an outbox) and recording it so that a re-run never gives it twice.

Who: only the customers who agreed to e-mail offers now (services/consent.py ``consenting``) and have an
address. What: a statement covers the ledger rows after the last statement's newest row (period
``ledger:<row id>``); it is due when there is a row it has not shown. A reminder covers the points
expiring within ``days``, up to the latest expiry it announces (period ``until:<date>``); it is due when
points expire later than every reminder given so far.

Never twice: each message is one ``notice`` row, written as ``sending`` (and committed) before the
message leaves and set to ``sent`` after. A crash between the two leaves ``sending``: a re-run skips it
(the message may or may not have left; we never guess it did not), and `--retry` gives those again
(a possible duplicate, the owner's choice, after checking the mail server's log by its Message-ID). A
refused address (SMTP 5xx for that recipient) is ``refused``: reported, the run goes on, and the next run
tries it again. Each message is its own transaction, not the whole run: what left is recorded even when
the run stops half-way. No Typer or Rich here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loyaltycli.base.errors import InvalidInput, LoyaltyError
from loyaltycli.customer import statements
from loyaltycli.i18n import _
from loyaltycli.store.models import Customer, Notice

PASSWORD_ENV = "LOYALTY_SMTP_PASSWORD"
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT = 30  # seconds for the SMTP server to answer


class MailUnavailable(LoyaltyError):
    """The mail server cannot be used (connection, TLS, login): the run stops; what left is recorded.
    ``maybe_sent``: the server may have taken the message being given (it stays 'sending')."""

    exit_code = 1
    maybe_sent = False
    run: "Run | None" = None


@dataclass
class Outcome:
    """One customer's message: sent (or written), or refused with the server's reason."""

    code: str
    email: str
    kind: str
    status: str  # sent | refused
    message_id: str
    file: str | None = None
    error: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "email": self.email, "kind": self.kind, "status": self.status,
                "message_id": self.message_id, "file": self.file, "error": self.error}


@dataclass
class Run:
    kind: str
    via: str  # smtp | outbox
    outcomes: list[Outcome] = field(default_factory=list)
    up_to_date: int = 0  # consenting customers with nothing new
    pending: int = 0  # skipped: a message recorded as sending by a run that did not finish (--retry)

    @property
    def sent(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "sent"]

    @property
    def refused(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "refused"]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "via": self.via, "sent": len(self.sent), "refused": len(self.refused),
                "up_to_date": self.up_to_date, "pending": self.pending,
                "messages": [o.as_dict() for o in self.outcomes]}


# -- who and what ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Due:
    customer_id: int
    period: str
    after_row: int = 0
    last_row: int | None = None
    until: datetime | None = None


def due(session: Session, program, customer: Customer, kind: str, *, days: int, retry: bool,
        now: datetime) -> Due | str:
    """What this customer's message would cover, or why none is due ('up_to_date', 'pending')."""
    from sqlalchemy import func

    from loyaltycli.store import ledger
    from loyaltycli.store.models import LedgerEntry

    given = session.execute(select(Notice).where(Notice.customer_id == customer.id,
                                                 Notice.kind == kind,
                                                 Notice.status.in_(("sent", "sending")))).scalars().all()
    sent = [n for n in given if n.status == "sent"]
    sending = [] if retry else [n for n in given if n.status == "sending"]
    if kind == statements.STATEMENT:
        newest = session.execute(select(func.max(LedgerEntry.id))
                                 .where(LedgerEntry.customer_id == customer.id)).scalar() or 0
        shown = max([n.last_ledger_id or 0 for n in sent], default=0)
        maybe = max([n.last_ledger_id or 0 for n in sending], default=0)
        if newest <= shown:
            return "up_to_date"
        if newest <= maybe:
            return "pending"
        return Due(customer.id, f"ledger:{newest}", after_row=max(shown, maybe), last_row=newest)
    _balance, expiring = ledger.spendable_and_expiring(session, customer.id, now, days)
    if not expiring:
        return "up_to_date"
    until = max(when for when, _points in expiring)
    if any(n.covered_until is not None and n.covered_until >= until for n in sent):
        return "up_to_date"
    if any(n.covered_until is not None and n.covered_until >= until for n in sending):
        return "pending"
    return Due(customer.id, f"until:{until.isoformat(timespec='seconds')}", until=until)


# -- giving out -----------------------------------------------------------------------------------------
class Outbox:
    """Messages as .eml files in a folder: made at the first message when missing (its parent must
    exist), mode 0700; each file new (never replaced), mode 0600 (a message holds the card code)."""

    via = "outbox"

    def __init__(self, folder: str | Path):
        from loyaltycli.base import files

        if not str(folder).strip():  # Path("") is the current folder: a script's unset variable would write there
            raise InvalidInput(_("--outbox is empty; give the folder to write the messages in"))
        self.folder = Path(folder).expanduser()
        shown = files.shown(self.folder)
        try:
            if self.folder.is_symlink() or (self.folder.exists() and not self.folder.is_dir()):
                raise InvalidInput(_("outbox {path} is not a folder").format(path=shown))
            if not self.folder.exists() and not self.folder.absolute().parent.is_dir():
                raise InvalidInput(_("cannot make the outbox {path}: its parent folder does not exist").format(
                    path=shown))
        except OSError as exc:  # a name too long, a folder we may not look into...
            raise InvalidInput(_("cannot make the outbox {path}: {value}").format(
                path=shown[:100], value=files.reason(exc))) from None

    def _make(self) -> None:
        """The folder, made at the first message (a run that gives nothing leaves no folder)."""
        from loyaltycli.base import files

        try:
            self.folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(_("cannot make the outbox {path}: {value}").format(
                path=files.shown(self.folder), value=files.reason(exc))) from None

    def give(self, msg, name: str) -> str:
        from loyaltycli.base import files

        self._make()
        path = self.folder / f"{name}.eml"
        n = 1
        while path.exists() or path.is_symlink():
            n += 1
            path = self.folder / f"{name}-{n}.eml"
        try:
            with files.create_private(path, what="message file") as fh:
                fh.write(msg.as_bytes())
        except OSError as exc:
            if files.disk_full(exc):
                raise files.disk_full_error(f"cannot write {files.shown(path)}") from None
            raise InvalidInput(_("cannot write {path}: {value}").format(
                path=files.shown(path), value=files.reason(exc))) from None
        return str(path)

    def close(self) -> None:
        pass


class Refused(Exception):
    """The server refused this message's recipient (or the message): the run goes on."""


class Smtp:
    """One SMTP connection for the run, opened at the first message. The password is read from
    LOYALTY_SMTP_PASSWORD and never shown: every error text is masked before it leaves this class."""

    via = "smtp"

    def __init__(self, program, password: str | None = None):
        if not program.smtp_host:
            raise InvalidInput(_("no mail server: set `loyalty program set smtp_host HOST` (and smtp_port, "
                                 "smtp_security, smtp_user), or give --outbox DIR"))
        self.host = program.smtp_host
        self.security = program.smtp_security
        self.port = program.smtp_port or DEFAULT_PORTS[self.security]
        self.user = program.smtp_user
        self.password = os.environ.get(PASSWORD_ENV) if password is None else password
        if self.user and not self.password:
            raise InvalidInput(_("smtp_user is set but {env} is empty: export the password in {env}").format(
                env=PASSWORD_ENV))
        self.conn = None

    def mask(self, text) -> str:
        """``text`` without the password in any form a server or library might echo."""
        import base64

        from loyaltycli.base.files import mask_secrets

        text = mask_secrets(str(text))
        if self.password:
            secrets = {self.password}
            for form in (self.password, f"\0{self.user}\0{self.password}", f"{self.user}\0{self.password}"):
                secrets.add(base64.b64encode(form.encode("utf-8")).decode("ascii"))
            for secret in sorted(secrets, key=len, reverse=True):
                text = text.replace(secret, "***")
        return text

    def _connect(self):
        import smtplib
        import ssl

        context = ssl.create_default_context()
        try:
            if self.security == "ssl":
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT, context=context)
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
                if self.security == "starttls":
                    conn.starttls(context=context)
            if self.user:
                self._login(conn)
        except (smtplib.SMTPException, OSError, ssl.SSLError, UnicodeError) as exc:
            raise MailUnavailable(_("mail server {host}:{port}: {error}").format(
                host=self.host, port=self.port, error=self.mask(_error_text(exc)))) from None
        return conn

    def _login(self, conn) -> None:
        """AUTH PLAIN when the server offers it (one try: smtplib's login() would try the password again
        by every other mechanism after a refusal), else smtplib's own choice."""
        conn.ehlo_or_helo_if_needed()
        if "PLAIN" in conn.esmtp_features.get("auth", "").upper().split():
            conn.user, conn.password = self.user, self.password
            try:
                conn.auth("PLAIN", conn.auth_plain)
            finally:
                conn.user = conn.password = None
        else:
            conn.login(self.user, self.password)

    def give(self, msg, name: str) -> None:
        import smtplib

        if self.conn is None:
            self.conn = self._connect()
        try:
            self.conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise Refused(self.mask("; ".join(_reply(code, text) for code, text in exc.recipients.values()))) from None
        except smtplib.SMTPNotSupportedError:  # before the message left: the connection is still good
            raise Refused(_("the mail server does not take addresses with letters beyond ASCII before the @ "
                            "(SMTPUTF8)")) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            if 500 <= exc.smtp_code < 600:
                raise Refused(self.mask(_reply(exc.smtp_code, exc.smtp_error))) from None
            raise MailUnavailable(_("mail server {host}:{port}: {error}").format(
                host=self.host, port=self.port, error=self.mask(_reply(exc.smtp_code, exc.smtp_error)))) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.conn = None
            failure = MailUnavailable(_("mail server {host}:{port}: {error}").format(
                host=self.host, port=self.port, error=self.mask(_error_text(exc))))
            failure.maybe_sent = True  # the connection broke while the message was on its way
            raise failure from None
        return None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except Exception:  # noqa: BLE001  the messages are given; a rude goodbye changes nothing
                pass
            self.conn = None


def _reply(code, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


def _error_text(exc: BaseException) -> str:
    import smtplib

    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, UnicodeError):  # smtplib sends the login in ASCII; never quote the text
        return _("the login or password has characters the server's AUTH cannot carry (ASCII only)")
    return str(exc) or type(exc).__name__


# -- the run ------------------------------------------------------------------------------------------
def run(db, kind: str, transport, *, since: datetime | None = None, days: int = 30,
        retry: bool = False) -> Run:
    """Give each consenting customer with something due a statement or reminder (``kind``) through
    ``transport`` (Smtp or Outbox), one transaction per message; returns what happened."""
    from loyaltycli.services import consent
    from loyaltycli.shop import clock
    from loyaltycli.store.program import load_program

    if kind not in statements.KINDS:
        raise ValueError(kind)
    now = clock.now()
    with db.session(write=False) as session:
        program = load_program(session)
        sender = statements.Sender.of(program)
        ids = sorted(consent.consenting(session, consent.EMAIL, now))
    result = Run(kind, transport.via)
    try:
        for customer_id in ids:
            try:
                prepared = _prepare(db, program, sender, customer_id, kind, transport.via, since=since,
                                    days=days, retry=retry, now=now)
            except IntegrityError:  # another run recorded this very message a moment ago: it gives it
                prepared = "pending"
            if isinstance(prepared, str):
                result.up_to_date += prepared == "up_to_date"
                result.pending += prepared == "pending"
                continue
            notice_id, code, email, msg = prepared
            outcome = Outcome(code, email, kind, "sent", msg["Message-ID"])
            try:
                outcome.file = transport.give(msg, f"{clock.to_local(now):%Y%m%d}-{code}-{kind}")
            except Refused as exc:
                outcome.status, outcome.error = "refused", str(exc)[:300]
            except MailUnavailable as exc:
                if not exc.maybe_sent:  # it never left: the next run gives it
                    with db.session() as session:
                        notice = session.get(Notice, notice_id)
                        notice.status, notice.error = "failed", str(exc)[:300]
                exc.run = result
                raise
            except LoyaltyError:  # an outbox file that cannot be written: it did not leave
                with db.session() as session:
                    session.get(Notice, notice_id).status = "failed"
                raise
            with db.session() as session:
                notice = session.get(Notice, notice_id)
                notice.status = outcome.status
                notice.error = outcome.error
                notice.sent_at = clock.now() if outcome.status == "sent" else None
            result.outcomes.append(outcome)
    finally:
        transport.close()
    return result


def _prepare(db, program, sender, customer_id: int, kind: str, via: str, *, since, days: int,
             retry: bool, now: datetime):
    """One transaction: is a message due, make it, record it as 'sending'. Returns (notice id, customer
    code, e-mail, message), or why nothing is due ('up_to_date', 'pending', 'withdrawn')."""
    from loyaltycli.services import consent

    with db.session() as session:
        customer = session.get(Customer, customer_id)
        if not consent.may_send(session, customer, consent.EMAIL, now):
            return "withdrawn"  # since the list was read: at once means at once
        plan = due(session, program, customer, kind, days=days, retry=retry, now=now)
        if isinstance(plan, str):
            return plan
        made = statements.build(session, program, customer, kind,
                                after_row=0 if since else plan.after_row,
                                since=since, days=days, now=now)
        msg = statements.message(made, sender, now=now)
        notice = _record_sending(session, plan, kind, via, msg["Message-ID"], now)
        return notice.id, customer.code, customer.email, msg


def _record_sending(session: Session, plan: Due, kind: str, via: str, message_id: str,
                    now: datetime) -> Notice:
    """The notice row as 'sending', committed with the session before the message leaves (a refused or
    retried message of the same period reuses its row)."""
    notice = session.execute(select(Notice).where(Notice.customer_id == plan.customer_id,
                                                  Notice.kind == kind,
                                                  Notice.period == plan.period)).scalar()
    if notice is None:
        notice = Notice(customer_id=plan.customer_id, kind=kind, period=plan.period, created_at=now,
                        status="sending", via=via, message_id=message_id)
        session.add(notice)
    notice.status, notice.via, notice.message_id, notice.error = "sending", via, message_id, None
    notice.last_ledger_id, notice.covered_until, notice.created_at = plan.last_row, plan.until, now
    session.flush()
    return notice
