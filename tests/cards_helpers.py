"""What tests/test_cards.py and tests/test_cards_rules.py share (their shop is the `cafe` fixture of
tests/conftest.py)."""

from __future__ import annotations


def stamps(cli, key="C000001"):
    """card name -> (stamps, vouchers) of a customer, as `balance --json` shows them."""
    return {c["card"]: (c["stamps"], c["vouchers"]) for c in cli.json("balance", key)["cards"]}
