"""Two-factor sign-in for staff: set up with an authenticator app (QR code and key),
then the password alone does not sign in; recovery codes work once and are stored
hashed; codes are throttled like passwords; a clinic admin can require it."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from tests.services.factories import PASSWORD
from tests.web.conftest import login
from tracker.models import User
from tracker.services.throttle import ACCOUNT_LIMIT

from .conftest import resources


def _enrol(client) -> tuple[pyotp.TOTP, list[str]]:
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in page
    totp = pyotp.TOTP(re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1))
    wrong = client.post("/account/two-factor", data={"code": "000000" if totp.now() != "000000" else "111111"})
    assert "not right" in wrong.get_data(as_text=True)
    done = client.post("/account/two-factor", data={"code": totp.now()}).get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done)
    assert len(codes) == 10
    return totp, codes


def _password_step(app, email):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert client.get("/patients").status_code == 302  # not signed in by the password alone
    return client


def test_with_two_factor_the_password_alone_does_not_sign_in(app, site):
    totp, _codes = _enrol(login(app.test_client(), site.tech_email))
    client = _password_step(app, site.tech_email)
    wrong = client.post("/login/code", data={"code": "12345"})
    assert wrong.status_code == 401 and client.get("/patients").status_code == 302
    right = client.post("/login/code", data={"code": totp.now()})
    assert right.status_code == 302 and client.get("/patients").status_code == 200


def test_a_recovery_code_works_once_and_is_stored_hashed(app, site):
    _totp, codes = _enrol(login(app.test_client(), site.tech_email))
    with resources(app).session_factory() as s:
        stored = s.scalar(select(User.recovery_codes).where(User.email == site.tech_email))
    assert not any(c in stored for c in codes) and stored.count("scrypt:") == 10
    first = _password_step(app, site.tech_email)
    assert first.post("/login/code", data={"code": codes[0]}).status_code == 302
    assert first.get("/patients").status_code == 200
    again = _password_step(app, site.tech_email)
    assert again.post("/login/code", data={"code": codes[0]}).status_code == 401


def test_codes_are_throttled_like_passwords(app, site):
    totp, _codes = _enrol(login(app.test_client(), site.tech_email))
    client = _password_step(app, site.tech_email)
    for _ in range(ACCOUNT_LIMIT - 1):  # the password step used one attempt and was cleared
        assert client.post("/login/code", data={"code": "999999" if totp.now() != "999999" else "888888"}
                           ).status_code == 401
    assert client.post("/login/code", data={"code": "999999" if totp.now() != "999999" else "888888"}
                       ).status_code == 401
    paused = client.post("/login/code", data={"code": totp.now()})
    assert paused.status_code == 429 and client.get("/patients").status_code == 302


def test_a_clinic_admin_can_require_it_for_staff(app, site, clients):
    page = clients["clinic_admin"].get("/clinic/staff").get_data(as_text=True)
    assert "Require two-factor sign-in for staff" in page
    assert clients["technician"].post("/clinic/two-factor", data={"required": "1"}).status_code == 403
    assert clients["clinic_admin"].post("/clinic/two-factor", data={"required": "1"}).status_code == 302
    tech = login(app.test_client(), site.tech_email)
    held = tech.get("/patients")
    assert held.status_code == 302 and held.headers["Location"] == "/account/two-factor"
    assert "requires two-factor" in tech.get("/account/two-factor").get_data(as_text=True)
    _enrol(tech)
    assert tech.get("/patients").status_code == 200
    # Patients are not asked.
    assert clients["patient"].get("/me").status_code == 200
