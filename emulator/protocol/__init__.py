"""Generic AWS wire protocol code driven by botocore's service models (no service knowledge)."""
