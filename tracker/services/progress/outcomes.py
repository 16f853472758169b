"""Outcomes across patients: mean change per treatment type after 1, 2, 3 sessions, and the flags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import TreatmentSeries, User
from tracker.models.vocabulary import TREATMENT_TYPES

from ..access import require_staff
from .timeline import treatment_sessions, view_points, views_of
from .verdicts import Flag, changes, flags


@dataclass
class OutcomeRow:
    treatment_type: str
    label: str
    series_count: int
    #: after k sessions -> measure -> (mean change, n)
    means: dict[int, dict[str, tuple[float, int]]]

    @property
    def has_figures(self) -> bool:
        return any(self.means.values())


def outcomes(session: Session, actor: User, *, since: dt.date | None = None, until: dt.date | None = None,
             technician_id: str | None = None) -> tuple[list[OutcomeRow], list[tuple[TreatmentSeries, Flag]]]:
    """Per treatment type: number of series, mean change per measure after 1, 2, 3 sessions; the flags."""
    require_staff(actor)
    all_series = list(session.scalars(select(TreatmentSeries).where(TreatmentSeries.clinic_id == actor.clinic_id)))
    rows: dict[str, OutcomeRow] = {}
    all_flags = []
    for s in all_series:
        sessions = treatment_sessions(s)
        if not sessions:
            continue
        if since and sessions[-1].visit_date < since or until and sessions[0].visit_date > until:
            continue
        if technician_id and not any(v.technician_id == technician_id for v in s.visits):
            continue
        row = rows.setdefault(s.treatment_type, OutcomeRow(s.treatment_type, TREATMENT_TYPES.get(
            s.treatment_type, s.treatment_type), 0, {1: {}, 2: {}, 3: {}}))
        row.series_count += 1
        sums: dict[int, dict[str, list[float]]] = {1: {}, 2: {}, 3: {}}
        for v, r in views_of(session, s):
            points = view_points(session, s, v, r)
            all_flags += [(s, f) for f in flags(points, s.patient.fitzpatrick)]
            for pt in points:
                if pt.kind != "progress" or pt.sessions_done not in sums:
                    continue
                for c in changes(pt):
                    if c.value is not None and c.verdict != "not comparable":
                        sums[pt.sessions_done].setdefault(c.measure.key, []).append(float(c.value))
        for k, per in sums.items():
            for key, vals in per.items():
                mean, n = row.means[k].get(key, (0.0, 0))
                row.means[k][key] = ((mean * n + sum(vals)) / (n + len(vals)), n + len(vals))
    return sorted(rows.values(), key=lambda r: r.label), all_flags
