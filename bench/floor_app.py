"""The latency floor for bench/bench.py: a trivial Flask app served exactly like the emulator.

    python bench/floor_app.py --port 4600

Same werkzeug server (``make_server(..., threaded=True)`` then ``serve_forever``, as
``python -m emulator`` does) answering every POST with a small awsJson body (an empty
``ListModels`` page), so a boto3 ``sagemaker`` client can call it exactly like the
emulator: client signing, HTTP and response parsing are the same on both sides and the
ratio isolates the server's own work.
"""

from __future__ import annotations

import argparse

from flask import Flask, Response
from werkzeug.serving import make_server

BODY = b'{"Models": []}'


def create_app() -> Flask:
    app = Flask("floor")

    @app.route("/", methods=["GET", "POST"])
    def answer() -> Response:
        return Response(BODY, content_type="application/x-amz-json-1.1")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = make_server(args.host, args.port, create_app(), threaded=True)
    print(f"floor listening on http://{args.host}:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
