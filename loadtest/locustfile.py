"""Load test: clinic staff and patients browsing galleries and charts while technicians upload.

Run by ``scripts/loadtest.sh`` (headless, loopback only, bounded in users and time):
50 ``Browser`` users (half the demo patient, half the demo technician) and 5 ``Uploader``
users (the demo technician, one new photo every few seconds). Requests are named by
kind: ``page ...`` (HTML), ``image ...`` (thumbnails, display images, overlays),
``upload``. At the end the page times are written to ``$LOADTEST_OUT/pages.json``
(count, failures, median, 95th and 99th percentile in ms).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
from urllib.parse import urlsplit

import numpy as np
from gevent.lock import BoundedSemaphore
from locust import HttpUser, between, events, task
from PIL import Image

PATIENT = ("patient@demo.test", "demo-patient-pass")
TECH = ("tech@demo.test", "demo-tech-pass")

#: The demo has one patient and one technician account, shared here by ~25 simulated devices
#: each. A person signs in on one device at a time; without this, more sign-ins to one account
#: than the per-account throttle allows (5, counted before the password check) are in flight
#: at once, and the throttle rightly refuses the extra ones.
_ONE_SIGN_IN_PER_ACCOUNT = {PATIENT[0]: BoundedSemaphore(1), TECH[0]: BoundedSemaphore(1)}

_HREF = re.compile(r'href="(/[^"#?]*)"')
_IMG = re.compile(r'src="(/(?:media|analyses)/[^"]+)"')
_CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')
_CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')

PAGE_TIMES: list[float] = []
PAGE_FAILURES = [0]


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, **_kw):  # noqa: ANN001
    if name.startswith("page"):
        PAGE_TIMES.append(response_time)
        if exception is not None:
            PAGE_FAILURES[0] += 1


@events.quitting.add_listener
def _write_summary(environment, **_kw):  # noqa: ANN001
    out = os.environ.get("LOADTEST_OUT")
    if not out or not PAGE_TIMES:
        return
    times = np.asarray(PAGE_TIMES)
    summary = {"pages": int(times.size), "page_failures": PAGE_FAILURES[0],
               "median_ms": round(float(np.percentile(times, 50)), 1),
               "p95_ms": round(float(np.percentile(times, 95)), 1),
               "p99_ms": round(float(np.percentile(times, 99)), 1),
               "max_ms": round(float(times.max()), 1)}
    with open(os.path.join(out, "pages.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)


def _links(html: str, pattern: str) -> list[str]:
    return sorted({h for h in _HREF.findall(html) if re.fullmatch(pattern, h)})


class SignedIn(HttpUser):
    abstract = True
    account = TECH

    def sign_in(self) -> None:
        # One connection per request: python-requests does not retry a GET on a keep-alive
        # connection the server closed while idle (browsers do), which would count as an error.
        self.client.headers["Connection"] = "close"
        with _ONE_SIGN_IN_PER_ACCOUNT[self.account[0]]:
            self._sign_in()

    def _sign_in(self) -> None:
        page = self.client.get("/login", name="sign-in page")
        token = _CSRF_FIELD.search(page.text) or _CSRF_META.search(page.text)
        with self.client.post("/login", name="sign in", allow_redirects=False, catch_response=True,
                              data={"email": self.account[0], "password": self.account[1],
                                    "csrf_token": token.group(1) if token else ""}) as r:
            if r.status_code != 302:
                r.failure(f"sign-in answered {r.status_code}")

    def page(self, url: str, name: str) -> str:
        with self.client.get(url, name=f"page {name}", catch_response=True) as r:
            if r.status_code != 200 or "/login" in urlsplit(r.url).path:
                r.failure(f"{url}: {r.status_code}")
                return ""
            return r.text

    def images(self, html: str, limit: int = 6) -> None:
        srcs = sorted(set(_IMG.findall(html)))
        for src in random.sample(srcs, min(limit, len(srcs))):
            kind = "thumb" if src.endswith("thumb.jpg") else "display" if src.endswith("display.jpg") else "overlay"
            self.client.get(src, name=f"image {kind}")


class Browser(SignedIn):
    """A patient looking at their gallery and charts, or a technician going through a series."""

    fixed_count = 50
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.account = random.choice((PATIENT, TECH))
        self.sign_in()

    @task
    def browse(self) -> None:
        if self.account is PATIENT:
            home = self.page("/me", "patient home")
            self.images(home, 4)
            for url in _links(home, r"/me/series/[^/]+")[:1]:
                series = self.page(url, "patient series")
                self.images(series)
                photos = _links(series, r"/me/photos/[^/]+")
                if photos:
                    self.images(self.page(random.choice(photos), "patient photo"), 2)
                sid = url.rsplit("/", 1)[-1]
                for extra in _links(series, rf"/series/{sid}/(charts|compare)"):
                    self.images(self.page(extra, extra.rsplit("/", 1)[-1]), 3)
            return
        patients = self.page("/patients", "patients")
        for url in _links(patients, r"/patients/[^/]+")[:1]:
            patient = self.page(url, "patient")
            for s_url in _links(patient, r"/series/[^/]+")[:1]:
                series = self.page(s_url, "series")
                self.images(series)
                photos = _links(series, r"/photos/[^/]+")
                if photos:
                    self.images(self.page(random.choice(photos), "photo"), 2)
                for extra in _links(series, rf"{s_url}/(charts|compare)"):
                    self.images(self.page(extra, extra.rsplit("/", 1)[-1]), 3)


def _unique_jpeg(width: int = 1600, height: int = 1200) -> bytes:
    rng = np.random.default_rng()
    base = np.array([205, 160, 140], dtype=np.float32)
    arr = base + rng.normal(0, 8, (height, width, 3)).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB").save(buf, "JPEG", quality=88)
    return buf.getvalue()


class Uploader(SignedIn):
    """A technician uploading the session's photos, one every few seconds."""

    fixed_count = 5
    wait_time = between(4, 8)
    visit_urls: list[str] = []

    def on_start(self) -> None:
        self.account = TECH
        self.sign_in()
        patients = self.page("/patients", "patients")
        self.targets: list[tuple[str, str]] = []
        for url in _links(patients, r"/patients/[^/]+"):
            patient = self.page(url, "patient")
            for s_url in _links(patient, r"/series/[^/]+"):
                series = self.page(s_url, "series")
                for up in _links(series, r"/visits/[^/]+/upload"):
                    page = self.page(up, "upload page")
                    token = _CSRF_META.search(page)
                    if token:
                        self.targets.append((up.split("/")[2], token.group(1)))
        if not self.targets:
            raise RuntimeError("no visit to upload to: load the demo data first")

    @task
    def upload(self) -> None:
        visit_id, token = random.choice(self.targets)
        data = _unique_jpeg()
        with self.client.post(f"/api/visits/{visit_id}/photos", name="upload", catch_response=True,
                              headers={"X-CSRFToken": token},
                              data={"view": "closeup", "region": "load test", "time_point": "after",
                                    "days_after": "1"},
                              files={"file": ("load.jpg", data, "image/jpeg")}) as r:
            if r.status_code != 201:
                r.failure(f"upload answered {r.status_code}: {r.text[:200]}")
