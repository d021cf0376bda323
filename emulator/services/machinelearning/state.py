"""Resource model of the Amazon ML provider: four object types kept per account and region."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from emulator.lifecycle import job_status

from .parsed_files import ParsedFiles


def now() -> datetime:
    """Timezone-aware current time (the serialiser turns it into epoch seconds)."""
    return datetime.now(timezone.utc)


@dataclass
class Resource:
    """Fields every Amazon ML object shares."""

    id: str
    name: str | None
    created_by: str
    request: dict[str, Any]  # the create request, for idempotency checks
    status: str = "PENDING"
    message: str | None = None
    created_at: datetime = field(default_factory=now)
    last_updated_at: datetime = field(default_factory=now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    compute_time: int | None = None  # milliseconds
    tags: dict[str, str | None] = field(default_factory=dict)
    future: Future | None = field(default=None, repr=False, compare=False)
    log_uri: str | None = None

    kind = "Resource"
    label = "resource"  # how the lifecycle log names the type

    def touch(self) -> None:
        """Stamp LastUpdatedAt."""
        self.last_updated_at = now()

    def start(self) -> None:
        """Enter INPROGRESS."""
        self.status = "INPROGRESS"
        self.started_at = now()
        self.touch()
        job_status(self.label, self.id, self.status)

    def finish(self, status: str, message: str | None = None) -> None:
        """End in ``status`` (COMPLETED/FAILED) with an optional Message; records ComputeTime."""
        self.status = status
        self.message = message
        self.finished_at = now()
        if self.started_at is not None:
            self.compute_time = int((self.finished_at - self.started_at).total_seconds() * 1000)
        self.touch()
        job_status(self.label, self.id, status, message, final=True)

    @property
    def deleted(self) -> bool:
        """True once Delete* has marked the object DELETED."""
        return self.status == "DELETED"


@dataclass
class DataSource(Resource):
    """A data source (S3, or RDS/Redshift that ends FAILED) and the records it selected."""

    location_s3: str | None = None
    rearrangement: str | None = None
    schema_text: str | None = None
    schema: Any = None  # engine DataSchema (None for RDS/Redshift without schema)
    compute_statistics: bool = False
    data_size: int | None = None
    number_of_files: int | None = None
    role_arn: str | None = None
    rds_metadata: dict[str, Any] | None = None
    redshift_metadata: dict[str, Any] | None = None
    dataset: Any = field(default=None, repr=False)  # engine Dataset, kept in memory
    statistics: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)  # s3:// URI of every input file

    kind = "DataSource"
    label = "data source"


@dataclass
class MLModel(Resource):
    """An ML model, its trained engine model and its real-time endpoint."""

    model_type: str = "BINARY"
    training_data_source_id: str = ""
    parameters: dict[str, str] = field(default_factory=dict)  # TrainingParameters echo
    recipe_text: str | None = None  # user recipe, or the default one once trained
    input_location: str | None = None
    size_in_bytes: int | None = None
    score_threshold: float | None = None
    score_threshold_updated_at: datetime | None = None
    endpoint: dict[str, Any] | None = None  # RealtimeEndpointInfo without NONE
    trained: Any = field(default=None, repr=False)  # engine TrainedModel
    schema_text: str | None = None

    kind = "MLModel"
    label = "ML model"


@dataclass
class ModelJob(Resource):
    """An evaluation or batch prediction: runs one MLModel over one DataSource."""

    ml_model_id: str = ""
    data_source_id: str = ""
    input_location: str | None = None


@dataclass
class Evaluation(ModelJob):
    """An evaluation and its performance metrics."""

    metrics: dict[str, str] | None = None
    insights: dict[str, Any] | None = None  # what the console draws (engine's evaluate_with_insights)

    kind = "Evaluation"
    label = "evaluation"


@dataclass
class BatchPrediction(ModelJob):
    """A batch prediction writing result files under OutputUri."""

    output_uri: str = ""
    total_records: int | None = None
    invalid_records: int | None = None

    kind = "BatchPrediction"
    label = "batch prediction"


TABLES: dict[str, str] = {"DataSource": "data_sources", "MLModel": "models", "Evaluation": "evaluations",
                          "BatchPrediction": "batch_predictions"}
"""``MachineLearningState`` attribute holding each object type."""


class MachineLearningState:
    """Every Amazon ML object of one account and region."""

    transient_fields = ("parsed_files",)

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.parsed_files = ParsedFiles()  # parses shared by the data sources of one object
        self.data_sources: dict[str, DataSource] = {}
        self.models: dict[str, MLModel] = {}
        self.evaluations: dict[str, Evaluation] = {}
        self.batch_predictions: dict[str, BatchPrediction] = {}

    def after_restart(self, account_id: str, region: str) -> None:
        """--data-dir restart: objects whose job the restart interrupted end FAILED."""
        for table in TABLES.values():
            for resource in getattr(self, table).values():
                if resource.status in ("PENDING", "INPROGRESS"):
                    resource.finish("FAILED", "The emulator restarted while this job was in progress; create it again.")

    def table(self, resource_type: str) -> dict[str, Any]:
        """The dict holding objects of a ``ResourceType`` (``Resource.kind``: "DataSource", ...)."""
        return getattr(self, TABLES[resource_type])
