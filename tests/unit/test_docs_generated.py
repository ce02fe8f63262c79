"""The generated blocks of ``docs/*.md`` match a fresh generation, and the
hand-written parts keep their promises (links, statuses, snippets)."""

import json
import re
import sys
from pathlib import Path

import pytest

from tests.docs_snippets import (
    DOCS,
    SnippetFormatError,
    runnable_snippets,
)

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

import gen_docs  # noqa: E402
from docgen import common, deployment_blocks  # noqa: E402
from docgen.machine_blocks import state_machine_mermaid  # noqa: E402

REQUIRED = ("architecture.md", "deployment.md", "runbook.md")


@pytest.mark.parametrize("name", gen_docs.BLOCKS)
def test_every_generator_is_used_by_a_document(name):
    # Given the documents of docs/
    texts = "".join(p.read_text() for p in DOCS.glob("*.md"))
    # Then each generated block is placed in one of them
    assert f"<!-- generated:{name} -->" in texts, name


@pytest.mark.parametrize("path", gen_docs.documents(), ids=lambda p: p.name)
def test_generated_blocks_are_up_to_date(path):
    # Given a committed document with generated blocks
    committed = path.read_text()
    # When its blocks are generated afresh from templates and code
    fresh = gen_docs.render(committed, path)
    # Then nothing changed
    assert (
        fresh == committed
    ), f"docs/{path.name} is stale: run {gen_docs.COMMAND} and commit"


def test_render_fills_a_block_and_keeps_the_hand_written_text(tmp_path):
    # Given a document with hand-written text around an empty block
    doc = tmp_path / "doc.md"
    doc.write_text(
        "intro\n<!-- generated:master-parameters -->\nold\n"
        "<!-- /generated -->\noutro\n"
    )
    # When it is rendered
    text = gen_docs.render(doc.read_text(), doc)
    # Then the block holds every master parameter and the rest is kept
    assert text.startswith("intro\n") and text.endswith("outro\n")
    assert "old" not in text
    for name in common.template("master-template.yaml")["Parameters"]:
        assert f"| `{name}` |" in text


def test_unknown_block_name_is_refused(tmp_path):
    # Given a block no generator knows
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- generated:nope -->\n<!-- /generated -->\n")
    # Then rendering fails naming it
    with pytest.raises(SystemExit, match="nope"):
        gen_docs.render(doc.read_text(), doc)


def test_state_machine_diagram_has_every_state_and_transition():
    # Given the state machine definition
    definition = json.loads(
        (ROOT / "cfn/statemachine/orchestration.asl.json").read_text()
    )
    # When it is drawn
    chart = state_machine_mermaid(definition)
    # Then every state is a node and every Next/Default an edge
    for name, state in definition["States"].items():
        assert re.search(rf"^    {name}[\[\{{\(]", chart, re.M), name
        for target in filter(None, [state.get("Next"), state.get("Default")]):
            assert re.search(rf"^    {name} -->.* {target}$", chart, re.M)


def test_env_table_flags_a_variable_read_but_not_set(monkeypatch):
    # Given a function whose code reads a variable its template omits
    real = deployment_blocks.code_reads("query-handler")
    monkeypatch.setattr(
        deployment_blocks,
        "code_reads",
        lambda folder: (
            {**real, "MADE_UP_SETTING": "`os.environ`"}
            if folder == "query-handler"
            else {}
        ),
    )
    # When the environment table is generated
    text = deployment_blocks.block_env_vars()
    # Then the variable is flagged
    row = next(r for r in text.splitlines() if "`MADE_UP_SETTING`" in r)
    assert "read by code, not set by the template" in row


def test_required_documents_exist_and_readme_links_them():
    # Given the README
    readme = (ROOT / "README.md").read_text()
    # Then each document exists and is linked
    for name in REQUIRED + ("refactoring-summary.md",):
        assert (DOCS / name).is_file(), name
        assert f"docs/{name}" in readme, name


