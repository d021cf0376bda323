"""Crawler and classifier records of one account and region (the Data Catalog itself is
in ``catalog.py``)."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
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
