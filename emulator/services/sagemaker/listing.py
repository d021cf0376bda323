"""The common List* contract: name/time/status filters, sorting and paging."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from emulator.services.paging import BadNextToken, paginate
from emulator.services.sagemaker.errors import validation



def list_page(records: Iterable[dict[str, Any]], request: dict[str, Any], *, name_key: str,
              status_key: str | None = None, summary: Callable[[dict[str, Any]], dict[str, Any]],
              default_sort: str = "CreationTime", default_order: str = "Descending") -> tuple[list[dict[str, Any]], str | None]:
    """Filter by NameContains/Creation*/LastModified*/StatusEquals, sort, and page (MaxResults default 10)."""
    selected = []
    for record in records:
        if request.get("NameContains") and request["NameContains"] not in record[name_key]:
            continue
        if not _in_window(record.get("CreationTime"), request.get("CreationTimeAfter"), request.get("CreationTimeBefore")):
            continue
        if not _in_window(record.get("LastModifiedTime"), request.get("LastModifiedTimeAfter"),
                          request.get("LastModifiedTimeBefore")):
            continue
        if status_key and request.get("StatusEquals") and record.get(status_key) != request["StatusEquals"]:
            continue
        selected.append(record)
    sort_by = request.get("SortBy", default_sort)
    key = {"Name": name_key, "Status": status_key}.get(sort_by, "CreationTime") or "CreationTime"
    selected.sort(key=lambda r: (r.get(key) is None, r.get(key)), reverse=request.get("SortOrder", default_order) == "Descending")
    try:
        page, token = paginate(selected, request.get("NextToken"), int(request.get("MaxResults", 10)))
    except BadNextToken as exc:
        raise validation(str(exc)) from exc
    return [summary(r) for r in page], token


def _in_window(value: Any, after: Any, before: Any) -> bool:
    if value is None:
        return after is None and before is None
    if after is not None and not value > after:
        return False
    return before is None or value < before
