"""Backup, restore and rebuild of a store (rebuild replays ingest, so it sits above it)."""
