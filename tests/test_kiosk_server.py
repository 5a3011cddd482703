"""The real `loyalty kiosk` process: where it listens, what a foreign Host or a missing CSRF token changes
(nothing), and a counter selling in other processes while the kiosk enrolls."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.parse

from sqlalchemy import func, select

from kiosk_server import Browser, Kiosk, listening_addresses, raw_request, reachable


def count(database, model) -> int:
    with database.session(write=False) as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def test_listens_on_loopback_only_unless_told(database):
    kiosk = Kiosk()
    try:
        kiosk.wait()
        assert listening_addresses(kiosk.port) in ({"0100007F"}, set())  # set(): no /proc here
        assert reachable("127.0.0.1", kiosk.port)
        assert not reachable("127.0.0.2", kiosk.port)  # another loopback address: nobody there
        assert not reachable("::1", kiosk.port)
    finally:
        said = kiosk.stop()
    assert "warning" not in said and f"http://127.0.0.1:{kiosk.port}/" in said


def test_listen_elsewhere_warns(database):
    kiosk = Kiosk("--listen", "0.0.0.0")
    try:
        kiosk.wait()
        assert listening_addresses(kiosk.port) in ({"00000000"}, set())
        assert reachable("127.0.0.2", kiosk.port)  # every IPv4 address of the machine
    finally:
        said = kiosk.stop()
    assert "warning: serving on 0.0.0.0: the kiosk speaks plain HTTP" in said


def test_port_taken_is_one_line(database):
    with Kiosk() as first:
        second = subprocess.run([sys.executable, "-m", "loyaltycli", "kiosk", "--port", str(first.port)],
                                capture_output=True, text=True, timeout=120)
    assert second.returncode == 1
    assert second.stderr.startswith(f"error: cannot listen on 127.0.0.1:{first.port}") and "Traceback" not in second.stderr


def test_foreign_host_or_no_csrf_token_changes_nothing(database):
    from loyaltycli.store.models import ConsentRecord, Customer

    with Kiosk() as kiosk:
        form = urllib.parse.urlencode({"phone": "0851234567", "consent_membership": "yes", "language": "en"})
        browser = Browser(kiosk.url)
        good = browser.token("/en/join")
        cookies = [h for h in browser.opener.handlers if hasattr(h, "cookiejar")][0].cookiejar
        cookie = "; ".join(f"{c.name}={c.value}" for c in cookies)
        with_token = form + "&" + urllib.parse.urlencode({"csrf_token": good})
        assert raw_request(kiosk.port, "GET", "/en/", host="attacker.example") == 400
        assert raw_request(kiosk.port, "POST", "/en/join", host=f"attacker.example:{kiosk.port}",
                           body=with_token, headers={"Cookie": cookie}) == 400
        assert raw_request(kiosk.port, "POST", "/en/join", host=f"127.0.0.1:{kiosk.port}", body=form,
                           headers={"Cookie": cookie}) == 403
        assert raw_request(kiosk.port, "POST", "/en/join", host=f"127.0.0.1:{kiosk.port}", body=with_token) == 403
        assert count(database, Customer) == 0 and count(database, ConsentRecord) == 0
        # The same request from the page itself is served.
        assert raw_request(kiosk.port, "POST", "/en/join", host=f"localhost:{kiosk.port}", body=with_token,
                           headers={"Cookie": cookie}) == 200
    assert count(database, Customer) == 1


def test_counter_sells_while_the_kiosk_enrolls(cli, database):
    from loyaltycli.store.models import Customer, Purchase

    assert cli("enroll", "Regular", "--phone", "0850000001").exit_code == 0
    before = cli.json("balance", "C000001")["balance"]  # the welcome bonus
    sales, joins = 6, 6
    with Kiosk() as kiosk:
        results: dict[str, list] = {"sales": [], "joins": []}

        def sell(i):
            done = subprocess.run([sys.executable, "-m", "loyaltycli", "purchase", "C000001", f"{10 + i}.00",
                                   "--receipt", f"R-{i}"], capture_output=True, text=True, timeout=300)
            results["sales"].append((done.returncode, done.stderr))

        def enrol(i):
            browser = Browser(kiosk.url)
            fields = {"csrf_token": browser.token("/en/join"), "phone": f"08512300{i:02d}",
                      "consent_membership": "yes", "language": "en"}
            results["joins"].append(browser.post("/en/join", fields)[0])

        threads = [threading.Thread(target=sell, args=(i,)) for i in range(sales)]
        threads += [threading.Thread(target=enrol, args=(i,)) for i in range(joins)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    assert [code for code, _ in results["sales"]] == [0] * sales, results["sales"]  # nobody waited past the timeout
    assert results["joins"] == [200] * joins
    assert count(database, Purchase) == sales
    assert count(database, Customer) == 1 + joins
    balance = cli.json("balance", "C000001")["balance"]
    assert balance == before + sum(10 + i for i in range(sales))  # one point per unit of money: nothing lost
