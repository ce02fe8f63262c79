#!/usr/bin/env python3
"""Regenerate the generated blocks of ``docs/*.md`` from the templates and
the code, so the documents cannot drift from what is deployed.

    .venv/bin/python scripts/gen_docs.py          # rewrite the blocks
    .venv/bin/python scripts/gen_docs.py --check  # exit 1 if one is stale

A generated block sits between ``<!-- generated:NAME -->`` and
``<!-- /generated -->``; everything outside the markers is written by
hand and left alone. ``tests/unit/test_docs_generated.py`` fails when a
committed block differs from a fresh generation.

Sources: ``cfn/*.yaml`` (parameters, environment variables, IAM roles,
tables, event rules, Cognito groups, resource policies),
``cfn/statemachine/*.asl.json`` (the state machine diagram),
``lambda/shared`` (statuses, config, RBAC), each function's code as its
zip bundles it (``tests/unit/templates/code_reach.py``: the environment
variables its handler can reach), the header of ``scripts/deploy.sh``,
the parity tests under ``tests/`` and the committed bench measurement
``docs/measurements/generic-vs-legacy.json``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional

from docgen.architecture_blocks import (
    block_functions,
    block_invocations,
    block_stacks,
)
from docgen.common import (
    COMMAND,
    DOCS,
    ROOT,
)
from docgen.deployment_blocks import (
    block_cognito_groups,
    block_deploy_stages,
    block_env_vars,
    block_iam,
    block_master_outputs,
    block_master_parameters,
    block_resource_policies,
    block_spoke_parameters,
)
from docgen.machine_blocks import (
    block_alarms,
    block_events,
    block_state_machine,
    block_status_transitions,
    block_tables,
)
from docgen.refactoring_blocks import (
    block_generic_vs_legacy,
    block_parity_tests,
)

BLOCK = re.compile(
    r"(?P<open><!-- generated:(?P<name>[a-z0-9-]+) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<close><!-- /generated -->)",
    re.S,
)
BLOCKS: Dict[str, Callable[[], str]] = {
    "stacks": block_stacks,
    "functions": block_functions,
    "invocations": block_invocations,
    "state-machine": block_state_machine,
    "status-transitions": block_status_transitions,
    "tables": block_tables,
    "events": block_events,
    "alarms": block_alarms,
    "deploy-stages": block_deploy_stages,
    "master-parameters": block_master_parameters,
    "master-outputs": block_master_outputs,
    "spoke-parameters": block_spoke_parameters,
    "cognito-groups": block_cognito_groups,
    "env-vars": block_env_vars,
    "iam": block_iam,
    "resource-policies": block_resource_policies,
    "parity-tests": block_parity_tests,
    "generic-vs-legacy": block_generic_vs_legacy,
}


def render(text: str, path: Path) -> str:
    """``text`` with every generated block regenerated."""

    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in BLOCKS:
            raise SystemExit(f"{path}: unknown generated block {name!r}")
        body = BLOCKS[name]().rstrip("\n")
        return (
            match.group("open")
            + f"<!-- do not edit: regenerate with {COMMAND} -->\n"
            + body
            + "\n"
            + match.group("close")
        )

    return BLOCK.sub(replace, text)


def documents() -> List[Path]:
    """The Markdown files of ``docs/`` holding generated blocks."""
    return sorted(p for p in DOCS.glob("*.md") if BLOCK.search(p.read_text()))


def stale() -> List[Path]:
    """Documents whose generated blocks differ from a fresh generation."""
    return [
        p for p in documents() if render(p.read_text(), p) != p.read_text()
    ]


def main(argv: Optional[List[str]] = None) -> int:
    """Rewrite the generated blocks, or with ``--check`` report stale
    documents (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        paths = stale()
        for path in paths:
            print(f"stale: {path.relative_to(ROOT)} (run {COMMAND})")
        return 1 if paths else 0
    for path in documents():
        text = path.read_text()
        new = render(text, path)
        if new != text:
            path.write_text(new)
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
