"""Flask application factory: the AWS gateway in front, emulator routes behind it."""

from __future__ import annotations

import functools

from flask import Flask, jsonify

from emulator import __version__, workers
from emulator.aws.moto_bridge import moto_wsgi_app, warm_job_backends
from emulator.config import Config
from emulator.engines import warm_state, warm_up
from emulator.gateway import AwsGateway
from emulator.home import HomePage
from emulator.persistence.routes import register_snapshot_routes
from emulator.persistence.wsgi import PersistingApp
from emulator.protocol.models import service_model
from emulator.request_log import RequestLog
from emulator.runtime import Emulator
from emulator.scratch import SCRATCH
from emulator.warmup import DeferredWarmUp

MOTO_SERVICES = ("s3", "sts", "iam", "logs")


def service_summary(emulator: Emulator) -> dict[str, dict[str, object]]:
    """Per service: who serves it and how many model operations the emulator implements."""
    services: dict[str, dict[str, object]] = {}
    for name, provider in sorted(emulator.providers.items()):
        ops = provider.implemented_operations()
        services[name] = {
            "provider": "emulator",
            "implemented": len(ops),
            "operations": len(service_model(name).operation_names),
            "implemented_operations": ops,
            "fallback": "moto",
        }
    for name in MOTO_SERVICES:
        services.setdefault(name, {"provider": "moto"})
    return services


def create_app(config: Config | None = None) -> Flask:
    """Build one emulator instance as a Flask app (``app.emulator`` holds its state)."""
    emulator = Emulator(config or Config())
    app = Flask("emulator")
    app.config["EMULATOR"] = emulator
    app.emulator = emulator  # type: ignore[attr-defined]
    # after the first answer, in the background: moto's dispatcher (else built by the first
    # S3 call), pandas/scikit-learn (else imported by the first job), the job forkserver and
    # a spare worker, and what the first job would otherwise build: the moto backends a job
    # writes to, the scratch root (and the sweep of dead emulators' roots)
    warm = DeferredWarmUp([workers.warm_up, moto_wsgi_app, warm_up,
                           functools.partial(warm_job_backends, emulator.config.region),
                           SCRATCH.prepare], delay=10.0)

    @app.get("/_emulator/health")
    def health():  # noqa: ANN202
        return jsonify({"status": "running", "version": __version__, "services": service_summary(emulator),
                        "workers": workers.stats(), "engines": warm_state()})

    @app.post("/_emulator/reset")
    def reset():  # noqa: ANN202
        """Forget every resource of every account and region (emulator and moto)."""
        emulator.reset()
        return jsonify({"status": "reset"})

    register_snapshot_routes(app, emulator)
    from emulator.services.machinelearning import register_routes as register_machinelearning_routes

    register_machinelearning_routes(app, emulator)
    from emulator.console import ConsoleMount

    gateway = AwsGateway(emulator, ConsoleMount(app.wsgi_app, emulator, lambda: app.wsgi_app))
    app.wsgi_app = warm.wrap(RequestLog(HomePage(PersistingApp(gateway, emulator)), emulator.config.region))  # type: ignore[method-assign]
    return app
