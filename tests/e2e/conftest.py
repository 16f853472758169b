"""End-to-end fixtures: a real `tracker serve` (gunicorn + Huey consumer) on a free loopback
port with its own instance folder, and Debian's Chromium driven by Playwright.

The browser is never downloaded: /usr/bin/chromium must exist (scripts/test.sh installs it).
When it is missing the tests fail with a clear message; they do not skip.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tracker.config import Config
from tracker.jobs import TaskQueue
from tracker.models import make_engine, make_sessionmaker
from tracker.services import review
from tracker.services.dispatch import bind_sink
from tracker.services.intake import IntakeLimits, PhotoTags, ingest_photo
from tracker.storage import storage_from_config

from tests.services.factories import PASSWORD, add_patient_with_series, jpeg_bytes, make_world

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
#: Screenshots go to docs/screenshots when TRACKER_UPDATE_SCREENSHOTS=1, else to test-artifacts/.
SCREENSHOT_DIR = (ROOT / "docs" / "screenshots" if os.environ.get("TRACKER_UPDATE_SCREENSHOTS") == "1"
                  else ROOT / "test-artifacts" / "screenshots")

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Server:
    url: str
    instance: Path
    admin_email: str
    tech_email: str
    pat_one_id: str
    pat_two_id: str
    pat_two_photo_id: str
    other_photo_id: str
    log: Path


@functools.lru_cache(maxsize=4)
def simulated_visit(seed: int) -> dict[tuple[str, str], bytes]:
    """Photos of one simulated session (small size): {(view, time point): JPEG bytes}.

    view is "front" or "close-up"; time point "before" or "after" (4 days later).
    """
    from tracker.simulate import simulate_series

    series = simulate_series(seed=seed, trend="improving", size="small", sessions=1, follow_up=False,
                             after_sessions=(0,), after_days=4, chart_sessions=(0,))
    return {(p.view, p.time_point): p.jpeg for p in series.visits[0].photos}


def as_format(jpeg: bytes, fmt: str) -> bytes:
    """Re-encode a JPEG as PNG or HEIF (what a different camera or phone would send)."""
    import io

    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    with Image.open(io.BytesIO(jpeg)) as im:
        im.save(out, fmt)
    return out.getvalue()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def instance_config(instance: Path) -> Config:
    """The config the served instance reads (its folder as TRACKER_INSTANCE_PATH)."""
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    try:
        return Config()
    finally:
        del os.environ["TRACKER_INSTANCE_PATH"]


def _seed(instance: Path) -> dict[str, str]:
    """The clinic the journeys start from, made through the services."""
    config = instance_config(instance)
    engine = make_engine(config.DATABASE_URL)
    factory = make_sessionmaker(engine)
    storage = storage_from_config(config)
    queue = TaskQueue(config, storage=storage, session_factory=factory)
    limits = IntakeLimits.from_config(config)
    with bind_sink(factory(), queue) as s:
        world = make_world(s, name="Riverside Laser Clinic", prefix="riverside", admin_name="Dana Okafor",
                           tech_name="Robin Meyer", patient_name="Pat One", with_series=False)
        pat_one = world.patient
        pat_two, _, visit_two = add_patient_with_series(s, world.tech, "Pat Two",
                                                        start=dt.date.today() - dt.timedelta(days=30))
        photo_two = ingest_photo(s, storage, world.tech, visit_two.id, simulated_visit(23)[("front", "before")],
                                 filename="pat-two.jpg", tags=PhotoTags(view="front", time_point="before"),
                                 limits=limits)
        other, _, other_visit = add_patient_with_series(s, world.tech, "Sam Other")
        other_photo = ingest_photo(s, storage, world.tech, other_visit.id, jpeg_bytes(1200, 900, seed=202),
                                   filename="other.jpg", tags=PhotoTags(view="front", time_point="before"),
                                   limits=limits)
        for visit in (visit_two, other_visit):  # reviewed: their photos reach the patients
            review.mark_reviewed(s, world.tech, visit.id)
        s.commit()
        ids = {"pat_one": pat_one.id, "pat_two": pat_two.id, "pat_two_photo": photo_two.id,
               "other_photo": other_photo.id}
    queue.run_pending(only=("make_derivatives",))
    engine.dispose()
    return ids


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    instance = tmp_path_factory.mktemp("e2e") / "instance"
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(instance)}
    env.pop("TRACKER_DATABASE_URL", None)
    env.pop("TRACKER_BROKER_URL", None)
    env.pop("TRACKER_STORAGE_PATH", None)
    tracker = [sys.executable, "-m", "tracker.cli"]
    upgraded = subprocess.run([*tracker, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr
    ids = _seed(instance)
    port = _free_port()
    log = instance / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*tracker, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                                 "--queue-workers", "1"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"tracker serve did not start:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.3)
    try:
        yield Server(url, instance, "admin@riverside.test", "tech@riverside.test", ids["pat_one"], ids["pat_two"],
                     ids["pat_two_photo"], ids["other_photo"], log)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # gunicorn and the queue consumer shut down gracefully
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium package "
                    "(scripts/test.sh installs it: apt-get install chromium)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("dialog", lambda d: d.accept())
    yield pg
    context.close()
    # A CSP violation or a script error is a bug a user would hit; refused requests (4xx) are expected.
    assert not [p for p in problems if not re.search(r"status of 4\d\d", p)], problems


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot, after checking the page fits its window's width.

    A page that scrolls sideways hides figures past the edge of a tablet or phone.
    """
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    width = page.viewport_size["width"] if page.viewport_size else None
    scrolled = page.evaluate("document.scrollingElement.scrollWidth")
    assert width is None or scrolled <= width, f"{name}: the page is {scrolled} px wide in a {width} px window"
    return path


def sign_in(page, url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()

