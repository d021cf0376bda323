"""Runnable example clients, one per seed document."""