def test_runbook_describes_every_execution_status():
    # Given the statuses of shared/statuses.py
    from shared import statuses

    runbook = (DOCS / "runbook.md").read_text()
    # Then the runbook's status table has a row for each
    for status in statuses.ACTIVE_STATUSES | statuses.TERMINAL_STATUSES:
        assert f"| `{status}` |" in runbook, status


def test_relative_links_between_documents_resolve():
    # Given the Markdown links of docs/ to other files of the repository
    pattern = re.compile(r"\]\((?!https?:)([^)#]+)(#[^)]*)?\)")
    for path in DOCS.glob("*.md"):
        for target, _anchor in pattern.findall(path.read_text()):
            # Then the linked file exists
            assert (path.parent / target).exists(), f"{path.name}: {target}"


def test_snippet_markers_are_followed_by_bash_blocks(tmp_path):
    # Given the documents' runnable snippets
    for path in DOCS.glob("*.md"):
        runnable_snippets(path)  # raises on a malformed marker
    # And a malformed marker
    bad = tmp_path / "bad.md"
    bad.write_text("<!-- run-local -->\n```python\nprint(1)\n```\n")
    # Then it is refused
    with pytest.raises(SnippetFormatError):
        runnable_snippets(bad)


def test_expectations_are_collected_after_a_block(tmp_path):
    # Given a runnable block followed by two expectations
    doc = tmp_path / "doc.md"
    doc.write_text(
        "<!-- run-local -->\n```bash\necho hi\n```\n"
        "<!-- expect: hi -->\n<!-- expect: there -->\ntext\n"
    )
    # When it is parsed
    (snippet,) = runnable_snippets(doc)
    # Then code and expectations are found
    assert snippet.code == "echo hi"
    assert snippet.expects == ["hi", "there"]
    assert snippet.line == 3


MOVED = [
    ("lambda/execution-handler/wave_recovery.py", "start_wave_recovery"),
    ("lambda/shared/launch_config.py", "apply_launch_configs"),
    ("lambda/query-handler/wave_status.py", "poll_wave_status"),
    (
        "lambda/query-handler/server_discovery.py",
        "query_drs_servers_by_tags",
    ),
    ("lambda/shared/orchestration_core.py", "start_wave_or_fail"),
]


@pytest.mark.parametrize("path,function", MOVED)
def test_functions_named_by_the_documents_exist_where_they_say(path, function):
    # Given a module and function the architecture documents name
    source = (ROOT / path).read_text()
    # Then the module defines it
    assert re.search(rf"^def {function}\(", source, re.M), (path, function)
    # And the document names that file
    docs = (DOCS / "architecture.md").read_text() + (
        DOCS / "refactoring-summary.md"
    ).read_text()
    assert path.split("/")[-1] in docs


def test_error_codes_in_the_runbook_exist_in_the_code():
    # Given the errorCode table of the runbook
    runbook = (DOCS / "runbook.md").read_text()
    table = runbook.split("| `errorCode` |", 1)[1].split("\n\n", 1)[0]
    codes = set(re.findall(r"`([A-Z][A-Z_]{4,})`", table))
    assert len(codes) >= 10, codes
    # When the Lambda code is read
    code = "".join(p.read_text() for p in (ROOT / "lambda").rglob("*.py"))
    # Then each code is a string the code produces
    missing = sorted(c for c in codes if f'"{c}"' not in code)
    assert not missing, missing


def test_scheduling_note_matches_whether_the_engine_uses_the_rule():
    # Given whether any Lambda module besides the rule calls its decide()
    users = [
        p.relative_to(ROOT)
        for p in (ROOT / "lambda").rglob("*.py")
        if p.name != "wave_schedule.py"
        and re.search(r"\bwave_schedule\b", p.read_text())
        and re.search(r"\bdecide\(", p.read_text())
    ]
    note = (DOCS / "architecture.md").read_text()
    # Then the architecture's note says so (update it when wiring the rule)
    claims_unused = "does not use it yet" in note
    assert claims_unused == (
        not users
    ), f"architecture.md scheduling note is stale; users: {users}"
