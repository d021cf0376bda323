"""``--data-dir`` persistence: write-through to SQLite (WAL) + content-addressed body files."""
