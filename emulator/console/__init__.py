"""The web console at ``/_emulator/console``: server-rendered pages (Flask + Jinja) per
account and region, with charts drawn by Chart.js (shipped in ``static/``, no CDN).

Every page reads state with the same operations a boto3 user calls (in-process
boto3 clients answered by the emulator's own WSGI stack, see ``api.py``), and every
button calls an operation the same way, so validation and errors are AWS's. What
AWS shows only in its console (Amazon ML data insights and evaluation charts) comes
from read-only provider views. Lists page with the API's own NextToken.

Layout: ``scope.py`` (account/region in the URL, clients, paging), one module of
routes per service (``home.py``, ``machinelearning.py``, ``sagemaker.py``, ``tuning.py``,
``glue.py``, ``findmatches.py``, ``storage.py`` for S3 and CloudWatch Logs), ``templates/console``.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable

from flask import Flask

PREFIX = "/_emulator/console"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def register_console(app: Flask, emulator: Any, wsgi: Callable[[], WsgiApp] | None = None) -> None:
    """Mount the console blueprint on ``app``; its API calls go through ``wsgi()`` (the
    emulator's whole WSGI stack; ``app.wsgi_app`` by default)."""
    from flask import Blueprint

    from . import findmatches, glue, home, machinelearning, sagemaker, scope, storage, tuning
    from .api import ApiClients

    blueprint = Blueprint("console", __name__, url_prefix=PREFIX,
                          template_folder="templates", static_folder="static", static_url_path="/static")
    clients = ApiClients(wsgi or (lambda: app.wsgi_app))
    scope.install(blueprint, emulator, clients)
    for module in (home, machinelearning, sagemaker, tuning, glue, findmatches, storage):
        module.register(blueprint)
    app.register_blueprint(blueprint)


class ConsoleMount:
    """WSGI: ``/_emulator/console/...`` to the console's own Flask app, built on the first
    console request (its routes, templates and boto3 clients cost start-up time a server
    that is never browsed should not pay); everything else to ``app``."""

    def __init__(self, app: WsgiApp, emulator: Any, wsgi: Callable[[], WsgiApp]) -> None:
        self.app = app
        self.emulator = emulator
        self.wsgi = wsgi
        self._console: Flask | None = None
        self._lock = threading.Lock()

    def console(self) -> Flask:
        """The console's Flask app (built once)."""
        with self._lock:
            if self._console is None:
                console = Flask("emulator")
                console.config["EMULATOR"] = self.emulator
                register_console(console, self.emulator, self.wsgi)
                self._console = console
            return self._console

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == PREFIX or path.startswith(PREFIX + "/"):
            return self.console()(environ, start_response)
        return self.app(environ, start_response)
