"""Benchmarks: run them as scripts (`.venv/bin/python bench/ingest.py`); see README.md."""
