"""Crawler and classifier records of one account and region (the Data Catalog itself is
in ``catalog.py``)."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


@dataclass
class CrawlerState:
    """GetCrawler-shaped crawlers, their crawls and metrics, and classifiers, keyed by name."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    crawlers: dict[str, dict[str, Any]] = field(default_factory=dict)
    crawls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """ListCrawls-shaped crawl records per crawler, oldest first."""
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    futures: dict[str, Future] = field(default_factory=dict)
    stop_requested: set[str] = field(default_factory=set)
    classifiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """GetClassifier-shaped: ``{"CsvClassifier": {...}}`` (one member set)."""

    def after_restart(self, account_id: str, region: str) -> None:
        """--data-dir restart: a crawl the restart interrupted ends FAILED, its crawler READY."""
        reason = "The emulator restarted while this crawl was running."
        ended = datetime.now(timezone.utc)
        for name, crawler in self.crawlers.items():
            if crawler.get("State") not in ("RUNNING", "STOPPING"):
                continue
            crawls = self.crawls.get(name) or []
            if crawls and crawls[-1].get("State") == "RUNNING":
                crawls[-1].update(State="FAILED", EndTime=ended, ErrorMessage=reason)
            crawler.update(State="READY", CrawlElapsedTime=0)
            crawler["LastCrawl"] = {**(crawler.get("LastCrawl") or {}), "Status": "FAILED", "ErrorMessage": reason}
