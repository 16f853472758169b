"""Patient invitations: single use, expiring, only a hash stored, accepting sets the password."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tracker.models import Invitation, User, utcnow
from tracker.services import accounts, invitations
from tracker.services.errors import AuthenticationFailed, Conflict, InvitationInvalid


def test_accepting_creates_the_patient_account_and_the_link_works_once(db, world):
    inv, token = invitations.create_invitation(db, world.tech, world.patient.id)
    db.commit()
    assert token not in inv.token_hash and len(inv.token_hash) == 64
    assert db.scalar(select(Invitation).where(Invitation.token_hash == token)) is None

    user = invitations.accept_invitation(db, token, email="Pat@Example.org", password="a long password 1")
    db.commit()
    assert (user.role, user.patient_id, user.email) == ("patient", world.patient.id, "pat@example.org")
    assert accounts.authenticate(db, "pat@example.org", "a long password 1").id == user.id

    with pytest.raises(InvitationInvalid, match="already been used"):
        invitations.accept_invitation(db, token, email="pat@example.org", password="another password 2")
    db.rollback()
    assert accounts.authenticate(db, "pat@example.org", "a long password 1").id == user.id


def test_an_expired_invitation_is_refused(db, world):
    created = utcnow() - dt.timedelta(days=8)
    _, token = invitations.create_invitation(db, world.tech, world.patient.id, valid_days=7, now=created)
    db.commit()
    with pytest.raises(InvitationInvalid, match="expired"):
        invitations.accept_invitation(db, token, email="late@example.org", password="a long password 1")
    assert db.scalar(select(User).where(User.email == "late@example.org")) is None


def test_still_valid_just_before_expiry(db, world):
    created = utcnow() - dt.timedelta(days=6, hours=23)
    _, token = invitations.create_invitation(db, world.tech, world.patient.id, valid_days=7, now=created)
    db.commit()
    assert invitations.accept_invitation(db, token, email="ok@example.org", password="a long password 1")


def test_a_new_invitation_replaces_the_open_one_and_resets_the_password(db, world):
    _, first = invitations.create_invitation(db, world.tech, world.patient.id)
    _, second = invitations.create_invitation(db, world.tech, world.patient.id)
    db.commit()
    with pytest.raises(InvitationInvalid, match="replaced"):
        invitations.accept_invitation(db, first, email="pat@example.org", password="a long password 1")
    user = invitations.accept_invitation(db, second, email="pat@example.org", password="a long password 1")
    db.commit()
    version = user.auth_version
    # Forgotten password: the clinic hands over a new invitation.
    _, third = invitations.create_invitation(db, world.tech, world.patient.id)
    db.commit()
    again = invitations.accept_invitation(db, third, email="pat@example.org", password="a new long password")
    db.commit()
    assert again.id == user.id and again.auth_version == version + 1
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db, "pat@example.org", "a long password 1")
    assert accounts.authenticate(db, "pat@example.org", "a new long password").id == user.id


def test_unknown_token_and_taken_email_are_refused(db, world):
    with pytest.raises(InvitationInvalid, match="not valid"):
        invitations.accept_invitation(db, "made-up-token", email="x@example.org", password="a long password 1")
    _, token = invitations.create_invitation(db, world.tech, world.patient.id)
    db.commit()
    with pytest.raises(Conflict, match="cannot be used"):
        invitations.accept_invitation(db, token, email="tech@a.test", password="a long password 1")
    db.rollback()
    # The refusal did not use up the invitation.
    assert invitations.accept_invitation(db, token, email="pat@example.org", password="a long password 1")
