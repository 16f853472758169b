"""Background work through a real task queue (Huey).

The embedded default is Huey's SQLite storage in the instance folder (no server);
``TRACKER_BROKER_URL=redis://...`` selects RedisHuey (the ``scale`` extra).

Tasks are registered on a :class:`TaskQueue` built from a configuration, so the web
app, ``tracker worker`` and the tests each build the same queue for their own
instance. Every task opens its own database session and storage.
"""

from __future__ import annotations

from .queue import TaskQueue, make_huey

__all__ = ["TaskQueue", "make_huey"]
