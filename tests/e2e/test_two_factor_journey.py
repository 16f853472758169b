"""A staff member turns on two-factor sign-in in the browser (QR code and key, a code from
the app, recovery codes shown once), then signs in with password and code."""

from __future__ import annotations

import pyotp
import pytest

from tracker.models import User, make_engine, make_sessionmaker
from tracker.models.vocabulary import TECHNICIAN
from tracker.services import accounts

from .conftest import PASSWORD, instance_config, screenshot, sign_in

pytestmark = pytest.mark.e2e


def _new_technician(instance) -> str:
    engine = make_engine(instance_config(instance).DATABASE_URL)
    with make_sessionmaker(engine)() as s:
        admin = s.query(User).filter_by(email="admin@riverside.test").one()
        accounts.create_staff(s, admin, email="casey@riverside.test", full_name="Casey Two-Factor", role=TECHNICIAN,
                              password=PASSWORD)
        s.commit()
    engine.dispose()
    return "casey@riverside.test"


def test_a_technician_turns_on_two_factor_and_signs_in_with_a_code(server, page):
    email = _new_technician(server.instance)
    sign_in(page, server.url, email)
    page.goto(f"{server.url}/account/password")
    page.click("a[href='/account/two-factor']")
    page.wait_for_load_state()
    assert page.locator("img.qr").is_visible()
    totp = pyotp.TOTP(page.inner_text("#totp-secret").strip())
    screenshot(page, "two-factor-setup")
    page.fill("#code", totp.now())
    page.click("button:has-text('Turn on')")
    page.wait_for_load_state()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "two-factor-recovery-codes")
    page.context.clear_cookies()
    sign_in(page, server.url, email)
    assert page.url.endswith("/login/code") and page.is_visible("text=Enter your sign-in code")
    page.fill("#code", totp.now())
    page.click("button:has-text('Continue')")
    page.wait_for_load_state()
    assert page.url.endswith("/patients")
