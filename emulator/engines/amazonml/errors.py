"""Exceptions raised by the Amazon ML engine.

* :class:`EngineInputError` -- the user sent something malformed (schema, recipe,
  parameter, rearrangement).  The provider answers ``InvalidInputException`` with
  ``str(exc)`` as message.
* :class:`DataProcessingError` -- the data itself cannot be processed; the resource
  being built becomes ``FAILED`` with ``str(exc)`` as its ``Message``.
"""


class EngineInputError(ValueError):
    """Bad user input (schema, recipe, parameters, data rearrangement...)."""


class DataProcessingError(RuntimeError):
    """Data problem that makes the datasource/model/evaluation/batch FAILED."""
