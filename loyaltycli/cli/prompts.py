"""Questionary flows for the counter. Each prompt has a flag equivalent; tests replace these functions
or drive them in a pseudo-terminal (tests/test_prompts.py).

Ctrl-C (or Ctrl-D) at any question ends the whole flow at once: the flow returns None and the command
says nothing was saved. Every answer is checked as it is typed, against the database too (a phone,
e-mail or card already in use, an unknown or self referral code), so nothing typed is lost to a refusal
after the final "Yes".
"""

from __future__ import annotations

from typing import Callable

from loyaltycli.i18n import N_, _

# check(field, text, answers_so_far) -> normalized value; raises a LoyaltyError with the reason.
Check = Callable[[str, str, dict], object]


class _Cancelled(Exception):
    """Ctrl-C or Ctrl-D at a question."""


def _validator(check, optional: bool = True):
    """Turn a check (raises LoyaltyError) into questionary's True-or-message form."""
    from loyaltycli.base.errors import LoyaltyError

    _wrapping_validation_messages()

    def validate(text: str):
        if not text.strip():
            return True if optional else _("an answer is needed (Ctrl-C cancels, nothing is saved)")
        try:
            check(text)
        except LoyaltyError as exc:
            return str(exc)
        return True
    return validate


def _wrapping_validation_messages() -> None:
    """A refusal shown under the question wraps onto as many lines as it needs (prompt_toolkit gives it
    one line, cut at the terminal's width: half a reason at 80 columns, less at 40)."""
    import importlib

    from prompt_toolkit.filters import has_validation_error
    from prompt_toolkit.layout import ConditionalContainer, Window
    from prompt_toolkit.widgets import toolbars

    prompt_module = importlib.import_module("prompt_toolkit.shortcuts.prompt")  # the module, not the function

    if getattr(prompt_module.ValidationToolbar, "wraps", False):
        return

    class WrappingValidationToolbar(toolbars.ValidationToolbar):
        wraps = True

        def __init__(self, show_position: bool = False) -> None:
            super().__init__(show_position)
            self.container = ConditionalContainer(content=Window(self.control, wrap_lines=True),
                                                  filter=has_validation_error)

    prompt_module.ValidationToolbar = WrappingValidationToolbar


def _ask(question):
    """The answer, or _Cancelled at once on Ctrl-C / Ctrl-D (questionary's ask() would print
    "Cancelled by user" and let the flow go on to the next question)."""
    try:
        answer = question.unsafe_ask()
    except (KeyboardInterrupt, EOFError):
        raise _Cancelled from None
    if answer is None:
        raise _Cancelled
    return answer


def enroll_flow(program, check: Check | None = None, given: dict | None = None) -> dict | None:
    """Ask phone, name (optional once a phone is given), the tax id where the shop's country uses one,
    e-mail, card, birthday, referral code, e-mail offers, SMS offers (each "no" unless answered yes);
    confirm. None when cancelled.

    ``check`` validates an answer against the database (see cli/customers.py); ``given`` holds values
    already given as flags, whose questions are not asked."""
    try:
        return _enroll_flow(program, check, dict(given or {}))
    except _Cancelled:
        return None


def _enroll_flow(program, check: Check | None, answers: dict) -> dict | None:
    import questionary

    from loyaltycli.shop import clock
    from loyaltycli.services import customers

    def db_check(field):
        def run(text):
            if field == "phone":
                customers.normalize_phone(text, program.phone_region)
            elif field == "email":
                customers.normalize_email(text)
            elif field == "card":
                customers.normalize_card(text)
            elif field == "tax_id":
                customers.normalize_tax_id(text, program)
            if check is not None:
                check(field, text, answers)
        return run

    # Phone first: a phone alone is a customer (a few keys at a busy till); the name is then optional.
    asked = set()
    if not answers.get("phone") and not answers.get("name"):
        asked.add("phone")
        answers["phone"] = _ask(questionary.text(_("Phone (Enter to give a name instead):"),
                                                 validate=_validator(db_check("phone")))).strip() or None
    if not answers.get("name"):
        needed = not any(answers.get(f) for f in ("phone", "email", "card", "tax_id"))
        answers["name"] = _ask(questionary.text(_("Name:") if needed else _("Name (optional):"), validate=_validator(
            customers.clean_name, optional=not needed))).strip() or None
    questions = [
        ("phone", _("Phone (optional):"), db_check("phone")),
        *_tax_id_question(program, db_check),
        ("email", _("E-mail (optional):"), db_check("email")),
        ("card", _("Card number (optional):"), db_check("card")),
        ("birthday", _("Birthday YYYY-MM-DD (optional):"), lambda t: clock.parse_date(t, what=_("birthday"))),
        ("referral_code", _("Referral code (optional):"), db_check("referral_code")),
    ]
    for field, text, validate in questions:
        if answers.get(field) or field in asked:
            continue
        answers[field] = _ask(questionary.text(text, validate=_validator(validate))).strip() or None
    # offers by a channel are asked only when its contact was given (`customer edit --email-offers` later)
    if answers.get("email_offers") is None:
        answers["email_offers"] = bool(answers.get("email")) and bool(
            _ask(_yes_no(_("Agrees to receive offers by e-mail?"), default=False)))
    if answers.get("sms_offers") is None:
        answers["sms_offers"] = bool(answers.get("phone")) and bool(
            _ask(_yes_no(_("Agrees to receive offers by SMS?"), default=False)))
    phone = answers.get("phone")
    if phone:
        try:
            phone = customers.shown_phone(customers.normalize_phone(phone, program.phone_region))
        except Exception:  # noqa: BLE001  the enroll itself says why
            pass
    parts = [answers.get("name"), phone, answers.get("tax_id"), answers.get("email"),
             answers.get("card") and _("card {card}").format(card=answers["card"]),
             answers.get("birthday") and _("born {birthday}").format(birthday=answers["birthday"]),
             answers.get("referral_code") and _("referral code {code}").format(code=answers["referral_code"].upper()),
             _offers(answers["email_offers"], answers["sms_offers"])]
    summary = _("Enroll {details}?").format(details=", ".join(p for p in parts if p))
    if not _ask(_yes_no(summary, default=True)):
        return None
    return answers


