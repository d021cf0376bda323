"""``aws-ml-emulator`` / ``python -m emulator``: start the server."""

from __future__ import annotations

import argparse
import logging
import sys

from werkzeug.serving import make_server

from emulator import __version__
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
    parser.add_argument("--max-workers", type=int, default=base.max_workers, help="background job threads (EMULATOR_MAX_WORKERS)")
    parser.add_argument("--glue-job-minute-seconds", type=float, default=base.glue_job_minute_seconds,
                        help="seconds in one minute of a Glue job Timeout (EMULATOR_GLUE_JOB_MINUTE_SECONDS)")
    parser.add_argument("--version", action="version", version=__version__)
    args = parser.parse_args(argv)
    return Config(host=args.host, port=args.port, region=args.region, data_dir=args.data_dir,
                  job_grace_seconds=args.job_grace_seconds, max_workers=args.max_workers,
                  glue_job_minute_seconds=args.glue_job_minute_seconds)


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until interrupted."""
    config = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config)
    server = make_server(config.host, config.port, app, threaded=True)
    print(f"aws-ml-emulator {__version__} listening on http://{config.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.emulator.shutdown()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
