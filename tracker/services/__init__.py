"""Use cases: each takes a database session, storage and the acting user explicitly.

Services never reach into ``flask.request``; they raise the domain errors of
:mod:`tracker.services.errors`, which the web layer maps to HTTP responses.
"""
