"""The drill: a full multi-wave DR drill on the local cloud.

``python -m localcloud.drill`` (what ``scripts/drill.sh`` runs) starts the
local cloud, sets the plan up and runs it through the public interfaces
(direct Lambda invocation of the deployed functions), shows progress,
writes ``build/drill/<executionId>/report.json`` and ``timeline.png``.
"""
