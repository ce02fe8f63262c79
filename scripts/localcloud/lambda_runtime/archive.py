"""Build a function zip from sources in memory (tests, benchmarks)."""

import io
import zipfile
from typing import Dict


def make_zip(files: Dict[str, str]) -> bytes:
    """A zip of ``{archive name: source text}``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted(files.items()):
            archive.writestr(name, text)
    return buffer.getvalue()
