"""The Flask application: ``create_app(config=None)`` builds one (nothing is built at import)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from tracker.config import Config
from tracker.jobs import TaskQueue
from tracker.models import make_engine, make_sessionmaker
from tracker.private_files import restrict_umask
from tracker.services import sessions
from tracker.services.intake import IntakeLimits
from tracker.storage import storage_from_config

from .access import check_table, enforce_access
from .context import EXTENSION, Resources, close_db, get_db
from .errors import register_error_handlers
from .filters import register_filters
from .security import register_security

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(token: str) -> Any:
    return sessions.load_session_user(get_db(), token)


def create_app(config: Config | None = None) -> Flask:
    """Build the app for ``config`` (default: :class:`Config` from the environment)."""
    restrict_umask()  # also when a WSGI server imports the factory directly
    config = config or Config()
    config.ensure_instance()
    app = Flask(__name__, instance_path=str(config.INSTANCE_PATH), instance_relative_config=False)
    app.config.from_object(config)
    app.config["TRACKER_CONFIG"] = config

    engine = make_engine(config.DATABASE_URL)
    factory = make_sessionmaker(engine)
    storage = storage_from_config(config)
    queue = TaskQueue(config, storage=storage, session_factory=factory)
    app.extensions[EXTENSION] = Resources(factory, storage, queue, IntakeLimits.from_config(config), config)
    app.teardown_appcontext(close_db)

    # Order matters: access is decided before the CSRF check, so an anonymous POST is
    # sent to sign in rather than told its form expired.
    login_manager.init_app(app)
    app.before_request(enforce_access)
    csrf.init_app(app)

    from . import api, auth, clinic, exports, media, patient, progress, staff, two_factor

    for blueprint in (auth.bp, two_factor.bp, staff.bp, clinic.bp, patient.bp, media.bp, api.bp, exports.bp,
                      progress.bp):
        app.register_blueprint(blueprint)
    register_filters(app)
    register_error_handlers(app)
    register_security(app)
    check_table(app)
    return app
