"""One registry of operations serving all three invocation shapes.

A handler module registers each operation once::

    router = Router("data-management-handler")

    @router.operation("create_protection_group")
    def create_protection_group(request: Request) -> dict: ...

The operation's method, path and permission come from ``rbac.ENDPOINTS``
(so an endpoint without a permission cannot be registered). ``index.py``
calls :meth:`Router.handle`, which serves

* API Gateway proxy events through powertools' ``APIGatewayRestResolver``
  (RBAC from the Cognito groups claim, deny by default),
* direct ``{"operation", "body", "queryParams", "caller"}`` invocations
  (trusted to IAM; client errors, a malformed event included, answer an
  error body; unexpected errors raise),
* orchestration ``{"action": ...}`` events (errors raise so Step Functions
  ``Retry``/``Catch`` see them).

This is the one place domain exceptions become responses.
"""

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
)

from shared import rbac
from shared.engine_state import EngineState
from shared.errors import DomainError, ForbiddenError, ValidationError
from shared.logging_setup import get_logger
from shared.responses import (
    CORS_HEADERS,
    direct_error,
    dumps,
    to_jsonable,
)
from shared.validation import check_depth, parse_json_body
from shared.validation import validate_identity

OperationResult = Union[Dict[str, Any], List[Any], Tuple[int, Any]]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the Cognito user, or a direct (IAM) invoker.

    ``name`` is the identity the audit trail records: the authorizer's
    claims for an API call (never the body), the direct event's
    ``caller`` otherwise. ``requested_by`` is what a direct invoker says
    it acts for (``requestedBy``), recorded beside ``name``, never instead.
    """

    name: str
    groups: Tuple[str, ...] = ()
    email: Optional[str] = None
    via: str = "direct"
    requested_by: Optional[str] = None

    @property
    def permissions(self) -> set:
        return rbac.permissions_for(self.groups)


@dataclass(frozen=True)
class Request:
    """What an operation receives, whatever the invocation shape."""

    body: Dict[str, Any] = field(default_factory=dict)
    path: Dict[str, str] = field(default_factory=dict)
    query: Dict[str, str] = field(default_factory=dict)
    caller: Caller = field(default_factory=lambda: Caller("direct"))

    def path_param(self, name: str) -> str:
        """A path parameter; a 400 naming it when absent."""
        value = self.path.get(name)
        if value in (None, ""):
            raise ValidationError(f"{name} is required", field=name)
        return value


Operation = Callable[[Request], OperationResult]
Action = Callable[[Dict[str, Any]], Any]


def _split_result(result: OperationResult, default_status: int):
    if isinstance(result, tuple):
        return result[0], result[1]
    return default_status, result


def _single_value_headers(response: Dict[str, Any]) -> Dict[str, Any]:
    """CONTRACTS §2 promises ``headers``; powertools answers
    ``multiValueHeaders``. Give both, single values joined."""
    multi = response.get("multiValueHeaders") or {}
    headers = dict(response.get("headers") or {})
    for name, values in multi.items():
        headers.setdefault(name, ",".join(values))
    response["headers"] = headers
    response["multiValueHeaders"] = {k: list(v) for k, v in multi.items()}
    return response


def caller_from_api_event(event: Dict[str, Any]) -> Caller:
    """The Cognito identity an API Gateway authorizer attached."""
    context = event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    groups = tuple(rbac.parse_groups(claims.get("cognito:groups")))
    name = (
        claims.get("email")
        or claims.get("cognito:username")
        or claims.get("sub")
        or ""
    )
    return Caller(
        name=name, groups=groups, email=claims.get("email"), via="api"
    )


DIRECT_CALLER = "direct-invocation"


def _context_identity(context: Any) -> Optional[str]:
    """The invoker identity the Lambda context carries, if any.

    Lambda passes no IAM principal with an invoke; only an invocation
    through the mobile SDK carries a Cognito identity."""
    identity = getattr(context, "identity", None)
    cognito_id = getattr(identity, "cognito_identity_id", None)
    if isinstance(cognito_id, str) and cognito_id:
        return validate_identity(f"cognito-identity:{cognito_id}", "caller")
    return None


def caller_from_direct_event(
    event: Dict[str, Any], body: Dict[str, Any], context: Any = None
) -> Caller:
    """The IAM invoker of a direct invocation.

    Its identity is the event's ``caller`` (trusted as IAM is), else the
    context's, else ``direct-invocation``. A body ``requestedBy`` (or,
    from older scripts, ``initiatedBy``) is bounded, validated and kept
    as ``requested_by``: it never replaces the identity."""
    if event.get("caller") is not None:
        name = validate_identity(event["caller"], "caller")
    else:
        name = _context_identity(context) or DIRECT_CALLER
    requested = None
    for key in ("requestedBy", "initiatedBy"):
        if body.get(key) is not None:
            requested = validate_identity(body[key], key)
            break
    return Caller(name=name, via="direct", requested_by=requested)


def _direct_mapping(event: Dict[str, Any], key: str) -> Dict[str, Any]:
    """``queryParams`` / ``pathParameters`` of a direct event: an object."""
    value = event.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"{key} must be a JSON object", field=key)
    return dict(check_depth(value, key))


class Router:
    """Operations and actions of one Lambda function."""

    def __init__(self, handler: str) -> None:
        self.handler = handler
        self.logger = get_logger(handler)
        self.operations: Dict[str, Tuple[rbac.Endpoint, Operation, int]] = {}
        self.actions: Dict[str, Action] = {}
        self._resolver: Optional[APIGatewayRestResolver] = None

    # registration -----------------------------------------------------
    def operation(self, name: str, status: int = 200):
        """Register the implementation of an endpoint of ``rbac.ENDPOINTS``."""
        endpoint = rbac.ENDPOINTS_BY_OPERATION.get(name)
        if endpoint is None or endpoint.handler != self.handler:
            raise ValueError(f"{name} is not an endpoint of {self.handler}")

        def register(fn: Operation) -> Operation:
            self.operations[name] = (endpoint, fn, status)
            self._resolver = None
            return fn

        return register

    def action(self, name: str):
        """Register an orchestration action (errors propagate)."""

        def register(fn: Action) -> Action:
            self.actions[name] = fn
            return fn

        return register

    # dispatch ---------------------------------------------------------
    def handle(self, event: Dict[str, Any], context: Any = None) -> Any:
        """Route any supported event shape."""
        if not isinstance(event, dict):
            return direct_error(
                "VALIDATION_ERROR", "event must be a JSON object", 400
            )
        if "httpMethod" in event:
            self._correlate(
                (event.get("requestContext") or {}).get("requestId")
            )
            return _single_value_headers(self.resolver.resolve(event, context))
        if "action" in event:
            return self._handle_action(event)
        if "operation" in event:
            body = event.get("body")
            self._correlate(
                body.get("executionId") if isinstance(body, dict) else None
            )
            return self._handle_direct(event, context)
        return direct_error(
            "VALIDATION_ERROR",
            "event must carry 'operation', 'action' or 'httpMethod'",
            400,
        )

    def _correlate(self, correlation_id: Optional[str]) -> None:
        # Always set, None included: a warm container must not tag this
        # request's lines with the previous request's id.
        self.logger.set_correlation_id(
            str(correlation_id) if correlation_id else None
        )

    def _handle_action(self, event: Dict[str, Any]) -> Any:
        name = event["action"]
        fn = self.actions.get(name)
        if fn is None:
            raise ValueError(
                f"unknown action {name!r} for {self.handler}; known: "
                + ", ".join(sorted(self.actions))
            )
        state = EngineState.from_json(
            event.get("state") or event.get("application") or {}
        )
        self._correlate(state.execution_id or event.get("executionId"))
        self.logger.info("action", extra={"action": name})
        return to_jsonable(fn(event))

    def _handle_direct(self, event: Dict[str, Any], context: Any) -> Any:
        name = event["operation"]
        registered = (
            self.operations.get(name) if isinstance(name, str) else None
        )
        if registered is None:
            shown = repr(name) if isinstance(name, str) else "(not a name)"
            return direct_error(
                "VALIDATION_ERROR",
                f"unknown operation {shown[:200]}; known: "
                + ", ".join(sorted(self.operations)),
                400,
                field="operation",
            )
        endpoint, fn, status = registered
        try:
            body = parse_json_body(event.get("body"))
            query = _direct_mapping(event, "queryParams")
            path = self._direct_path(endpoint, event, body, query)
            caller = caller_from_direct_event(event, body, context)
            self.logger.info("direct operation", extra={"operation": name})
            result = fn(Request(body, path, query, caller))
        except DomainError as error:
            self.logger.info(
                "client error",
                extra={"operation": name, "error": error.code},
            )
            return direct_error(
                error.code, error.message, error.status, **error.details
            )
        return to_jsonable(_split_result(result, status)[1])

    @staticmethod
    def _direct_path(endpoint, event, body, query) -> Dict[str, str]:
        given = _direct_mapping(event, "pathParameters")
        path: Dict[str, str] = {}
        for name in ("id", "serverId"):
            if "{" + name + "}" not in endpoint.path:
                continue
            alias = rbac.id_alias(endpoint.path) if name == "id" else name
            for source in (given, query, body):
                value = source.get(name) or source.get(alias)
                if isinstance(value, (dict, list)):
                    raise ValidationError(
                        f"{alias} must be a string", field=alias
                    )
                if value:
                    path[name] = str(value)
                    break
        return path

    # API Gateway -------------------------------------------------------
    @property
    def resolver(self) -> APIGatewayRestResolver:
        if self._resolver is None:
            self._resolver = self._build_resolver()
        return self._resolver

    def _build_resolver(self) -> APIGatewayRestResolver:
        resolver = APIGatewayRestResolver(
            cors=CORSConfig(
                allow_origin="*",
                allow_headers=CORS_HEADERS[
                    "Access-Control-Allow-Headers"
                ].split(","),
            )
        )
        for name, (endpoint, fn, status) in self.operations.items():
            rule = endpoint.path.replace("{", "<").replace("}", ">")
            resolver.route(rule, endpoint.method)(
                self._api_route(resolver, endpoint, fn, status)
            )

        @resolver.exception_handler(DomainError)
        def domain_error(error: DomainError) -> Response:
            return self._json(error.status, error.to_body())

        @resolver.exception_handler(Exception)
        def unexpected(error: Exception) -> Response:
            self.logger.exception("unexpected error")
            return self._json(
                500,
                {"error": "INTERNAL_ERROR", "message": "internal error"},
            )

        @resolver.not_found
        def not_found(_error: Exception) -> Response:
            return self._json(
                404, {"error": "NOT_FOUND", "message": "no such endpoint"}
            )

        return resolver

    def _api_route(self, resolver, endpoint, fn, status):
        def route(**path: str) -> Response:
            event = resolver.current_event
            caller = caller_from_api_event(event.raw_event)
            if not rbac.is_allowed(caller.groups, endpoint.permission):
                raise ForbiddenError(
                    f"permission {endpoint.permission} is required",
                    permission=endpoint.permission,
                )
            request = Request(
                body=parse_json_body(event.body),
                path=dict(path),
                query=dict(event.query_string_parameters or {}),
                caller=caller,
            )
            code, body = _split_result(fn(request), status)
            return self._json(code, body)

        return route

    @staticmethod
    def _json(status: int, body: Any) -> Response:
        return Response(
            status_code=status,
            content_type="application/json",
            body=dumps(body),
            headers={
                k: v for k, v in CORS_HEADERS.items() if k != "Content-Type"
            },
        )
