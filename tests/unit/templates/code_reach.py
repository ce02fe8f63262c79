"""Static reachability over a Lambda zip's modules (template tests).

A function's zip bundles every module of ``lambda/shared``, so "the zip
contains a ``delete_item`` call" says little. This walks a coarse call
graph instead: from ``index.lambda_handler`` (and module-level code), every
top-level function or class whose name is referenced (called, passed,
stored) in reached code is reached too, and so are decorated functions of
reached modules (routers register operations by decorator). Methods are
reached with their class. Over-approximates a little, never misses a
direct name reference.
"""

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, Iterator, List, Optional, Set, Tuple

import package_lambda

MODULE = "<module>"
Node = Tuple[str, str]
# DynamoDB resource/client methods -> the IAM action each needs.
DYNAMODB_CALLS = {
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
    "query": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "batch_writer": "dynamodb:BatchWriteItem",
    "batch_write_item": "dynamodb:BatchWriteItem",
    "batch_get_item": "dynamodb:BatchGetItem",
}
# TransactWriteItems is authorized per item kind.
TRANSACT_KINDS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
TABLES_MODULE = "shared.tables"


@dataclass
class Module:
    """One module of a zip: its top-level definitions and imports."""

    name: str
    tree: ast.Module
    defs: Dict[str, ast.AST] = field(default_factory=dict)
    # local name -> (module, attribute or None for a module alias)
    imports: Dict[str, Tuple[str, Optional[str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Use:
    """A DynamoDB action used in reached code, with the tables named by
    the same function (empty when the table is passed in)."""

    node: Node
    action: str
    tables: frozenset


def _module_name(archive_name: str) -> str:
    name = archive_name[: -len(".py")].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _absolute(module: str, level: int, target: Optional[str]) -> str:
    if not level:
        return target or ""
    base = module.split(".")[:-level]
    return ".".join(base + ([target] if target else []))


def _load(folder: str) -> Dict[str, Module]:
    modules: Dict[str, Module] = {}
    for archive_name, path in package_lambda.zip_entries(folder):
        if not archive_name.endswith(".py"):
            continue
        name = _module_name(archive_name)
        modules[name] = Module(name, ast.parse(path.read_text()))
    for module in modules.values():
        for stmt in module.tree.body:
            if isinstance(
                stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            ):
                module.defs[stmt.name] = stmt
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    target = alias.name if alias.asname else local
                    module.imports[local] = (target, None)
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(module.name, node.level, node.module)
                for alias in node.names:
                    local = alias.asname or alias.name
                    module.imports[local] = (source, alias.name)
    return modules


class Bundle:
    """The modules of one function's zip and what its handler reaches."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.modules = _load(folder)
        self.reached = self._reach()

    def resolve(self, module: str, name: str, depth: int = 0) -> List[Node]:
        """Nodes a name used in ``module`` refers to (re-exports followed)."""
        mod = self.modules.get(module)
        if mod is None or depth > 10:
            return []
        if name in mod.defs:
            return [(module, name)]
        if name not in mod.imports:
            return []
        source, attribute = mod.imports[name]
        if attribute is None:
            return [(source, MODULE)] if source in self.modules else []
        submodule = f"{source}.{attribute}"
        if submodule in self.modules:
            return [(submodule, MODULE)]
        return self.resolve(source, attribute, depth + 1) + (
            [(source, MODULE)] if source in self.modules else []
        )

    def body(self, node: Node) -> List[ast.AST]:
        """The statements of a node (module-level code without defs)."""
        module = self.modules[node[0]]
        if node[1] != MODULE:
            return [module.defs[node[1]]]
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        top = [s for s in module.tree.body if not isinstance(s, kinds)]
        decorators = [
            d
            for s in module.tree.body
            if isinstance(s, kinds)
            for d in s.decorator_list
        ]
        return top + decorators

    def _references(self, node: Node) -> Iterator[Node]:
        module = node[0]
        if node[1] == MODULE:
            # Decorated functions of a loaded module are registered.
            for name, stmt in self.modules[module].defs.items():
                if getattr(stmt, "decorator_list", None):
                    yield (module, name)
        for stmt in self.body(node):
            for sub in ast.walk(stmt):
                yield from self._reference(module, sub)

    def _reference(self, module: str, sub: ast.AST) -> Iterator[Node]:
        if isinstance(sub, ast.Name):
            yield from self.resolve(module, sub.id)
        elif isinstance(sub, ast.Attribute) and isinstance(
            sub.value, ast.Name
        ):
            for target, name in self.resolve(module, sub.value.id):
                if name == MODULE:
                    yield from self.resolve(target, sub.attr)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            for local in (a.asname or a.name for a in sub.names):
                for target, _name in self.resolve(module, local):
                    yield (target, MODULE)

    def _reach(self) -> Set[Node]:
        todo = [("index", MODULE), ("index", "lambda_handler")]
        reached: Set[Node] = set()
        while todo:
            node = todo.pop()
            if node in reached or node[0] not in self.modules:
                continue
            reached.add(node)
            todo.extend(self._references(node))
        return reached

    def walk(self) -> Iterator[Tuple[Node, ast.AST]]:
        """Every AST node of reached code."""
        for node in sorted(self.reached):
            for stmt in self.body(node):
                for sub in ast.walk(stmt):
                    yield node, sub

    def _tables_named(self, node: Node) -> frozenset:
        names = set()
        for stmt in self.body(node):
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Name):
                    for target, name in self.resolve(node[0], sub.id):
                        if target == TABLES_MODULE and name.endswith("_table"):
                            names.add(name)
        return frozenset(names)

    def dynamodb_uses(self) -> Set[Use]:
        """DynamoDB actions the reached code calls."""
        uses: Set[Use] = set()
        transact_kinds = {
            key.value
            for _node, sub in self.walk()
            if isinstance(sub, ast.Dict)
            for key in sub.keys
            if isinstance(key, ast.Constant) and key.value in TRANSACT_KINDS
        }
        for node, sub in self.walk():
            if not (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Attribute)
            ):
                continue
            method = sub.func.attr
            if method in DYNAMODB_CALLS:
                actions = {DYNAMODB_CALLS[method]}
            elif method == "transact_write_items":
                actions = {TRANSACT_KINDS[k] for k in transact_kinds}
            else:
                continue
            tables = self._tables_named(node)
            uses |= {Use(node, a, tables) for a in actions}
        return uses

    def settings_read(self, names: Set[str]) -> Set[str]:
        """Which of ``names`` (settings attributes) reached code reads:
        ``settings.x``, ``require("x")``/``get_table("x")`` and the
        table accessors of ``shared.tables`` named ``x``."""
        found: Set[str] = set()
        for node, sub in self.walk():
            if node[0] in ("shared.config", TABLES_MODULE):
                continue
            if isinstance(sub, ast.Attribute) and sub.attr in names:
                found.add(sub.attr)
            elif isinstance(sub, ast.Name):
                for target, name in self.resolve(node[0], sub.id):
                    if target == TABLES_MODULE and name in names:
                        found.add(name)
            elif isinstance(sub, ast.Call) and sub.args:
                first = sub.args[0]
                called = getattr(sub.func, "attr", None) or getattr(
                    sub.func, "id", None
                )
                if (
                    called in ("require", "get_table")
                    and isinstance(first, ast.Constant)
                    and first.value in names
                ):
                    found.add(first.value)
        return found

    def environ_read(self) -> Set[str]:
        """Variables read directly: ``os.environ["X"]``,
        ``os.environ.get("X")``, ``os.getenv("X")``."""
        found: Set[str] = set()
        for _node, sub in self.walk():
            if isinstance(sub, ast.Subscript):
                source, key = ast.unparse(sub.value), sub.slice
            elif isinstance(sub, ast.Call) and sub.args:
                source, key = ast.unparse(sub.func), sub.args[0]
            else:
                continue
            if source in ("os.environ", "os.environ.get", "os.getenv") and (
                isinstance(key, ast.Constant)
            ):
                found.add(key.value)
        return found


@lru_cache(maxsize=None)
def bundle(folder: str) -> Bundle:
    """The (cached) bundle of a function folder."""
    return Bundle(folder)


def snake(action: str) -> str:
    """``drs:DescribeJobLogItems`` -> ``describe_job_log_items``."""
    name = action.split(":", 1)[1]
    return "".join(
        f"_{c.lower()}" if c.isupper() and i else c.lower()
        for i, c in enumerate(name)
    )


def api_calls(code: Bundle) -> Set[str]:
    """boto3 method names reached code may call: ``x.method(...)`` and
    operations named to a paginator (``get_paginator``/``all_items``)."""
    found: Set[str] = set()
    for _node, sub in code.walk():
        if not isinstance(sub, ast.Call):
            continue
        name = getattr(sub.func, "attr", None) or getattr(sub.func, "id", None)
        if isinstance(sub.func, ast.Attribute):
            found.add(sub.func.attr)
        constants = [
            a.value
            for a in sub.args
            if isinstance(a, ast.Constant) and isinstance(a.value, str)
        ]
        if name in ("get_paginator", "all_items"):
            found.update(constants[:1])
    return found
