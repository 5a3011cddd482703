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


def survey_flow(code: str) -> dict | None:
    """Ask NPS, CSAT, the three CLI questions and a comment; empty answers skip. None when cancelled."""
    import questionary

    from loyaltycli.core import surveys

    def score(low, high, what):
        return _validator(lambda t: surveys.check_score(t, low, high, what))

    nps = questionary.text(f"{code}: how likely to recommend us to a friend? (0-10, empty to skip)",
                           validate=score(*surveys.NPS_RANGE, "NPS")).ask()
    if nps is None:
        return None
    csat = questionary.text("How satisfied with this visit? (1-5, empty to skip)",
                            validate=score(*surveys.CSAT_RANGE, "CSAT")).ask()
    if csat is None:
        return None
    cli = []
    for i, question in enumerate(surveys.CLI_QUESTIONS):
        answer = questionary.text(f"{question} (1 = definitely .. 6 = not at all, empty to skip)",
                                  validate=score(*surveys.CLI_RANGE, f"CLI question {i + 1}")).ask()
        if answer is None:
            return None
        if not answer.strip():
            cli = []
            break
        cli.append(answer.strip())
    comment = questionary.text("Comment (optional):").ask()
    if comment is None:
        return None
    return {"nps": nps.strip() or None, "csat": csat.strip() or None, "cli": cli or None,
            "comment": comment.strip() or None}


def confirm(question: str) -> bool:
    """Ask a yes/no question on the terminal (default: no). False when cancelled."""
    import questionary

    return bool(questionary.confirm(question, default=False).ask())
