"""Account and region of a console page (the first two URL segments), API clients, paging."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode
from typing import Any, Callable

from botocore.exceptions import ClientError
from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from emulator.context import RequestContext

from .api import ApiClients

PAGE_SIZE = 50
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def install(blueprint: Blueprint, emulator: Any, clients: ApiClients) -> None:
    """Bind the scope handling to ``blueprint``: URL values, template globals, errors."""

    @blueprint.url_value_preprocessor
    def _pull_scope(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.emulator, g.clients = emulator, clients
        if values and "account" in values:
            account, region = values.pop("account"), values.pop("region")
            if not _ACCOUNT.match(account) or not _REGION.match(region):
                abort(404)
            g.account, g.region = account, region

    @blueprint.url_defaults
    def _push_scope(endpoint: str, values: dict[str, Any]) -> None:
        if "account" in values or not hasattr(g, "account"):
            return
        from flask import current_app

        if current_app.url_map.is_endpoint_expecting(endpoint, "account"):
            values.setdefault("account", g.account)
            values.setdefault("region", g.region)

    @blueprint.context_processor
    def _helpers() -> dict[str, Any]:
        return {"keep_args": keep_args, "s3_href": s3_href, "notice": request.args.get("notice")}

    @blueprint.errorhandler(ClientError)
    def _api_error(error: ClientError):  # noqa: ANN202
        info = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        return render_template("console/error.html", code=info.get("Code"), message=info.get("Message"),
                               operation=error.operation_name), status

    @blueprint.errorhandler(ValueError)
    def _bad_value(error: ValueError):  # noqa: ANN202
        return render_template("console/error.html", code="InvalidInput", message=str(error), operation=None), 400

    @blueprint.get("/")
    def root():  # noqa: ANN202
        return redirect(url_for("console.home", account=emulator_account(), region=emulator.config.region))

    @blueprint.get("/switch")
    def switch():  # noqa: ANN202
        account = request.args.get("account", "").strip()
        region = request.args.get("region", "").strip()
        if not _ACCOUNT.match(account) or not _REGION.match(region):
            return render_template("console/error.html", code="InvalidScope",
                                   message="An account is 12 digits and a region looks like us-east-1",
                                   operation=None), 400
        return redirect(url_for("console.home", account=account, region=region))


def emulator_account() -> str:
    """The default account (the one unsigned or non-numeric access keys act as)."""
    from emulator.aws.identity import DEFAULT_ACCOUNT_ID

    return DEFAULT_ACCOUNT_ID


def api(service: str) -> Any:
    """A boto3 client of ``service`` for this page's account and region (answered in-process)."""
    return g.clients.client(service, g.account, g.region, request.host_url.rstrip("/"))


def provider_context(service: str) -> RequestContext:
    """A RequestContext for a provider's console-only read views."""
    return RequestContext(emulator=g.emulator, service=service, operation="Console", account_id=g.account,
                          region=g.region, request_id=str(uuid.uuid4()), base_url=request.host_url.rstrip("/"))


def page(call: Callable[..., dict[str, Any]], items_key: str, *, token_in: str = "NextToken",
         token_out: str = "NextToken", size_key: str | None = "MaxResults", size: int = PAGE_SIZE,
         **params: Any) -> tuple[list[Any], str | None]:
    """One page of a list operation, continuing from the ``next`` query argument."""
    token = request.args.get("next")
    if token:
        params[token_in] = token
    if size_key:
        params[size_key] = size
    answer = call(**params)
    return answer.get(items_key, []), answer.get(token_out) or None


def scopes_seen() -> tuple[list[str], list[str]]:
    """Accounts and regions that hold any emulator state, plus the current ones."""
    partitions = g.emulator.store.partitions()
    accounts = sorted({p[1] for p in partitions} | {g.account, emulator_account()})
    regions = sorted({p[2] for p in partitions} | {g.region, g.emulator.config.region})
    return accounts, regions


def keep_args(**changes: Any) -> str:
    """This page's query string without ``next`` (paging restarts), with ``changes`` applied."""
    args = {k: v for k, v in request.args.items() if k not in ("next", "notice")}
    args.update({k: v for k, v in changes.items() if v is not None})
    return urlencode(args)


def s3_href(uri: str | None) -> str | None:
    """The console URL of an ``s3://bucket/key`` (object) or ``s3://bucket/prefix/`` (folder)."""
    if not uri or not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[5:].partition("/")
    if not key or key.endswith("/"):
        return url_for("console.s3_bucket", bucket=bucket, prefix=key)
    return url_for("console.s3_object", bucket=bucket, key=key)
