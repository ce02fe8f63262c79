"""The shell snippets of ``docs/*.md`` run against the local cloud.

Convention (see ``docs/runbook.md``, "Conventions"): a fenced ``bash``
block right after a ``<!-- run-local -->`` line is runnable on the local
cloud; ``<!-- expect: TEXT -->`` lines right after the block name text its
output must contain. All runnable blocks of one document run in order in
one bash process (``set -euo pipefail``, variables carry over), with the
local cloud's exported environment (``local-cloud.sh``: endpoints,
credentials, ``DRS_ORCH_API_URL``), ``.venv/bin`` (the AWS CLI) first on
``PATH`` and a fresh working directory.
"""

import os
import re
import shutil
import subprocess  # nosec B404
import sys
from pathlib import Path

import pytest

from localcloud.rest_api import serve_for
from tests.docs_snippets import DOCS, runnable_snippets

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = str(Path(sys.executable).parent)
TIMEOUT_SECONDS = 240
SEPARATOR = "@@docs-snippet {index}@@"

DOCUMENTS = sorted(p.name for p in DOCS.glob("*.md") if runnable_snippets(p))


@pytest.fixture
def api(local_cloud_env):
    """The local REST API in front of the (reset) local cloud."""
    server = serve_for(local_cloud_env)
    yield local_cloud_env
    server.stop()
    local_cloud_env.api_url = None


def _script(snippets) -> str:
    parts = ["set -euo pipefail"]
    for index, snippet in enumerate(snippets):
        parts.append(f"printf '\\n%s\\n' '{SEPARATOR.format(index=index)}'")
        parts.append(snippet.code)
    parts.append(f"printf '\\n%s\\n' '{SEPARATOR.format(index='end')}'")
    return "\n".join(parts) + "\n"


def _outputs(stdout: str) -> dict:
    """Snippet index -> its output (what it printed before the next)."""
    pattern = re.compile(r"^@@docs-snippet (\w+)@@$", re.M)
    found = {}
    marks = list(pattern.finditer(stdout))
    for mark, following in zip(marks, marks[1:] + [None]):
        end = following.start() if following else len(stdout)
        found[mark.group(1)] = stdout[mark.end() : end]
    return found


def test_every_document_with_snippets_is_collected():
    # Given the documents that promise runnable snippets
    # Then the runbook is among them (the test would silently pass if
    # the convention's marker were renamed)
    assert "runbook.md" in DOCUMENTS


@pytest.mark.parametrize("document", DOCUMENTS)
def test_document_snippets_run_on_the_local_cloud(document, api, tmp_path):
    # Given the tools the documents use
    missing = [t for t in ("bash", "curl", "jq") if not shutil.which(t)]
    assert not missing, f"install {missing}: the documents' snippets use them"
    # And the runnable snippets of one document, in order
    snippets = runnable_snippets(DOCS / document)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(api.env())
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    env["AWS_PAGER"] = ""

    # When they run in one bash process against the local cloud
    result = subprocess.run(  # nosec B603 B607
        ["bash", "-c", _script(snippets)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )

    # Then every snippet ran (exit 0)
    outputs = _outputs(result.stdout)
    reached = [k for k in outputs if k != "end"]
    failing = snippets[int(reached[-1])] if reached else snippets[0]
    assert result.returncode == 0 and "end" in outputs, (
        f"{document}: snippet at line {failing.line} failed "
        f"(exit {result.returncode})\n--- stdout\n{result.stdout[-3000:]}"
        f"\n--- stderr\n{result.stderr[-3000:]}"
    )
    # And printed what the document says it prints
    for index, snippet in enumerate(snippets):
        for expected in snippet.expects:
            assert expected in outputs[str(index)], (
                f"{document} line {snippet.line}: expected {expected!r} in"
                f"\n{outputs[str(index)][-2000:]}"
            )
