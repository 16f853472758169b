"""The series page's live badges: the states endpoint follows a real worker from "queued"
to "measured", and answers only the photo's own clinic."""

from __future__ import annotations

import io

import pytest

from tracker.services.dispatch import bind_sink
from tracker.web import create_app
from tracker.web.context import EXTENSION

from ..services.factories import PASSWORD, make_world
from ._photos import closeup_jpegs
from .conftest import wait_until

pytestmark = pytest.mark.slow


def signed_in(app, email):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_badges_follow_the_worker_and_other_clinics_see_nothing(backend, tmp_path):
    backend.config.WTF_CSRF_ENABLED = False
    app = create_app(backend.config)
    res = app.extensions[EXTENSION]
    with bind_sink(res.session_factory(), res.queue) as db:
        world = make_world(db)
        make_world(db, name="Clinic B", prefix="b")
        series_id, visits = world.series.id, [v.id for v in world.visits]
    tech, other = signed_in(app, "tech@a.test"), signed_in(app, "tech@b.test")

    for i, data in enumerate(closeup_jpegs(2)):
        response = tech.post(f"/api/visits/{visits[i]}/photos", data={
            "file": (io.BytesIO(data), f"p{i}.jpg"), "view": "closeup", "region": "left cheek",
            "time_point": "before"}, content_type="multipart/form-data")
        assert response.status_code == 201, response.get_json()

    url = f"/api/series/{series_id}/analysis-states"
    first = tech.get(url).get_json()
    assert first["busy"] is True
    assert sorted(s["state"] for s in first["photos"].values()) == ["queued", "queued"]
    page = tech.get(f"/series/{series_id}").get_data(as_text=True)
    assert f'data-live-status="{url}"' in page and "js/live_status.js" in page

    assert other.get(url).status_code == 404  # another clinic's series does not exist for them
    assert app.test_client().get(url).status_code == 401

    backend.start_worker(tmp_path / "worker.log")

    def settled():
        data = tech.get(url).get_json()
        return data if not data["busy"] else None
    final = wait_until(settled, timeout=180, what="both photos to be measured", every=0.5)
    assert [s["label"] for s in final["photos"].values()] == ["measured", "measured"]
    assert all(s["reason"] is None and s["attempts"] == 1 for s in final["photos"].values())
    res.session_factory.kw["bind"].dispose()
