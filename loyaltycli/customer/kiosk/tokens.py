"""The kiosk's CSRF token: one per browser session, kept in its signed session cookie, in every form."""

from __future__ import annotations

import secrets

CSRF_FIELD = "csrf_token"


def csrf_token() -> str:
    """This browser session's token (made on first need), for the hidden field of every form."""
    from flask import session

    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token
