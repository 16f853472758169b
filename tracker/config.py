"""Configuration: plain classes read from the environment (``TRACKER_*``).

Nothing is read at import time: ``Config()`` reads the environment when it is
built, so a worker process, the CLI and the tests each get their own.

===============================  ==============================================  =========================
variable                         meaning                                         default
===============================  ==============================================  =========================
TRACKER_INSTANCE_PATH            folder for the database, images and queue       ``./instance``
TRACKER_DATABASE_URL             SQLAlchemy URL                                  SQLite in the instance
TRACKER_STORAGE_PATH             root of the image store (filesystem backend)    ``<instance>/images``
TRACKER_SECRET_KEY               session signing key                             generated once, 0600 file
TRACKER_MAX_UPLOAD_MB            largest accepted photo file                     40
TRACKER_MAX_IMAGE_MEGAPIXELS     larger images are refused as decompression      100
                                 bombs
TRACKER_BROKER_URL               task queue: ``sqlite:///path`` (Huey SQLite)    Huey SQLite in the instance
                                 or ``redis://...`` (RedisHuey, scale extra)
TRACKER_QUEUE_NAME               the queue's name on the broker (installations   ``tracker``
                                 sharing one Redis use different names)
TRACKER_ANALYSIS_LEASE_SECONDS   a claim on an analysis lasts this long unless   60
                                 renewed (every third of it); a crashed
                                 worker's job is retried after it expires
TRACKER_ANALYSIS_MAX_ATTEMPTS    claims per analysis before it is "failed"       3
TRACKER_SWEEP_SECONDS            how often each worker re-queues analyses of     30
                                 vanished workers and lost doorbells
TRACKER_INVITATION_DAYS          days a patient invitation stays valid           7
TRACKER_SECURE_COOKIES           ``1`` when served over HTTPS                    0
TRACKER_PUBLIC_URL               the address patients and staff use, e.g.        this machine's address
                                 ``https://photos.clinic.example``: invitation
                                 links and QR codes are built from it
TRACKER_TRUSTED_HOSTS            more host names requests may use (comma list;   none
                                 any other Host header gets 400)
TRACKER_TRUSTED_PROXIES          proxies whose ``X-Forwarded-For`` names the      ``127.0.0.1,::1``
                                 client (sign-in throttle per address)
===============================  ==============================================  =========================
"""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
import struct
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(RuntimeError):
    """A setting in the environment cannot be used."""


