"""DescribeLaunchTemplates pages as EC2 does (applied by ``install``).

moto answers the first ``MaxResults`` templates (15 by default) and no
``NextToken``: a paginator then sees only the first page, and a reader
listing an account's templates (plan readiness: does each server's DRS
launch template exist) would find most of them missing. EC2 answers a
``NextToken`` while templates remain; this does the same for a listing
without ``LaunchTemplateIds``/``LaunchTemplateNames``.
"""

from typing import Any, Optional

from moto.core.responses import ActionResult
from moto.ec2.responses.launch_templates import LaunchTemplates

_ORIGINAL = LaunchTemplates.describe_launch_templates
_ALL = 10**6


def _paged(self: Any) -> Any:
    if self._get_param("LaunchTemplateIds") or self._get_param(
        "LaunchTemplateNames"
    ):
        return _ORIGINAL(self)
    limit = self._get_int_param("MaxResults", 15)
    token: Optional[str] = self._get_param("NextToken")
    read_int = self._get_int_param

    def every(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "MaxResults":
            return _ALL
        return read_int(name, *args, **kwargs)

    # This request's instance only: moto slices to MaxResults.
    self._get_int_param = every
    try:
        answer = _ORIGINAL(self)
    finally:
        del self._get_int_param
    items = list(answer.result["LaunchTemplates"])
    start = int(token or 0)
    page = dict(answer.result, LaunchTemplates=items[start : start + limit])
    page.pop("NextToken", None)
    if start + limit < len(items):
        page["NextToken"] = str(start + limit)
    return ActionResult(page)


def install() -> None:
    """Page DescribeLaunchTemplates (idempotent)."""
    LaunchTemplates.describe_launch_templates = _paged


def uninstall() -> None:
    """Restore moto's single page."""
    LaunchTemplates.describe_launch_templates = _ORIGINAL
