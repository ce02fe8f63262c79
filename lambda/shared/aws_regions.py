"""Which AWS regions exist and where a service has an endpoint.

The list is botocore's endpoint data (every partition: aws, aws-cn,
aws-us-gov, the ISO partitions), i.e. the regions the SDK in the
function knows. A region newer than that SDK is refused until the SDK
is updated; a well-formed but unknown name would otherwise reach the
endpoint resolver and fail as a connection error (a 500).
"""

from functools import lru_cache
from typing import FrozenSet, Optional

import botocore.session


@lru_cache(maxsize=1)
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@lru_cache(maxsize=1)
def known_regions() -> FrozenSet[str]:
    """Every region of every partition botocore knows."""
    data = _session().get_component("data_loader").load_data("endpoints")
    return frozenset(
        region
        for partition in data.get("partitions", [])
        for region in partition.get("regions", {})
    )


def is_known_region(name: str) -> bool:
    """True for a region AWS has (per the SDK's endpoint data)."""
    return name in known_regions()


@lru_cache(maxsize=64)
def service_regions(service: str) -> Optional[FrozenSet[str]]:
    """The regions where ``service`` (botocore name, e.g. ``drs``) has an
    endpoint; None when botocore does not know the service."""
    session = _session()
    if service not in session.get_available_services():
        return None
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions(service, partition)
    )


def service_unavailable_in(service: str, region: Optional[str]) -> bool:
    """True when ``region`` is a known region where ``service`` has no
    endpoint (AWS answers no such host: a connection error)."""
    if not region or not is_known_region(region):
        return False
    regions = service_regions(service.lower())
    # None: unknown service; empty: a global one (IAM) with no regions.
    return bool(regions) and region not in regions
