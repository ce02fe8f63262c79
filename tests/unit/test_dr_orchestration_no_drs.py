"""The generic orchestration package makes no DRS call and imports no DRS
code (seeds/000_* success criteria), checked on the built zip."""

import ast
import zipfile

import package_lambda

FORBIDDEN_NAMES = {
    "create_drs_client",
    "start_recovery",
    "describe_jobs",
    "describe_source_servers",
    "describe_job_log_items",
    "apply_launch_configs",
}
FORBIDDEN_MODULES = {
    "wave_recovery",
    "wave_status",
    "wave_poll",
    "wave_observation",
    "wave_outcome",
    "server_discovery",
    "shared.launch_config",
}


def _modules(archive: zipfile.ZipFile) -> dict:
    """Dotted module name -> source of every .py in the zip."""
    modules = {}
    for name in archive.namelist():
        if not name.endswith(".py"):
            continue
        dotted = name[:-3].replace("/", ".")
        if dotted.endswith(".__init__"):
            dotted = dotted[: -len(".__init__")]
        modules[dotted] = archive.read(name).decode()
    return modules


def _imports(tree: ast.AST) -> set:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _violations(tree: ast.AST) -> list:
    """DRS clients and DRS operations referenced by a module.

    The body of a forbidden function's own definition (the client factory
    ``create_drs_client`` in ``shared.aws_clients``) is not a use: its
    callers are what the check looks for.
    """
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in FORBIDDEN_NAMES:
            skipped.update(id(n) for n in ast.walk(node))
    bad = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Constant) and node.value == "drs":
            bad.append("'drs' client")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            bad.append(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            bad.append(node.attr)
    return bad


def reachable_violations(zip_path) -> dict:
    """Module -> violations, over every module reachable from index."""
    with zipfile.ZipFile(zip_path) as archive:
        modules = _modules(archive)
    problems, seen, todo = {}, set(), ["index"]
    while todo:
        name = todo.pop()
        if name in seen or name not in modules:
            continue
        seen.add(name)
        tree = ast.parse(modules[name])
        imported = _imports(tree)
        bad = _violations(tree)
        bad += sorted(f"import {m}" for m in imported & FORBIDDEN_MODULES)
        if bad:
            problems[name] = bad
        todo.extend(m for m in imported if m in modules)
    assert "index" in seen
    return problems


def test_generic_orchestration_zip_has_no_drs_code(tmp_path):
    # Given the generic orchestration function packaged for deployment
    zip_path = package_lambda.build_zip(
        "dr-orchestration-stepfunction", tmp_path
    )
    # When its reachable modules are inspected
    problems = reachable_violations(zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
    # Then no DRS client, DRS operation or DRS module is used or bundled
    assert problems == {}
    assert not {"wave_recovery.py", "wave_status.py", "wave_poll.py"} & names


def test_the_check_finds_drs_code_in_the_legacy_zip(tmp_path):
    # Given the legacy function, which runs the DRS code in-process
    zip_path = package_lambda.build_zip(
        "orchestration-stepfunctions", tmp_path
    )
    # When inspected the same way
    problems = reachable_violations(zip_path)
    # Then the checker reports the DRS modules (it can fail)
    assert "import wave_recovery" in problems["in_process_port"]
    assert "wave_poll" in problems
