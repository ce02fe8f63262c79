"""EC2 instances found by id without copying every reservation (applied
by ``install``).

moto's lookups by id (``get_instance``, ``get_instance_by_id``,
``get_multi_instances_by_id``) walk ``all_reservations()``, which
shallow-copies every reservation of the region first, so that filters
may trim the copies; a lookup by id filters nothing of the reservation.
``RunInstances`` looks its instance up once per instance (attaching the
root volume) and ``TerminateInstances`` once per call, so each launch
or termination costs O(instances ever launched) copies: 1.2 ms per
launch in an empty region, 16 ms once 4,000 are there (measured in
process), all of it under the DRS simulator's lock while it launches a
wave. EC2's own latency does not grow so. These walk the reservations
themselves and answer the same instances or the same
``InvalidInstanceID.NotFound``.
"""

from typing import Any, Dict, Iterator, List, Optional

from moto.ec2.exceptions import InvalidInstanceIdError
from moto.ec2.models.instances import InstanceBackend

_ORIGINALS = {
    name: getattr(InstanceBackend, name)
    for name in (
        "get_instance",
        "get_instance_by_id",
        "get_multi_instances_by_id",
    )
}


def _instances(backend: Any) -> Iterator[Any]:
    # A snapshot of the values: another thread may add a reservation.
    for reservation in list(backend.reservations.values()):
        yield from reservation.instances


def _get_instance_by_id(self: Any, instance_id: str) -> Optional[Any]:
    return next((i for i in _instances(self) if i.id == instance_id), None)


def _get_instance(self: Any, instance_id: str) -> Any:
    instance = _get_instance_by_id(self, instance_id)
    if instance is None:
        raise InvalidInstanceIdError(instance_id)
    return instance


def _get_multi_instances_by_id(
    self: Any, instance_ids: List[str], filters: Any = None
) -> List[Any]:
    by_id: Dict[str, Any] = {i.id: i for i in _instances(self)}
    missing = [i for i in instance_ids if i not in by_id]
    if missing:
        raise InvalidInstanceIdError(missing)
    found = (by_id[i] for i in instance_ids)
    return [i for i in found if i.applies(filters)]


def install() -> None:
    """Look instances up without the copies (idempotent)."""
    InstanceBackend.get_instance = _get_instance
    InstanceBackend.get_instance_by_id = _get_instance_by_id
    InstanceBackend.get_multi_instances_by_id = _get_multi_instances_by_id


def uninstall() -> None:
    """moto's own lookups again."""
    for name, original in _ORIGINALS.items():
        setattr(InstanceBackend, name, original)
