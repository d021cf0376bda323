"""``Job``: init and commit of a Glue job run (commit saves the job bookmark)."""

from __future__ import annotations

from typing import Any

from awsglue import _bookmarks


class Job:
    """One run of a job script."""

    def __init__(self, glue_context: Any) -> None:
        self._glue_context = glue_context
        self._job_name: str | None = None
        self._initialized = False

    @staticmethod
    def continuation_options() -> list[str]:
        return ["--continuation-option", "continuation-enabled", "continuation-readonly", "continuation-ignore"]

    @staticmethod
    def job_bookmark_options() -> list[str]:
        return ["--job-bookmark-option", "job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable"]

    @staticmethod
    def job_bookmark_range_options() -> list[str]:
        return ["--job-bookmark-from", "--job-bookmark-to"]

    @staticmethod
    def id_params() -> list[str]:
        return ["--JOB_NAME", "--JOB_ID", "--JOB_RUN_ID", "--SECURITY_CONFIGURATION"]

    @staticmethod
    def encryption_type_options() -> list[str]:
        return ["--encryption-type", "sse-s3"]

    def init(self, job_name: str, args: dict[str, Any] | None = None) -> None:
        """Start the run (loads the job's bookmark)."""
        self._job_name = job_name
        _bookmarks.current()
        self._initialized = True

    def isInitialized(self) -> bool:  # noqa: N802
        return self._initialized

    def commit(self) -> None:
        """End the run successfully: the sources read under a transformation_ctx are bookmarked."""
        _bookmarks.current().commit()
