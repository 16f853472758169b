"""The audit log: sign-ins and failures, every view of a photo, exports and deletions are
recorded with who, when and what; a clinic admin sees them and exports them as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select

from tests.services.factories import PASSWORD
from tests.web.conftest import login
from tracker.models import User
from tracker.models.vocabulary import TECHNICIAN
from tracker.services import accounts
from tracker.services.audit import CSV_COLUMNS

from .conftest import audit_actions, resources


def _user_id(app, email: str) -> str:
    with resources(app).session_factory() as s:
        return s.scalar(select(User.id).where(User.email == email))


def _recent(event) -> bool:
    return dt.datetime.now(dt.timezone.utc) - event.created_at < dt.timedelta(minutes=1)


def test_sign_ins_and_failures_are_recorded_with_who_and_when(app, site):
    tech_id = _user_id(app, site.tech_email)
    assert app.test_client().post("/login", data={"email": site.tech_email, "password": "not it at all"}
                                  ).status_code == 401
    login(app.test_client(), site.tech_email).post("/logout")
    failed = audit_actions(app, "user.sign_in_failed")[-1]
    assert failed.object_id == tech_id and failed.actor_id is None and _recent(failed)
    assert failed.detail["client"] == "127.0.0.1"
    signed_in = audit_actions(app, "user.signed_in")[-1]
    assert signed_in.actor_id == tech_id and _recent(signed_in)
    assert audit_actions(app, "user.signed_out")[-1].actor_id == tech_id


def test_every_view_of_a_photo_is_recorded_once_per_page_not_per_image(app, site, clients):
    resources(app).queue.run_pending(only=("make_derivatives",))
    patient_id = _user_id(app, site.patient_email)
    tech_id = _user_id(app, site.tech_email)
    before = len(audit_actions(app, "photo.viewed"))
    # The gallery page is one line naming the photos it showed; its thumbnails add none.
    assert clients["patient"].get("/me").status_code == 200
    for _ in range(3):
        thumb = clients["patient"].get(f"/media/{site.photo_id}/thumb.jpg")
        thumb.close()
        assert thumb.status_code == 200
    # The photo page is one line; the display image it loads (again and again) adds none.
    assert clients["patient"].get(f"/me/photos/{site.photo_id}").status_code == 200
    for _ in range(2):
        shown = clients["patient"].get(f"/media/{site.photo_id}/display.jpg")
        shown.close()
        assert shown.status_code == 200
    # An image fetched with no page view of it is a view of its own.
    direct = clients["technician"].get(f"/media/{site.photo_id}/display.jpg")
    direct.close()
    assert direct.status_code == 200
    # A refused view (another patient's photo) shows nothing and records no view.
    assert clients["patient"].get(f"/media/{site.other_photo_id}/thumb.jpg").status_code == 404
    views = audit_actions(app, "photo.viewed")[before:]
    assert [(v.actor_id, v.object_type, v.object_id, v.detail["image"]) for v in views] == [
        (patient_id, "series", site.series_id, "series"), (patient_id, "photo", site.photo_id, "photo page"),
        (tech_id, "photo", site.photo_id, "image")]
    assert site.photo_id in views[0].detail["photos"]
    assert all(v.detail["patient_id"] == site.patient_id and _recent(v) for v in views)


def test_downloads_and_deletions_are_recorded(app, site, clients):
    tech = clients["technician"]
    download = tech.get(f"/photos/{site.photo_id}/original")
    download.close()
    assert download.status_code == 200
    assert audit_actions(app, "photo.original_downloaded")[-1].object_id == site.photo_id
    deleted = tech.post(f"/photos/{site.photo_id}/delete", data={"reason": "wrong patient"})
    assert deleted.status_code == 302
    event = audit_actions(app, "photo.deleted")[-1]
    assert event.object_id == site.photo_id and event.detail["reason"] == "wrong patient"
    assert event.actor_id == _user_id(app, site.tech_email)


def test_the_admin_sees_the_activity_and_can_filter_it(app, site, clients):
    resources(app).queue.run_pending(only=("make_derivatives",))
    clients["patient"].get(f"/media/{site.photo_id}/display.jpg").close()
    app.test_client().post("/login", data={"email": site.tech_email, "password": "wrong again"})
    page = clients["clinic_admin"].get("/clinic/activity").get_data(as_text=True)
    assert "photo: viewed" in page and "user: sign in failed" in page
    assert "someone at 127.0.0.1" in page  # a failed sign-in has no signed-in actor
    sign_ins = clients["clinic_admin"].get("/clinic/activity?show=sign-ins").get_data(as_text=True)
    assert "user: sign in failed" in sign_ins and "photo: viewed" not in sign_ins
    assert 'href="/clinic/activity.csv"' in page
    assert clients["technician"].get("/clinic/activity").status_code == 403
    assert clients["patient"].get("/clinic/activity.csv").status_code == 403


def test_the_csv_export_holds_the_whole_trail_of_the_clinic_only_and_is_itself_recorded(app, site, clients, db):
    admin = db.scalar(select(User).where(User.email == site.admin_email))
    # A name that a spreadsheet would run as a formula.
    accounts.create_staff(db, admin, email="formula@a.test", full_name="=HYPERLINK(\"http://x\")",
                          role=TECHNICIAN, password=PASSWORD)
    db.commit()
    login(app.test_client(), "formula@a.test")
    resources(app).queue.run_pending(only=("make_derivatives",))
    clients["patient"].get(f"/media/{site.photo_id}/display.jpg").close()
    response = clients["clinic_admin"].get("/clinic/activity.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))  # as Excel reads it
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    actions = {r["action"] for r in rows}
    assert {"user.signed_in", "photo.uploaded", "photo.viewed", "patient.created"} <= actions
    view = [r for r in rows if r["action"] == "photo.viewed"][-1]
    assert view["actor_email"] == site.patient_email and view["object_id"] == site.photo_id
    assert view["patient_id"] == site.patient_id and view["when_utc"].startswith(str(dt.date.today().year))
    assert not any("@b.test" in r["actor_email"] for r in rows), "another clinic's events leaked"
    formula = [r for r in rows if r["actor_email"] == "formula@a.test"]
    assert formula and all(r["actor_name"].startswith("'=") for r in formula)
    exported = audit_actions(app, "audit.exported")[-1]
    assert exported.actor_id == admin.id and exported.detail["events"] == len(rows)
