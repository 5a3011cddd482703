"""The kiosk: a small web page on the shop's own screen where customers enroll themselves and see their
card. A thin web layer over the services, as cli/ is a thin terminal layer: Flask views parse the form,
call ``services.customers.enroll`` / ``customer.passes`` / ``services.accounts``, and render Jinja2
templates. Flask, Jinja2 and waitress are imported only here (`loyalty kiosk` imports this package).

Safe by default:
  * served on 127.0.0.1 only (``--listen`` elsewhere is the caller's explicit choice: plain HTTP);
  * a Host-header allow-list (a page of another site that makes the browser resolve its own name to
    127.0.0.1, DNS rebinding, is refused);
  * a CSRF token in every form (kept in a signed, SameSite=Strict session cookie; the secret is new at
    each start);
  * ``Cache-Control: no-store`` on every answer, no personal data in URLs (forms are POSTed, the card
    code never travels in a query string) and none in logs (waitress logs no requests; errors are
    logged by type only);
  * request size limits (a form of a few kB);
  * the database opened per request (one transaction each, the CLI's busy timeout), so the counter
    keeps selling while the kiosk writes.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from loyaltycli.customer.kiosk.tokens import CSRF_FIELD

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8765
# A form of a dozen short fields: anything larger is not one of ours.
MAX_REQUEST_BYTES = 16 * 1024
# Seconds without a touch or a key before a page returns to the start screen (and forgets what it showed).
IDLE_SECONDS = 60

log = logging.getLogger("loyaltycli.kiosk")


def allowed_hosts(listen: str, port: int) -> set[str]:
    """The Host headers the kiosk answers: its own loopback names, and the address it listens on."""
    names = {"127.0.0.1", "localhost", listen.lower()}
    return names | {f"{name}:{port}" for name in names}


def create_app(*, db: str | None = None, lang: str | None = None, hosts: set[str] | None = None,
               idle_seconds: int = IDLE_SECONDS, printer: str | None = None):
    """The kiosk's Flask app. ``db``: the database (--db / LOYALTY_DB / the default); ``lang``: the page's
    language at the start screen (default: the shop's); ``hosts``: the Host headers answered;
    ``printer``: where a welcome slip is printed after each enrolment (a file, a device or
    tcp://HOST:PORT; None: no slip)."""
    from flask import Flask, abort, request, session

    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_REQUEST_BYTES,
        MAX_FORM_PARTS=50,
        SESSION_COOKIE_NAME="kiosk",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.config["KIOSK_DB"] = db
    app.config["KIOSK_LANG"] = lang
    app.config["KIOSK_HOSTS"] = {h.lower() for h in (hosts or allowed_hosts(LOOPBACK, DEFAULT_PORT))}
    app.config["KIOSK_IDLE_SECONDS"] = idle_seconds
    app.config["KIOSK_PRINTER"] = printer or None

    @app.before_request
    def _guard():
        if (request.host or "").lower() not in app.config["KIOSK_HOSTS"]:
            abort(400)  # another site's name pointing here (DNS rebinding), or a mistyped address
        if request.method == "POST":
            expected = session.get(CSRF_FIELD)
            given = request.form.get(CSRF_FIELD, "")
            if not expected or not hmac.compare_digest(str(expected), given):
                abort(403)

    @app.after_request
    def _headers(response):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        return response

    @app.errorhandler(Exception)
    def _failed(exc):
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            if exc.code == 400 or (exc.code or 500) < 400:
                return exc  # a foreign Host (another site's name pointing here): no page of ours
            from loyaltycli.customer.kiosk import views

            return views.trouble(exc.code), exc.code  # a stale form, no such page, too big: in their language
        # The type only: a message may quote what a customer typed.
        log.error("kiosk: %s while answering %s %s", type(exc).__name__, request.method, request.path)
        from loyaltycli.customer.kiosk import views

        return views.trouble(), 500

    from loyaltycli.customer.kiosk import views

    views.install(app)
    return app


def make_server(app, *, listen: str = LOOPBACK, port: int = DEFAULT_PORT):
    """A waitress server for ``app``, bound (``.run()`` serves until interrupted). One worker thread: a
    kiosk serves one customer at a time, and the language of messages (``i18n.speaking``) is the
    process's own."""
    import waitress.server

    return waitress.server.create_server(
        app, host=listen, port=port, threads=1, ident="loyalty-kiosk",
        max_request_body_size=MAX_REQUEST_BYTES, max_request_header_size=16 * 1024,
        clear_untrusted_proxy_headers=True)
