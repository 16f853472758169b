"""The live badges poll every series' states every 2 s: the answer costs the same few
queries whatever the number of photos (it made 2-3 per photo), and it is the same
answer the per-photo rule gives."""

from __future__ import annotations

import io

from sqlalchemy import event, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.services.factories import jpeg_bytes
from tracker.models import Photo
from tracker.services.photo_status import photo_status, series_statuses

from .conftest import resources


def _upload(client, visit_id, seed):
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(jpeg_bytes(seed=seed)), filename="p.jpg"),
                                       "view": "front", "time_point": "before"})
    response = client.post(f"/api/visits/{visit_id}/photos", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201


def _queries(app, client, url) -> tuple[int, dict]:
    engine = resources(app).session_factory.kw["bind"]
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001, ANN202
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response.get_json()


def test_live_states_cost_the_same_queries_for_3_or_13_photos(app, clients, site):
    tech = clients["technician"]
    url = f"/api/series/{site.series_id}/analysis-states"
    few, answer = _queries(app, tech, url)
    for seed in range(700, 710):
        _upload(tech, site.visit_id, seed)
    many, answer = _queries(app, tech, url)
    assert len(answer["photos"]) >= 12
    assert many == few and many <= 8, (few, many)
    with resources(app).session_factory() as s:
        photos = list(s.scalars(select(Photo).where(Photo.series_id == site.series_id)))
        batched = series_statuses(s, site.series_id)
        assert {p.id: photo_status(s, p).to_json() for p in photos} == {k: v.to_json() for k, v in batched.items()}