def _int_env(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from e
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool_env(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def local_host_names() -> list[str]:
    """Names and IPv4 addresses this machine answers to: localhost, its host name and the
    address of every network interface (so a server bound to a LAN address is reachable
    by that address without configuration)."""
    names = {"localhost", "127.0.0.1", "::1", socket.gethostname(), socket.getfqdn()}
    for _index, interface in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                packed = fcntl.ioctl(probe.fileno(), 0x8915,  # SIOCGIFADDR
                                     struct.pack("256s", interface[:15].encode()))
            except OSError:
                continue
        names.add(socket.inet_ntoa(packed[20:24]))
    return sorted(n for n in names if n)


def load_or_create_secret_key(instance_path: Path) -> str:
    """Return the instance's secret key, creating it (mode 0600) on first use."""
    path = instance_path / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it between our read and our write: use theirs.
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    return key


#: How long an analysis claim lasts without renewal, how many claims a row gets, how often
#: workers sweep for vanished workers (the defaults of the TRACKER_* settings above).
DEFAULT_ANALYSIS_LEASE_SECONDS = 60
DEFAULT_ANALYSIS_MAX_ATTEMPTS = 3
DEFAULT_SWEEP_SECONDS = 30


class Config:
    """Settings for one installation, read from the environment when built."""

    TESTING = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the signed-in session
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    SEND_FILE_MAX_AGE_DEFAULT = 3600

    def __init__(self, instance_path: str | os.PathLike[str] | None = None) -> None:
        base = instance_path or os.environ.get("TRACKER_INSTANCE_PATH") or "instance"
        self.INSTANCE_PATH = Path(base).expanduser().resolve()
        self.DATABASE_URL = os.environ.get("TRACKER_DATABASE_URL") or (
            f"sqlite:///{self.INSTANCE_PATH / 'tracker.db'}"
        )
        self.STORAGE_PATH = Path(
            os.environ.get("TRACKER_STORAGE_PATH") or self.INSTANCE_PATH / "images"
        ).resolve()
        self.BROKER_URL = os.environ.get("TRACKER_BROKER_URL") or (
            f"sqlite:///{self.INSTANCE_PATH / 'queue.db'}"
        )
        self.MAX_UPLOAD_MB = _int_env("TRACKER_MAX_UPLOAD_MB", 40)
        self.MAX_IMAGE_MEGAPIXELS = _int_env("TRACKER_MAX_IMAGE_MEGAPIXELS", 100)
        self.INVITATION_DAYS = _int_env("TRACKER_INVITATION_DAYS", 7)
        self.QUEUE_NAME = os.environ.get("TRACKER_QUEUE_NAME") or "tracker"
        self.ANALYSIS_LEASE_SECONDS = _int_env("TRACKER_ANALYSIS_LEASE_SECONDS", DEFAULT_ANALYSIS_LEASE_SECONDS)
        self.ANALYSIS_MAX_ATTEMPTS = _int_env("TRACKER_ANALYSIS_MAX_ATTEMPTS", DEFAULT_ANALYSIS_MAX_ATTEMPTS)
        self.SWEEP_SECONDS = _int_env("TRACKER_SWEEP_SECONDS", DEFAULT_SWEEP_SECONDS)
        self.PUBLIC_URL = (os.environ.get("TRACKER_PUBLIC_URL") or "").strip().rstrip("/") or None
        if self.PUBLIC_URL and urlsplit(self.PUBLIC_URL).scheme not in ("http", "https"):
            raise ConfigError(f"TRACKER_PUBLIC_URL must start with https:// or http://, got {self.PUBLIC_URL!r}")
        extra = os.environ.get("TRACKER_TRUSTED_HOSTS") or ""
        self.TRUSTED_HOSTS = self._trusted_hosts([h.strip() for h in extra.split(",") if h.strip()])
        self.TRUSTED_PROXIES = tuple(a.strip() for a in (
            os.environ.get("TRACKER_TRUSTED_PROXIES") or "127.0.0.1,::1").split(",") if a.strip())
        secure = _bool_env("TRACKER_SECURE_COOKIES", False)
        self.SESSION_COOKIE_SECURE = secure
        self.REMEMBER_COOKIE_SECURE = secure
        self._explicit_secret = os.environ.get("TRACKER_SECRET_KEY") or None
        self._secret_cache: str | None = None

    def _trusted_hosts(self, extra: list[str]) -> list[str]:
        """Host names requests may use (Flask answers any other Host with 400): the public
        URL's, this machine's own names and addresses, and ``TRACKER_TRUSTED_HOSTS``."""
        hosts = set(local_host_names()) | set(extra)
        if self.PUBLIC_URL:
            hosts.add(urlsplit(self.PUBLIC_URL).hostname or "")
        return sorted(h for h in hosts if h)

    # Flask reads upper-case attributes with ``config.from_object``; properties work too.
    @property
    def SECRET_KEY(self) -> str:  # noqa: N802 - Flask's name
        if self._explicit_secret:
            return self._explicit_secret
        if self._secret_cache is None:
            self._secret_cache = load_or_create_secret_key(self.INSTANCE_PATH)
        return self._secret_cache

    @property
    def MAX_UPLOAD_BYTES(self) -> int:  # noqa: N802
        return self.MAX_UPLOAD_MB * 1024 * 1024

    @property
    def MAX_CONTENT_LENGTH(self) -> int:  # noqa: N802 - Flask's name
        # One photo per request; leave room for the multipart envelope and form fields.
        return self.MAX_UPLOAD_BYTES + 256 * 1024

    @property
    def MAX_IMAGE_PIXELS(self) -> int:  # noqa: N802
        return self.MAX_IMAGE_MEGAPIXELS * 1_000_000

    def ensure_instance(self) -> None:
        """Create the instance folders this configuration writes to, private (0700), and
        the SQLite files with mode 0600 before SQLite or Huey open them."""
        from tracker.private_files import private_dir, private_file

        private_dir(self.INSTANCE_PATH)
        private_dir(self.STORAGE_PATH)
        for url in (self.DATABASE_URL, self.BROKER_URL):
            if url.startswith("sqlite:///") and url[len("sqlite:///"):] not in ("", ":memory:"):
                path = Path(url[len("sqlite:///"):])
                private_dir(path.parent)
                private_file(path)


class TestConfig(Config):
    """Settings for tests: everything inside one temporary folder, fixed key."""

    __test__ = False  # not a pytest test class
    TESTING = True

    def __init__(self, instance_path: str | os.PathLike[str], **overrides: object) -> None:
        super().__init__(instance_path)
        self.DATABASE_URL = f"sqlite:///{self.INSTANCE_PATH / 'tracker.db'}"
        self.STORAGE_PATH = self.INSTANCE_PATH / "images"
        self.BROKER_URL = f"sqlite:///{self.INSTANCE_PATH / 'queue.db'}"
        self._explicit_secret = "test-secret-key-not-for-production"
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_SECURE = False
        for key, value in overrides.items():
            setattr(self, key, value)
