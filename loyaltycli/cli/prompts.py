"""Questionary flows for the counter. Each prompt has a flag equivalent; tests replace these functions."""

from __future__ import annotations


def _validator(check):
    """Turn a core validator (raises InvalidInput) into questionary's True-or-message form."""
    from loyaltycli.core.errors import LoyaltyError

    def validate(text: str):
        if not text.strip():
            return True
        try:
            check(text)
        except LoyaltyError as exc:
            return str(exc)
        return True
    return validate


def enroll_flow(program) -> dict | None:
    """Ask name, phone, e-mail, birthday, referral code, consent; confirm. None when cancelled."""
    import questionary

    from loyaltycli.core import clock, customers

    def name_ok(text):
        try:
            customers.clean_name(text)
        except Exception as exc:  # noqa: BLE001
            return str(exc)
        return True

    name = questionary.text("Name:", validate=name_ok).ask()
    if name is None:
        return None
    phone = questionary.text("Phone (optional):",
                             validate=_validator(lambda t: customers.normalize_phone(t, program.phone_region))).ask()
    email = questionary.text("E-mail (optional):", validate=_validator(customers.normalize_email)).ask()
    birthday = questionary.text("Birthday YYYY-MM-DD (optional):",
                                validate=_validator(lambda t: clock.parse_date(t, what="birthday"))).ask()
    referral = questionary.text("Referral code (optional):").ask()
    consent = questionary.confirm("Agrees to receive offers?", default=False).ask()
    if None in (phone, email, birthday, referral, consent):
        return None
    summary = f"Enroll {name.strip()}" + (f", {phone}" if phone.strip() else "") + (
        f", {email}" if email.strip() else "") + "?"
    if not questionary.confirm(summary, default=True).ask():
        return None
    return {"name": name, "phone": phone.strip() or None, "email": email.strip() or None,
            "birthday": birthday.strip() or None, "referral_code": referral.strip() or None,
            "consent": bool(consent)}
