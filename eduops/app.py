"""The hub's application factory."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from flask import Flask, abort, request
from flask.sessions import SessionInterface

from eduops import auth, bare, ctx, errors, i18n, metrics, openapi, pages, system
from eduops import db as dbmod
from eduops.accounts import admin_pages as user_admin
from eduops.accounts import pages as account_pages
from eduops.bookings import api as bookings_api
from eduops.bookings import feeds as bookings_feeds
from eduops.bookings import pages as bookings_pages
from eduops.clock import utcnow
from eduops.delivery import api as delivery_api
from eduops.delivery import pages as delivery_pages
from eduops.config import Config
from eduops.coverage import api as coverage_api
from eduops.coverage import pages as coverage_pages
from eduops.fleet import api as fleet_api
from eduops.fleet import pages as fleet_pages
from eduops.fleet import staff_api


class NoFlaskSession(SessionInterface):
    """The hub keeps its own sessions (auth.py, a table); Flask's signed-cookie session is never used,
    and opening it costs every request (an agent report included) a serializer and a cookie parse."""

    def open_session(self, app: Flask, request):
        return None  # Flask then uses its null session, which refuses to be written

    def save_session(self, app: Flask, session, response) -> None:
        pass


class Hub(Flask):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bare_routes: dict[tuple[str, str], bare.WsgiHandler] = {}

    def ensure_sync(self, func):
        # The hub has no async views or hooks; Flask's check of each one on every request is a
        # measurable share of an agent report's cost.
        return func

    def add_bare_route(self, rule: str, endpoint: str, method: str, handler: bare.WsgiHandler,
                       described_by: Callable[..., object]) -> None:
        """Answer ``method rule`` with the WSGI ``handler``, below Flask (see eduops/bare.py); the URL
        map declares it with ``described_by``, the function that does its work, which Flask never calls."""
        self.add_url_rule(rule, endpoint, described_by, methods=[method])
        self.bare_routes[(method, rule)] = handler

    def wsgi_app(self, environ, start_response):
        handler = self.bare_routes.get((environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")))
        if handler is not None:
            return handler(environ, start_response)
        return super().wsgi_app(environ, start_response)


def create_app(config: Config, clock: Callable[[], datetime] = utcnow) -> Flask:
    """Build the hub for one configuration; the database must already be migrated.

    ``clock`` is the hub's one clock (``eduops.ctx.now()`` reads it): views, /metrics and the
    demo use it; tests pass a fake (``tests.support.clock.Clock``).
    """
    if not config.secret_key:
        raise ValueError("secret_key: required; set EDUOPS_SECRET_KEY or secret_key in the config file")
    app = Hub(__name__)
    app.session_interface = NoFlaskSession()
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        EDUOPS=config,
        EDUOPS_CLOCK=clock,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["eduops_storage"] = dbmod.StorageHealth()
    app.teardown_appcontext(ctx.close_db)
    errors.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(system.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(account_pages.bp)
    app.register_blueprint(user_admin.bp)
    app.register_blueprint(coverage_api.bp)
    app.register_blueprint(coverage_pages.bp)
    app.register_blueprint(bookings_api.bp)
    metrics.init_app(app, config, clock)
    fleet_api.init_app(app, config)
    app.register_blueprint(staff_api.blueprint(auth))
    app.register_blueprint(fleet_pages.bp)
    app.register_blueprint(bookings_pages.bp)
    app.register_blueprint(bookings_feeds.bp)
    app.register_blueprint(delivery_api.bp)
    app.register_blueprint(delivery_pages.bp)
    app.register_blueprint(openapi.bp)

    @app.before_request
    def refuse_oversized_bodies():
        # Before routing, so the answer is the same 413 whatever the path.
        if request.content_length is not None and request.content_length > config.max_body_bytes:
            abort(413)

    auth.init_app(app)  # after the size check: deny-by-default, CSRF and security headers
    return app
