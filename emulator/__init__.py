"""aws-ml-emulator: a local emulator of AWS's machine-learning services that does the work."""

__version__ = "0.1.0"
