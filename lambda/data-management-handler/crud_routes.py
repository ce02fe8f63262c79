"""One wiring of the five CRUD operations of a resource.

Groups, plans and target accounts answer ``list_<noun>s``,
``create_<noun>`` (201), ``get_<noun>``, ``update_<noun>`` and
``delete_<noun>`` the same way; each module supplies its functions.
"""

from typing import Any, Callable, Dict, List, Optional

from data_routes import router
from shared.api import Caller, Request

Body = Dict[str, Any]
ListShape = Callable[[List[Body], Caller], Any]


def register_crud(
    noun: str,
    plural: str,
    list_all: Callable[[], List[Body]],
    create: Callable[[Body, str], Body],
    get: Callable[[str], Body],
    update: Callable[[str, Body, str], Body],
    delete: Callable[[str], Body],
    list_shape: Optional[ListShape] = None,
    account_scoped: bool = False,
) -> None:
    """Register list/create/get/update/delete of ``noun`` on the router.

    ``create``/``update`` receive the caller's name (``createdBy`` /
    ``updatedBy``); the list answers ``{plural: [...], "count": n}``
    unless ``list_shape`` (``shared.console_shapes``) shapes it. An
    ``account_scoped`` list takes the ``accountId`` query parameter (the
    console's account selector): ``list_all(account_id)``.
    """

    def list_operation(request: Request) -> Any:
        if account_scoped:
            account = request.query.get("accountId") or None
            items = list_all(account)  # type: ignore[call-arg]
        else:
            items = list_all()
        if list_shape is not None:
            return list_shape(items, request.caller)
        return {plural: items, "count": len(items)}

    def create_operation(request: Request) -> Body:
        return create(request.body, request.caller.name)

    def get_operation(request: Request) -> Body:
        return get(request.path_param("id"))

    def update_operation(request: Request) -> Body:
        return update(
            request.path_param("id"), request.body, request.caller.name
        )

    def delete_operation(request: Request) -> Body:
        return delete(request.path_param("id"))

    router.operation(f"list_{noun}s")(list_operation)
    router.operation(f"create_{noun}", status=201)(create_operation)
    router.operation(f"get_{noun}")(get_operation)
    router.operation(f"update_{noun}")(update_operation)
    router.operation(f"delete_{noun}")(delete_operation)


def sorted_by(items: List[Body], field: str) -> List[Body]:
    """Items ordered by a text field, case-insensitively."""
    return sorted(items, key=lambda item: str(item.get(field, "")).lower())
