"""The counter's step-by-step flows (enroll, survey) in a real pseudo-terminal (pexpect): what a person
at the till sees and types, Ctrl-C included."""

from __future__ import annotations

import os
import sys

import pytest
from sqlalchemy import func, select

pexpect = pytest.importorskip("pexpect")

CLEAR = "\x15"  # Ctrl-U: clear the answer typed so far


def spawn(*args: str):
    env = dict(os.environ, TERM="xterm", COLUMNS="200", LINES="40", PYTHONUNBUFFERED="1")
    child = pexpect.spawn(sys.executable, ["-m", "loyaltycli", *args], env=env, encoding="utf-8",
                          timeout=30, dimensions=(40, 200))
    return child


def finish(child) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def customers(database) -> int:
    from loyaltycli.store.models import Customer

    with database.session(write=False) as s:
        return s.execute(select(func.count()).select_from(Customer)).scalar_one()


def test_ctrl_c_during_enroll_cancels_at_once_and_saves_nothing(database):
    child = spawn("enroll")
    child.expect("Phone")
    child.send("\r")
    child.expect("Name:")
    child.send("Ana Silva\r")
    child.expect("E-mail")
    child.send("ana@")
    child.sendintr()
    child.expect("enrollment cancelled; nothing was saved")
    assert "Card" not in child.before  # no further question was asked
    assert finish(child) == 130
    assert customers(database) == 0


def test_enroll_flags_what_is_in_use_at_that_question(cli, database):
    first = cli.json("enroll", "Ann Walsh", "--phone", "0851234567", "--email", "ann@example.ie",
                     "--card", "6000100000001")
    child = spawn("enroll")
    child.expect("Phone")
    child.send("085 123 4567\r")
    child.expect("phone \\+353851234567 already belongs to customer C000001")
    child.send(CLEAR + "0851234568\r")
    child.expect("Name \\(optional\\):")
    child.send("Bob Byrne\r")
    child.expect("E-mail")
    child.send("ANN@example.ie\r")
    child.expect("e-mail ann@example.ie already belongs to customer C000001")
    child.send(CLEAR + "\r")
    child.expect("Card number")
    child.send("6000100000001\r")
    child.expect("card 6000100000001 already belongs to customer C000001")
    child.send(CLEAR + "\r")
    child.expect("Birthday")
    child.send("\r")
    child.expect("Referral code")
    child.send("ZZZZZZZZ\r")
    child.expect("unknown referral code 'ZZZZZZZZ'")
    child.send(CLEAR + first["referral_code"].lower() + "\r")
    child.expect("Agrees to receive offers by SMS")  # by e-mail: not asked, Bob gave no e-mail
    assert "by e-mail" not in child.before
    child.send("y\r")
    # the confirmation shows the phone as people read it
    child.expect("Enroll Bob Byrne, \\+353 85 123 4568, referral code " + first["referral_code"] + ", offers by SMS only")
    child.send("\r")
    child.expect("enrolled C000002 Bob Byrne")
    assert finish(child) == 0
    bob = cli.json("customer", "show", "C000002")
    assert (bob["phone"], bob["email"]) == ("+353851234568", None)
    assert (bob["consent"], bob["consents"]["sms"]["how"]) == (False, "asked at the counter (loyalty enroll, step by step)")
    assert {channel: (answer or {}).get("given") for channel, answer in bob["consents"].items()} == {
        "membership": True, "email": None, "sms": True}
    assert bob["consents"]["sms"]["version"] == "loyaltycli-1"  # the questions' own wording
    assert cli.json("referral", "list", "C000001")[0]["referee"] == "C000002"


def test_ctrl_c_during_survey_cancels_and_saves_nothing(cli, database):
    cli.json("enroll", "Ann Walsh", "--email", "ann@example.ie")
    child = spawn("survey", "C000001")
    child.expect("recommend us to a friend")
    child.send("9\r")
    child.expect("How satisfied")
    child.sendintr()
    child.expect("survey cancelled; nothing was saved")
    assert finish(child) == 1
    from loyaltycli.store.models import SurveyResponse

    with database.session(write=False) as s:
        assert s.execute(select(func.count()).select_from(SurveyResponse)).scalar_one() == 0


def test_survey_asks_recommend_once_keeps_nothing_half_and_says_what_was_recorded(cli, database):
    cli.json("enroll", "Ann Walsh", "--email", "ann@example.ie")
    child = spawn("survey", "C000001")
    child.expect("recommend us to a friend")
    child.send("9\r")
    child.expect("How satisfied")
    child.send("\r")
    child.expect("Loyalty index 1/3: Would you speak well of us to others")
    assert "recommend" not in child.after
    child.send("2\r")
    child.expect("Loyalty index 2/3")
    child.send("\r")  # an empty answer would drop the first: it is refused with the way out
    child.expect("the loyalty index needs all three answers; type 'skip' to leave it out")
    child.send("skip\r")
    child.expect("Comment")
    child.send("\r")
    child.expect("C000001: survey recorded \\(NPS 9\\); skipped: CSAT, loyalty index, comment")
    assert finish(child) == 0
    from loyaltycli.store.models import SurveyResponse

    with database.session(write=False) as s:
        [row] = s.execute(select(SurveyResponse)).scalars().all()
    assert (row.nps, row.csat, row.cli1) == (9, None, None)


