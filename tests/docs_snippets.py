"""Runnable snippets of ``docs/*.md`` (shared by the docs tests).

A fenced ``bash`` block right after a ``<!-- run-local -->`` line runs on
the local cloud (``tests/integration/test_docs_snippets.py``);
``<!-- expect: TEXT -->`` lines right after its closing fence name text
its output must contain.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

DOCS = Path(__file__).resolve().parents[1] / "docs"
RUN_MARK = "<!-- run-local -->"
EXPECT = re.compile(r"^<!-- expect: (?P<text>.+?) -->$")


class SnippetFormatError(ValueError):
    """A ``run-local`` marker not followed by a ``bash`` block."""


@dataclass
class Snippet:
    """One runnable block: its first line number, code and expectations."""

    line: int
    code: str
    expects: List[str] = field(default_factory=list)


def runnable_snippets(path: Path) -> List[Snippet]:
    """The runnable snippets of one Markdown file, in order."""
    lines = path.read_text().splitlines()
    found: List[Snippet] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != RUN_MARK:
            index += 1
            continue
        start = index + 1
        if start >= len(lines) or lines[start].strip() != "```bash":
            raise SnippetFormatError(
                f"{path.name}:{index + 1}: {RUN_MARK} must be followed "
                "by a ```bash block"
            )
        end = start + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end >= len(lines):
            raise SnippetFormatError(f"{path.name}:{start + 1}: unclosed")
        snippet = Snippet(start + 2, "\n".join(lines[start + 1 : end]))
        index = end + 1
        while index < len(lines) and EXPECT.match(lines[index].strip()):
            snippet.expects.append(
                EXPECT.match(lines[index].strip()).group("text")
            )
            index += 1
        found.append(snippet)
    return found
