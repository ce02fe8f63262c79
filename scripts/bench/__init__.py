"""Benchmarks of the orchestration (``./scripts/bench.sh``, issue 11).

One module per benchmark (``overhead``, ``generic_legacy``,
``drs_calls``, ``cold_start``, ``state_size``); ``cloud_run`` runs a plan
on the local cloud and records its timeline, Lambda invocations and DRS
calls; ``scenarios`` generates scenarios in memory; ``results`` writes the
JSON and renders the table; ``__main__`` is the command line.
"""