def test_long_listings_page_on_a_terminal_never_when_piped(cli, db_path):
    import subprocess

    for i in range(60):
        cli("enroll", f"Customer {i}", "--no-input")
    env = dict(os.environ, PAGER="sed 's/^/PAGED:/'")
    child = pexpect.spawn(sys.executable, ["-m", "loyaltycli", "customer", "list"], env=dict(env, TERM="xterm"),
                          encoding="utf-8", timeout=30, dimensions=(24, 120))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "PAGED:" in child.before and "C000060" in child.before
    piped = subprocess.run([sys.executable, "-m", "loyaltycli", "customer", "list"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and "PAGED:" not in piped.stdout and "C000060" in piped.stdout
    # a short listing is not paged
    short = pexpect.spawn(sys.executable, ["-m", "loyaltycli", "customer", "list", "--search", "Customer 7"],
                          env=dict(env, TERM="xterm"), encoding="utf-8", timeout=30, dimensions=(24, 120))
    short.expect(pexpect.EOF)
    assert "PAGED:" not in short.before and "C000008" in short.before


DOWN, UP = "\x1b[B", "\x1b[A"


def test_import_inspect_walks_through_the_mapping_and_saves_it(cli, tmp_path):
    """`import inspect FILE` on a terminal (issue 12): each column offered its guessed field (or skip), the
    choices saved as a preset that then imports the file."""
    till = tmp_path / "vendas.csv"
    till.write_text("Número,Data,Hora,Cliente,Valor,Observações\n"
                    "FS 2026/1,2026-03-01,10:15,ana@example.pt,12.50,Pão\n", encoding="utf-8")
    child = spawn("import", "inspect", str(till))
    child.expect("Walk through the column mapping")
    child.send("\r")
    for column in ("Número", "Data", "Hora", "Cliente", "Valor"):  # the guesses, taken as they are
        child.expect(f"Column '{column}' is:")
        child.send("\r")
    child.expect("Column 'Observações' is:")  # no guess: skip is the default; four up is `description`
    child.send(UP * 4 + "\r")
    child.expect("Save as preset")
    child.send("pt-loja\r")
    child.expect("saved to .*pt-loja.toml; use it with --preset pt-loja")
    assert finish(child) == 0
    import tomllib

    saved = tomllib.loads((tmp_path / "user-presets" / "pt-loja.toml").read_text(encoding="utf-8"))
    assert saved["columns"] == {"Número": "receipt_id", "Data": "date", "Hora": "time", "Cliente": "customer",
                                "Valor": "amount", "Observações": "description"}
    data = cli.json("import", till, "--preset", "pt-loja", "--enroll-unknown")
    assert (data["imported"], data["rejected"], data["customers_enrolled"]) == (1, 0, 1)
    assert cli.json("balance", "ana@example.pt")["balance"] == 50 + 12


def test_import_inspect_piped_asks_nothing(cli, tmp_path):
    till = tmp_path / "vendas.csv"
    till.write_text("Número,Data,Hora,Cliente,Valor\nFS 2026/1,2026-03-01,10:15,ana@example.pt,12.50\n")
    result = cli("import", "inspect", till)
    assert result.exit_code == 0 and "Walk through" not in result.output
    assert '"Número" = "receipt_id"' in result.stdout


@pytest.mark.parametrize("lang, yes, email_question, sms_question", [
    ("pt_PT", "s", "por e-mail", "por SMS"),
    ("ro", "D", "prin e-mail", "prin SMS"),
    ("en", "y", "by e-mail", "by SMS"),
])
def test_a_yes_typed_with_its_enter_answers_its_own_question_only(cli, lang, yes, email_question, sms_question,
                                                                  monkeypatch):
    """A clerk types the answer and Enter at once (s⏎): the e-mail consent is yes, and the Enter does not
    run on to answer the SMS question (which is asked, and left at no)."""
    monkeypatch.setenv("LOYALTY_LANG", lang)
    child = spawn("enroll")
    child.expect(r"\?|:")
    child.send("+351912345678\r")  # a phone (so that offers by SMS are asked too)
    child.expect(":")
    child.send("Ana Sousa\r")
    child.expect(":")
    child.send("ana@example.pt\r")
    for _question in range(3):  # card, birthday, referral code: Enter skips each
        child.expect(":")
        child.send("\r")
    child.expect(email_question)
    child.send(yes + "\r")  # in one go
    child.expect(sms_question)
    child.send("\r")
    child.expect(r"\?")  # the summary
    child.send("\r")
    assert finish(child) == 0
    consents = cli.json("customer", "show", "C000001")["consents"]
    assert (consents["email"] or {}).get("given") is True
    assert (consents["sms"] or {}).get("given") is None