def _offers(email: bool, sms: bool) -> str:
    if email and sms:
        return _("offers by e-mail and SMS")
    if email or sms:
        return _("offers by e-mail only") if email else _("offers by SMS only")
    return _("no offers")


def _tax_id_question(program, db_check) -> list:
    """The tax id question (checked as typed: python-stdnum) when the shop's country uses one, e.g.
    ``PT NIF (optional):``; none for a shop whose country has no scheme or is not set."""
    from loyaltycli.base import taxid

    country = (getattr(program, "country", "") or "").strip().upper()
    if country not in taxid.SCHEMES:
        return []
    names = " / ".join(f"{country} {name}" for name, _module in taxid.SCHEMES[country])
    return [("tax_id", _("{names} (optional):").format(names=names), db_check("tax_id"))]


# The questions read to customers (a shop may word them its own way: `program set survey_nps_question`).
NPS_QUESTION = N_("how likely is it that you would recommend us to a friend?")
CSAT_QUESTION = N_("How satisfied were you with this visit?")
# The loyalty index's own three questions; its first is "recommend us" too, so when the NPS question was
# just answered it is worded apart (speaking well of us is what the index's first question measures).
CLI_WORDING_AFTER_NPS = N_("Would you speak well of us to others?")
SKIP_WORD = N_("skip")  # typed to leave the loyalty index out (the English word works in every language)


def survey_flow(code: str, nps_question: str | None = None, csat_question: str | None = None) -> dict | None:
    """Ask NPS, CSAT, the three CLI questions and a comment; empty answers skip. None when cancelled.

    ``nps_question``/``csat_question``: the shop's own wording (shown as typed), else the translated default.
    The answer has a "skipped" list: what was not answered, so the command can say what was recorded."""
    try:
        return _survey_flow(code, nps_question or _(NPS_QUESTION), csat_question or _(CSAT_QUESTION))
    except _Cancelled:
        return None


