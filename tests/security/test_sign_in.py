"""Sign-in: scrypt hashes, throttling, a fresh session on sign-in, cookie flags, sign-out
everywhere, single-use expiring invitations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from tests.services.factories import PASSWORD
from tests.web.conftest import PATIENT_PASSWORD, csrf_from, login
from tracker.models import Invitation, SignInThrottle, User
from tracker.services.accounts import MAX_FAILED_SIGN_INS

from .conftest import audit_actions, resources


def _sign_in(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def test_passwords_are_stored_as_scrypt_hashes(app, site):
    with resources(app).session_factory() as s:
        hashes = list(s.scalars(select(User.password_hash)))
    assert hashes and all(h.startswith("scrypt:") for h in hashes)
    assert not any(PASSWORD in h or PATIENT_PASSWORD in h for h in hashes)


def test_repeated_failures_pause_the_account_even_for_the_right_password(app, site):
    client = app.test_client()
    for _ in range(MAX_FAILED_SIGN_INS):
        wrong = _sign_in(client, site.tech_email, "wrong password 123")
        assert wrong.status_code == 401 and "do not match" in wrong.get_data(as_text=True)
    paused = _sign_in(client, site.tech_email, PASSWORD)
    assert paused.status_code == 429
    text = paused.get_data(as_text=True)
    assert "Too many failed sign-ins" in text and "minutes" in text
    assert client.get("/patients").status_code == 302  # not signed in
    # Other accounts are not affected.
    assert _sign_in(app.test_client(), site.admin_email, PASSWORD).status_code == 302
    assert len(audit_actions(app, "user.sign_in_failed")) == MAX_FAILED_SIGN_INS
    assert len(audit_actions(app, "user.sign_in_throttled")) == 1
    # When the window has passed, the right password works again.
    with resources(app).session_factory() as s:
        s.execute(update(SignInThrottle)
                  .values(window_started_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=16)))
        s.commit()
    assert _sign_in(app.test_client(), site.tech_email, PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_failure_count(app, site):
    client = app.test_client()
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        assert _sign_in(client, site.tech_email, "wrong password 123").status_code == 401
    assert _sign_in(app.test_client(), site.tech_email, PASSWORD).status_code == 302
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        assert _sign_in(client, site.tech_email, "wrong password 123").status_code == 401
    assert _sign_in(app.test_client(), site.tech_email, PASSWORD).status_code == 302


def test_sign_in_starts_a_fresh_session(csrf_app, site):
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = csrf_from(page)
    before = client.get_cookie("session").value
    serializer = csrf_app.session_interface.get_signing_serializer(csrf_app)
    assert "csrf_token" in serializer.loads(before)
    response = client.post("/login", data={"email": site.tech_email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    data = serializer.loads(after)
    assert "_user_id" in data
    assert data.get("csrf_token") != serializer.loads(before)["csrf_token"], "pre-sign-in session data carried over"
    # The anonymous cookie from before does not become a signed-in one.
    stale = csrf_app.test_client()
    stale.set_cookie("session", before)
    assert stale.get("/patients").status_code == 302


def test_session_cookie_flags_and_secure_over_https(app, site):
    plain = app.test_client()
    response = _sign_in(plain, site.tech_email, PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback: a Secure cookie would never come back
    assert "Strict-Transport-Security" not in response.headers

    secure = app.test_client()
    response = secure.post("/login", data={"email": site.admin_email, "password": PASSWORD},
                           base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_sign_out_everywhere_ends_the_sessions_on_other_devices(app, site):
    phone = login(app.test_client(), site.tech_email)
    desk = login(app.test_client(), site.tech_email)
    # A plain sign-out ends only this device's session.
    laptop = login(app.test_client(), site.tech_email)
    assert laptop.post("/logout").status_code == 302
    assert phone.get("/patients").status_code == 200
    # Sign out everywhere: the other devices are signed out on their next request.
    response = desk.post("/logout", data={"everywhere": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    moved = phone.get("/patients")
    assert moved.status_code == 302 and "/login" in moved.headers["Location"]
    assert desk.get("/patients").status_code == 302
    assert audit_actions(app, "user.signed_out_everywhere")
    # Signing in again works.
    assert login(app.test_client(), site.tech_email).get("/patients").status_code == 200


def test_the_sign_out_everywhere_button_is_on_the_account_page(clients):
    html = clients["patient"].get("/account/password").get_data(as_text=True)
    assert 'name="everywhere" value="1"' in html and "Sign out everywhere" in html


def test_an_invitation_link_works_once(app, site):
    client = app.test_client()
    url = f"/invite/{site.invitation_token}"
    assert client.get(url).status_code == 200
    accepted = client.post(url, data={"email": "other@patient.test", "new_password": "a good password",
                                      "confirm": "a good password"})
    assert accepted.status_code == 302 and accepted.headers["Location"] == "/me"
    again = app.test_client().get(url)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    reuse = app.test_client().post(url, data={"email": "thief@x.test", "new_password": "thief password",
                                              "confirm": "thief password"})
    assert reuse.status_code == 410
    with resources(app).session_factory() as s:
        assert s.scalar(select(User).where(User.email == "thief@x.test")) is None


def test_an_expired_invitation_link_is_refused(app, site):
    with resources(app).session_factory() as s:
        s.execute(update(Invitation).where(Invitation.id == site.invitation_id)
                  .values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))
        s.commit()
    response = app.test_client().get(f"/invite/{site.invitation_token}")
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    guessed = app.test_client().get("/invite/" + "A" * 43)
    assert guessed.status_code == 410 and "not valid" in guessed.get_data(as_text=True)
