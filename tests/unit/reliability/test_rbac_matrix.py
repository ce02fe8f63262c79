"""The RBAC matrix runner: its contract transcription and its checks."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reliability import rbac_matrix
from shared import rbac

PERMISSIONS = sorted(rbac.ALL_PERMISSIONS | {rbac.AUTHENTICATED})


@pytest.mark.parametrize("permission", PERMISSIONS)
def test_code_grants_what_the_contract_table_says(permission):
    # Given the CONTRACTS §6 transcription and the code's rbac
    for identity in rbac_matrix.IDENTITIES:
        if identity == rbac_matrix.NO_IDENTITY:
            continue
        # Then both agree for every identity
        expected = rbac_matrix.expected_answer(identity, permission)
        allowed = rbac.is_allowed([identity], permission)
        assert (expected == "allowed") == allowed, (identity, permission)


def test_check_of_each_expected_answer():
    check = rbac_matrix.check
    forbidden = {"error": "FORBIDDEN"}
    assert check("401", 401, {})[0]
    assert not check("401", 403, forbidden)[0]
    assert check("403", 403, forbidden)[0]
    assert not check("403", 403, {"message": "x"})[0]
    assert not check("403", 404, {})[0]
    assert check("allowed", 404, {})[0]
    assert not check("allowed", 403, forbidden)[0]
    assert not check("allowed", 502, {})[0]


class _Stub(BaseHTTPRequestHandler):
    """401 without identity, 403 for groups without the permission."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        groups = self.headers.get("X-Local-Groups")
        endpoint = next(
            e
            for e in rbac.ENDPOINTS
            if e.method == self.command
            and e.path.split("{")[0] == self.path[: len(e.path.split("{")[0])]
        )
        if groups is None:
            status, body = 401, {"message": "Unauthorized"}
        elif rbac.is_allowed([groups], endpoint.permission):
            status, body = 404, {"error": "NOT_FOUND", "message": "x"}
        else:
            status, body = 403, {"error": "FORBIDDEN", "message": "x"}
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


def test_run_matrix_counts_seven_identities_per_endpoint():
    # Given a server applying the rules, and two endpoints
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoints = [
        rbac.ENDPOINTS_BY_OPERATION["list_protection_groups"],
        rbac.ENDPOINTS_BY_OPERATION["create_target_account"],
    ]
    try:
        # When the matrix runs against it
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cases = rbac_matrix.run_matrix(url, endpoints)
    finally:
        server.shutdown()
        server.server_close()
    # Then it asked 2 x 7 times and every answer is the expected one
    assert len(cases) == 14
    assert all(c.passed for c in cases), [c for c in cases if not c.passed]
    by = {(c.operation, c.identity): c.status for c in cases}
    assert by[("create_target_account", "DRSRecoveryManager")] == 403
    assert by[("list_protection_groups", rbac_matrix.NO_IDENTITY)] == 401
    assert by[("list_protection_groups", rbac_matrix.UNKNOWN_GROUP)] == 403
