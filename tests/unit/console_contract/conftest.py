"""Fixtures of the console contract tests (issue 20).

Each test sends a request exactly as the reference console builds it
(``frontend/src/services/api.ts`` of the public reference
implementation: path, query, body fields) and asserts every field that
console reads from the answer. The handler fixtures are the ones of the
handler tests.
"""

from tests.unit.data_management.conftest import dm  # noqa: F401
from tests.unit.execution_lifecycle.conftest import (  # noqa: F401
    lc,
    lc_factory,
)
from tests.unit.query_handler.conftest import (  # noqa: F401
    enforce_external_id,
    make_world,
    no_default_amis,
    small_world,
)
