"""Sessions live on the server (sign-out ends a copied cookie too); the sign-in throttle
counts per account and per client address, atomically, the same for unknown emails,
is lifted by an admin's reset and also guards password changes; a taken email gets a
message that does not say whose it is."""

from __future__ import annotations

import re
import threading

from tests.services.factories import PASSWORD
from tests.web.conftest import login
from tracker.services.accounts import EMAIL_UNAVAILABLE
from tracker.services.throttle import ACCOUNT_LIMIT, ADDRESS_LIMIT

from .conftest import audit_actions

WRONG = "wrong password 123"


def _sign_in(client, email, password, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def test_a_cookie_copied_before_sign_out_stops_working(app, site):
    desk = login(app.test_client(), site.tech_email)
    copied = app.test_client()
    copied.set_cookie("session", desk.get_cookie("session").value)
    assert copied.get("/patients").status_code == 200
    assert desk.post("/logout").status_code == 302
    after = copied.get("/patients")
    assert after.status_code == 302 and "/login" in after.headers["Location"]


def test_an_admins_reset_lifts_the_pause(app, site, clients):
    client = app.test_client()
    for _ in range(ACCOUNT_LIMIT):
        assert _sign_in(client, "spare@a.test", WRONG).status_code == 401
    assert _sign_in(client, "spare@a.test", PASSWORD).status_code == 429
    page = clients["clinic_admin"].post(f"/clinic/staff/{site.spare_tech_id}/reset-password")
    temporary = re.search(r"\b[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}\b", page.get_data(as_text=True)).group(0)
    assert _sign_in(app.test_client(), "spare@a.test", temporary).status_code == 302


def test_unknown_emails_are_paused_exactly_like_known_ones(app, site):
    answers = {}
    for email in (site.tech_email, "nobody-here@a.test"):
        client = app.test_client()
        statuses = [_sign_in(client, email, WRONG).status_code for _ in range(ACCOUNT_LIMIT + 1)]
        last = _sign_in(client, email, WRONG)
        page = re.sub(r'content="[^"]*"', "", last.get_data(as_text=True))  # the CSRF token differs
        answers[email] = (statuses, last.status_code, re.sub(r"\d+ minutes?", "N minutes", page).replace(email, "E"))
    known, unknown = answers.values()
    assert known[0] == unknown[0] == [401] * ACCOUNT_LIMIT + [429]
    assert known[1:] == unknown[1:]


def test_forty_concurrent_guesses_get_at_most_five_password_checks(app, site):
    statuses: list[int] = []
    start = threading.Barrier(40)

    def guess() -> None:
        client = app.test_client()
        start.wait()
        statuses.append(_sign_in(client, site.tech_email, WRONG).status_code)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 40
    assert statuses.count(401) == ACCOUNT_LIMIT and statuses.count(429) == 40 - ACCOUNT_LIMIT
    assert len(audit_actions(app, "user.sign_in_failed")) == ACCOUNT_LIMIT  # one per password check


def test_each_client_address_has_its_own_higher_limit_from_the_trusted_proxy(app, site):
    behind_proxy = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.4, 203.0.113.7"}
    client = app.test_client()
    for i in range(ADDRESS_LIMIT):
        r = _sign_in(client, f"guess{i}@a.test", WRONG, environ_base=behind_proxy)
        assert r.status_code == 401
    refused = _sign_in(client, site.admin_email, PASSWORD, environ_base=behind_proxy)
    assert refused.status_code == 429 and "from this network" in refused.get_data(as_text=True)
    # Another client behind the same proxy is not affected ...
    other = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.8"}
    assert _sign_in(app.test_client(), site.admin_email, PASSWORD, environ_base=other).status_code == 302
    # ... and an untrusted peer cannot pick its address with the header.
    direct = {"REMOTE_ADDR": "192.0.2.50", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert _sign_in(app.test_client(), site.admin_email, PASSWORD, environ_base=direct).status_code == 302


def test_changing_a_password_is_throttled_too(app, site):
    client = login(app.test_client(), site.tech_email)
    for _ in range(ACCOUNT_LIMIT):
        page = client.post("/account/password", data={"current_password": WRONG, "new_password": "another good one",
                                                      "confirm": "another good one"})
        assert "current password is not right" in page.get_data(as_text=True)
    page = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "another good one",
                                                  "confirm": "another good one"})
    assert "Too many failed sign-ins" in page.get_data(as_text=True)
    assert _sign_in(app.test_client(), site.tech_email, "another good one").status_code != 302


def test_a_taken_email_does_not_say_whose_it_is(clients, site):
    # b's admin exists in the other clinic; clinic A's admin must not learn that.
    page = clients["clinic_admin"].post("/clinic/staff/new", data={"email": "admin@b.test", "full_name": "X",
                                                                   "role": "technician"})
    text = page.get_data(as_text=True)
    assert EMAIL_UNAVAILABLE in text and "already exists" not in text
    fresh = clients["clinic_admin"].post("/clinic/staff/new", data={"email": "nobody-yet@a.test", "full_name": "X",
                                                                    "role": "technician"})
    assert EMAIL_UNAVAILABLE not in fresh.get_data(as_text=True)
