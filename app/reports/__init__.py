"""Periodic reports: the weekly check and the monthly review (docs/REPORTS.md)."""
