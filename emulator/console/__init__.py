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

from typing import Any

from flask import Blueprint, Flask

from .api import ApiClients


def register_console(app: Flask, emulator: Any) -> None:
    """Mount the console blueprint on the emulator's Flask app."""
    from . import findmatches, glue, home, machinelearning, sagemaker, scope, storage, tuning

    blueprint = Blueprint("console", __name__, url_prefix="/_emulator/console",
                          template_folder="templates", static_folder="static", static_url_path="/static")
    clients = ApiClients(lambda: app.wsgi_app)
    scope.install(blueprint, emulator, clients)
    for module in (home, machinelearning, sagemaker, tuning, glue, findmatches, storage):
        module.register(blueprint)
    app.register_blueprint(blueprint)