def _survey_flow(code: str, nps_question: str, csat_question: str) -> dict | None:
    import questionary

    from loyaltycli.services import surveys

    def score(low, high, what):
        return _validator(lambda t: surveys.check_score(t, low, high, what))

    skipped = []
    skip_word = _(SKIP_WORD)
    nps = _ask(questionary.text(_("{code}: {question} 0 (not at all) .. 10 (extremely) (empty to skip)").format(
        code=code, question=nps_question), validate=score(*surveys.NPS_RANGE, "NPS"))).strip() or None
    if nps is None:
        skipped.append("NPS")
    csat = _ask(questionary.text(_("{question} 1 (very unhappy) .. 5 (very happy) (empty to skip)").format(
        question=csat_question), validate=score(*surveys.CSAT_RANGE, "CSAT"))).strip() or None
    if csat is None:
        skipped.append("CSAT")
    cli: list[str] = []
    for i, question in enumerate(surveys.CLI_QUESTIONS):
        if i == 0 and nps is not None:
            question = CLI_WORDING_AFTER_NPS
        question = _(question)
        if i == 0:
            label = _("Loyalty index {number}/3: {question} 1 (definitely) .. 6 (not at all) (empty skips the index)")
            answer = _ask(questionary.text(label.format(number=i + 1, question=question),
                                           validate=score(*surveys.CLI_RANGE,
                                                          _("CLI question {number}").format(number=1)))).strip()
            if not answer:
                skipped.append(_("loyalty index"))
                break
        else:
            # The index needs all three answers: an empty one would silently drop the first.
            check = score(*surveys.CLI_RANGE, _("CLI question {number}").format(number=i + 1))
            skipping = {SKIP_WORD, skip_word.lower()}

            def needed(text, check=check, skipping=skipping):
                if text.strip().lower() in skipping:
                    return True
                if not text.strip():
                    return _("the loyalty index needs all three answers; type {word!r} to leave it out").format(
                        word=skip_word)
                return check(text)
            label = _("Loyalty index {number}/3: {question} 1 (definitely) .. 6 (not at all) ({word!r} leaves the "
                      "index out)")
            answer = _ask(questionary.text(label.format(number=i + 1, question=question, word=skip_word),
                                           validate=needed)).strip()
            if answer.lower() in skipping:
                cli = []
                skipped.append(_("loyalty index"))
                break
        cli.append(answer)
    comment = _ask(questionary.text(_("Comment (optional):"))).strip() or None
    if comment is None:
        skipped.append(_("comment"))
    if nps is None and csat is None and not cli:
        return {"nps": None, "csat": None, "cli": None, "comment": comment, "skipped": skipped}
    return {"nps": nps, "csat": csat, "cli": cli or None, "comment": comment, "skipped": skipped}


def _yes_no(question: str, *, default: bool):
    """questionary's yes/no question with its hint and the answer it echoes in the person's language; the
    keys stay y and n (questionary binds those), so the hint says which is which."""
    import questionary
    from questionary.prompts import confirm as confirm_prompt

    confirm_prompt.YES, confirm_prompt.NO = _("Yes"), _("No")
    hint = _("(Y/n)") if default else _("(y/N)")
    # auto_enter off: a letter is taken by Enter, so the Enter typed after it (s⏎) is not kept for the next
    # question, where it would answer it (a consent nobody gave, or a default nobody chose)
    return _own_letters(questionary.confirm(question, default=default, instruction=hint + " ", auto_enter=False))


def _own_letters(question):
    """A yes/no question that also takes the first letters of the language's own yes and no (s/n for
    Sim/Não, d/n for Da/Nu): each is read as y or n, so the answer is echoed as usual."""
    from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
    from prompt_toolkit.key_binding.key_processor import KeyPress

    import unicodedata

    def letter(word: str) -> str:
        return unicodedata.normalize("NFD", word.strip()[:1].lower())[:1]

    extra = KeyBindings()
    for word, key in ((_("Yes"), "y"), (_("No"), "n")):
        own = letter(word)
        if own.isalpha() and own not in "yn":
            def feed(event, key=key):  # read before any key typed after it (first), as if it were y or n
                event.app.key_processor.feed(KeyPress(key, key), first=True)
            extra.add(own)(feed)
            extra.add(own.upper())(feed)
    app = question.application
    app.key_bindings = merge_key_bindings([extra, app.key_bindings])
    return question


def confirm(question: str) -> bool:
    """Ask a yes/no question on the terminal (default: no). False when cancelled (Ctrl-C / Ctrl-D)."""
    try:
        return bool(_ask(_yes_no(question, default=False)))
    except _Cancelled:
        return False


SKIP = N_("skip (not imported)")


def mapping_flow(header: list[str], guessed: dict[str, str], fields: tuple[str, ...]) -> dict[str, str] | None:
    """`import inspect` on a terminal: for each column of the header, its field (the guess first) or skip; a
    field is offered to one column only. The mapping, or None when declined or cancelled."""
    try:
        return _mapping_flow(header, guessed, fields)
    except _Cancelled:
        return None


def _mapping_flow(header: list[str], guessed: dict[str, str], fields: tuple[str, ...]) -> dict[str, str] | None:
    import questionary

    if not _ask(_yes_no(_("Walk through the column mapping?"), default=True)):
        return None
    chosen: dict[str, str] = {}
    skip = _(SKIP)
    for column in header:
        free = [f for f in fields if f not in chosen.values()]
        guess = guessed.get(column)
        default = guess if guess in free else skip
        answer = _ask(questionary.select(_("Column {column!r} is:").format(column=column), choices=[*free, skip],
                                          default=default))
        if answer != skip:
            chosen[column] = answer
    return chosen


def ask_name(question: str) -> str | None:
    """A name typed on a terminal; None when left empty or cancelled."""
    import questionary

    try:
        answer = _ask(questionary.text(question)).strip()
    except _Cancelled:
        return None
    return answer or None
