"""The reliability run of issue 15 (``./scripts/reliability.sh``)."""
