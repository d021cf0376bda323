"""Human pages: a home page for a browser opening the emulator's root URL, and the README.

Only an unsigned ``GET /`` that accepts ``text/html`` gets the home page; a signed
``GET /`` (S3's path-style ListBuckets) and every other request pass through untouched.
``GET /_emulator/readme`` answers the README (from the installed package's metadata, or
the checkout's README.md).
"""

from __future__ import annotations

import html
import os
from importlib import metadata
from typing import Any, Callable, Iterable

from emulator import __version__

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
README_PATH = "/_emulator/readme"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aws-ml-emulator</title></head>
<body style="font-family: sans-serif; max-width: 44em; margin: 2em auto">
<h1>aws-ml-emulator {version}</h1>
<p>A local emulator of Amazon Machine Learning, AWS Glue and Amazon SageMaker (with S3, STS,
IAM and CloudWatch Logs) is running here. It speaks the AWS wire protocols: point boto3, the AWS CLI
or the SageMaker Python SDK at <code>{url}</code>.</p>
<pre>eval "$(python -m clients {url})"</pre>
<ul>
<li><a href="/_emulator/health">health and implemented operations</a> (JSON)</li>
<li><a href="{readme}">README</a> (configuration, testing, troubleshooting)</li>
</ul>
</body></html>
"""


def readme_text() -> str:
    """The README: the checkout's README.md when running from one, else the package metadata's."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    try:
        return metadata.metadata("aws-ml-emulator").get_payload() or ""  # type: ignore[attr-defined]
    except metadata.PackageNotFoundError:
        return ""


def is_browser_home(environ: dict[str, Any]) -> bool:
    """An unsigned ``GET /`` from something that wants HTML."""
    return (environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO", "/") == "/"
            and not environ.get("HTTP_AUTHORIZATION") and "X-Amz-Credential" not in environ.get("QUERY_STRING", "")
            and "text/html" in environ.get("HTTP_ACCEPT", ""))


class HomePage:
    """Serves :data:`PAGE` for :func:`is_browser_home` requests and the README; the rest goes to ``app``."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == README_PATH:
            text = readme_text().encode()
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(text)))])
            return [text]
        if not is_browser_home(environ):
            return self.app(environ, start_response)
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        url = html.escape(f"{environ.get('wsgi.url_scheme', 'http')}://{host}")
        body = PAGE.format(version=__version__, url=url, readme=README_PATH).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]
