"""Domain exceptions. The CLI maps each to one line on stderr and an exit code."""

from __future__ import annotations


class LoyaltyError(Exception):
    """Base class: a refusal the user can fix. Nothing was changed."""

    exit_code = 1


class InvalidInput(LoyaltyError):
    """A value could not be parsed or is out of range."""


class UnknownCustomer(LoyaltyError):
    """No customer matches the KEY."""


class AmbiguousCustomer(LoyaltyError):
    """More than one customer matches the KEY."""


class DuplicateCustomer(LoyaltyError):
    """Phone, e-mail or card already belongs to another customer."""


class DuplicateReceipt(LoyaltyError):
    """The receipt was already recorded from this source."""


class UnknownReceipt(LoyaltyError):
    """No purchase has that receipt id."""


class InsufficientPoints(LoyaltyError):
    """The balance does not cover the redemption."""


class RuleNotMet(LoyaltyError):
    """A program rule refuses the operation (minimum, limit, once-only...)."""


class NotFound(LoyaltyError):
    """A named thing (reward, plan, cause, setting) does not exist."""


class Cancelled(LoyaltyError):
    """The user (or a missing --yes) declined an operation that cannot be undone; nothing was changed."""


class DatabaseUnavailable(LoyaltyError):
    """The database cannot be used: locked, unreadable, or newer than this program."""

    exit_code = 4


class AboveMaxPurchase(LoyaltyError):
    """A sale larger than the program's max_purchase, not confirmed (a phone number typed as an amount?)."""

    def __init__(self, message: str, amount: int, limit: int):
        super().__init__(message)
        self.amount, self.limit = amount, limit


# A refusal quotes what was typed so that the user sees which value is meant; a value of 5,000 characters
# (a pasted file, a runaway script) would fill the screen, so it is quoted shortened.
QUOTED_MAX = 40


def shortened(value):
    """User input as a message quotes it (``{value!r}``): text longer than QUOTED_MAX characters is cut
    there and ends in an ellipsis; anything else is returned as it is. Applied to every quoted field of a
    translated message when it is formatted (``loyaltycli.i18n.Message``)."""
    if isinstance(value, str) and len(value) > QUOTED_MAX:
        return value[:QUOTED_MAX] + "…"
    return value
