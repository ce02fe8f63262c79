"""Helpers shared by unit and integration tests."""

import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = ROOT / "lambda"
SCRIPTS_DIR = ROOT / "scripts"

# Table env var -> table slug of CONTRACTS §4 (name: project-slug-env).
TABLE_ENV = {
    "PROTECTION_GROUPS_TABLE": "protection-groups",
    "RECOVERY_PLANS_TABLE": "recovery-plans",
    "EXECUTION_HISTORY_TABLE": "execution-history",
    "EXECUTION_SERVERS_TABLE": "execution-servers",
    "TARGET_ACCOUNTS_TABLE": "target-accounts",
    "TAG_SYNC_CONFIG_TABLE": "tag-sync-config",
}
PROJECT = "hrp-drs-tech-adapter"
ENVIRONMENT = "dev"
REGION = "us-east-1"
HUB_ACCOUNT = "123456789012"


def table_name(slug: str) -> str:
    return f"{PROJECT}-{slug}-{ENVIRONMENT}"


def add_code_paths() -> None:
    """Make ``shared``, every function's modules and ``localcloud``
    importable. Module names are unique across function folders."""
    paths = [LAMBDA_DIR, SCRIPTS_DIR, ROOT]
    paths += sorted(
        p for p in LAMBDA_DIR.iterdir() if p.is_dir() and p.name != "shared"
    )
    for path in reversed(paths):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


_LOAD_LOCK = threading.Lock()


def load_handler(folder: str) -> ModuleType:
    """Load ``lambda/<folder>/index.py`` under a unique module name.

    Thread-safe: concurrent tests' first calls would otherwise see the
    module in ``sys.modules`` before it finished executing."""
    name = folder.replace("-", "_") + "_index"
    with _LOAD_LOCK:
        if name in sys.modules:
            return sys.modules[name]
        path = LAMBDA_DIR / folder / "index.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module


def reset_shared_caches() -> None:
    """Forget cached settings, sessions and tables between tests."""
    from shared import aws_clients, clock, config, tables

    config.reset_settings()
    aws_clients.reset_clients()
    tables.reset_tables()
    clock.reset_time_source()


def create_tables(dynamodb) -> dict:
    """Create the tables exactly as ``cfn/database-stack.yaml`` does.

    Returns env var name -> Table.
    """
    from localcloud.templates import table_specs

    created = {}
    for spec in table_specs().values():
        created[spec["TableName"]] = dynamodb.create_table(**spec)
    result = {}
    for env, slug in TABLE_ENV.items():
        name = table_name(slug)
        if name not in created:
            raise AssertionError(f"database-stack.yaml has no table {name}")
        result[env] = created[name]
    return result


def api_event(
    method: str,
    path: str,
    body=None,
    query=None,
    groups=("DRSOrchestrationAdmin",),
    path_params=None,
    user="tester@example.com",
) -> dict:
    """An API Gateway REST proxy event with a Cognito identity."""
    import json

    claims = {"email": user, "cognito:username": user}
    if groups is not None:
        claims["cognito:groups"] = ",".join(groups)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "queryStringParameters": query,
        "pathParameters": path_params,
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": "req-test",
            "stage": "test",
            "httpMethod": method,
            "path": path,
            "resourcePath": path,
            "authorizer": {"claims": claims},
        },
    }


def with_server_rows(ddb_client, item: dict) -> dict:
    """An execution item (deserialized) with each wave's server records
    (the ``execution-servers`` table, ``shared.server_records``) as its
    ``servers`` and its planned ``serverIds`` (``shared.wave_plan_store``),
    as the functions' readers see them."""
    from boto3.dynamodb.types import TypeDeserializer

    if not item or not item.get("executionId"):
        return item
    from shared.wave_plan_store import PLAN_PREFIX, fill_planned, planned_from

    deserialize = TypeDeserializer().deserialize
    rows: dict = {}
    parts: list = []
    kwargs = {
        "TableName": table_name("execution-servers"),
        "KeyConditionExpression": "executionId = :e",
        "ExpressionAttributeValues": {":e": {"S": item["executionId"]}},
        "ConsistentRead": True,
    }
    while True:
        page = ddb_client.query(**kwargs)
        for raw in page.get("Items", []):
            row = {k: deserialize(v) for k, v in raw.items()}
            if row["serverKey"].startswith(PLAN_PREFIX):
                parts.append(row)
                continue
            rows.setdefault(int(row["waveIndex"]), []).append(
                {
                    k: v
                    for k, v in row.items()
                    if k
                    not in (
                        "executionId",
                        "serverKey",
                        "waveIndex",
                        "rank",
                        "updatedTime",
                    )
                }
            )
        if not page.get("LastEvaluatedKey"):
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    # The planned ids back on their waves, as the readers see them.
    item = fill_planned(item, planned_from(parts))
    waves = []
    for index, wave in enumerate(item.get("waves") or []):
        known = {s["sourceServerId"]: s for s in wave.get("servers") or []}
        known.update({s["sourceServerId"]: s for s in rows.get(index, [])})
        waves.append({**wave, "servers": list(known.values())})
    return {**item, "waves": waves}
