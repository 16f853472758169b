"""Clinics and accounts: creation, sign-in, staff management and password resets."""

from __future__ import annotations

import pytest

from tracker.models.vocabulary import TECHNICIAN
from tracker.services import accounts, sessions
from tracker.services.errors import AuthenticationFailed, Conflict, Forbidden, ValidationFailed

from .factories import PASSWORD


def test_sign_in_needs_the_right_password_and_an_active_account(db, world):
    assert accounts.authenticate(db, " ADMIN@a.test ", PASSWORD).id == world.admin.id
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db, "admin@a.test", "wrong password")
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db, "nobody@a.test", PASSWORD)
    assert world.admin.password_hash.startswith("scrypt:")


def test_admin_resets_a_staff_password_and_old_sessions_end(db, world):
    old_token = sessions.start_session(db, world.tech)
    db.commit()
    assert sessions.load_session_user(db, old_token) is not None
    user, temporary = accounts.reset_staff_password(db, world.admin, world.tech.id)
    db.commit()
    assert user.must_change_password
    assert sessions.load_session_user(db, old_token) is None
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db, "tech@a.test", PASSWORD)
    signed_in = accounts.authenticate(db, "tech@a.test", temporary)
    accounts.change_password(db, signed_in, current=temporary, new="my own new password")
    assert not signed_in.must_change_password


def test_only_admins_manage_staff(db, world):
    with pytest.raises(Forbidden):
        accounts.reset_staff_password(db, world.tech, world.admin.id)
    with pytest.raises(Forbidden):
        accounts.create_staff(db, world.tech, email="x@a.test", full_name="X", role=TECHNICIAN)
    user, temporary = accounts.create_staff(db, world.admin, email="new@a.test", full_name="New Tech",
                                            role=TECHNICIAN)
    assert user.must_change_password and len(temporary) >= 12
    with pytest.raises(Conflict):
        accounts.create_staff(db, world.admin, email="NEW@a.test", full_name="Again", role=TECHNICIAN)


def test_clinic_creation_rules(db):
    with pytest.raises(ValidationFailed, match="at least 10"):
        accounts.create_clinic(db, name="Short PW", admin_email="a@b.test", admin_password="short")
    accounts.create_clinic(db, name="Once", admin_email="a@b.test", admin_password=PASSWORD)
    with pytest.raises(Conflict):
        accounts.create_clinic(db, name="Once", admin_email="c@d.test", admin_password=PASSWORD)
