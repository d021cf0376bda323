"""``aws-ml-emulator`` / ``python -m emulator``: start the server."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from werkzeug.serving import make_server

from emulator import __version__, workers
from emulator.app import create_app
from emulator.config import Config


def parse_args(argv: list[str] | None = None) -> Config:
    """Options override ``EMULATOR_*`` environment variables, which override defaults."""
    base = Config.from_env()
    parser = argparse.ArgumentParser(prog="aws-ml-emulator", description="Local emulator of AWS ML services.")
    parser.add_argument("--host", default=base.host, help="bind address (default 127.0.0.1; EMULATOR_HOST)")
    parser.add_argument("--port", type=int, default=base.port, help=f"port (default {base.port}; EMULATOR_PORT)")
    parser.add_argument("--region", default=base.region, help="region for unsigned requests (EMULATOR_REGION)")
    parser.add_argument("--data-dir", default=base.data_dir, help="state directory, created if missing (EMULATOR_DATA_DIR)")
    parser.add_argument("--job-grace-seconds", type=float, default=base.job_grace_seconds,
                        help="how long a create call waits for its job (EMULATOR_JOB_GRACE_SECONDS)")
    parser.add_argument("--max-workers", type=int, default=base.max_workers,
                        help="worker processes running jobs at once (EMULATOR_MAX_WORKERS)")
    parser.add_argument("--job-memory-mb", type=int, default=base.job_memory_mb,
                        help="memory cap of each job's worker process, MB (EMULATOR_JOB_MEMORY_MB)")
    parser.add_argument("--version", action="version", version=__version__)
    args = parser.parse_args(argv)
    return Config(host=args.host, port=args.port, region=args.region, data_dir=args.data_dir,
                  job_grace_seconds=args.job_grace_seconds, max_workers=args.max_workers,
                  job_memory_mb=args.job_memory_mb)


class _Stop(Exception):
    """Raised in the main thread by SIGINT / SIGTERM."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


def _on_signal(signum: int, _frame: object) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):  # a second signal changes nothing: we are already stopping
        signal.signal(sig, signal.SIG_IGN)
    raise _Stop(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGINT or SIGTERM, then stop within seconds: no new
    requests, running jobs ended (their state says the emulator shut down), one log line."""
    config = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config)
    server = make_server(config.host, config.port, app, threaded=True)
    print(f"aws-ml-emulator {__version__} listening on http://{config.host}:{server.server_port}", flush=True)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    reason = "stopped"
    try:
        server.serve_forever()
    except (_Stop, KeyboardInterrupt) as stop:
        reason = getattr(stop, "signal_name", "SIGINT")
    finally:
        server.server_close()  # stop accepting requests
        running = workers.stats()["running"]
        app.emulator.shutdown(wait_seconds=5.0)  # type: ignore[attr-defined]
        workers.shutdown()
        logging.getLogger("emulator").info("aws-ml-emulator stopped (%s); %d running job(s) ended", reason, running)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0)  # never wait on a job thread still inside a library call


if __name__ == "__main__":
    sys.exit(main())
