"""Building DynamoDB update expressions that set named attributes, and
telling a refused condition from other errors (one place for both)."""

from typing import Any, Dict, List, Mapping

from botocore.exceptions import ClientError

from shared import clock


class SetExpression:
    """``SET updatedTime = :now, <prefix>#<tag>N = :<tag>N, ...``: each
    attribute under its own placeholder, so any name is safe."""

    def __init__(self, names: Mapping[str, str] = ()) -> None:
        self.names: Dict[str, str] = dict(names)
        self.values: Dict[str, Any] = {":now": clock.epoch()}
        self.sets: List[str] = ["updatedTime = :now"]

    def add(
        self, prefix: str, tag: str, attributes: Mapping[str, Any]
    ) -> "SetExpression":
        """Set each of ``attributes`` at ``prefix`` (e.g. ``#waves[2].``)."""
        for position, (key, value) in enumerate(attributes.items()):
            self.names[f"#{tag}{position}"] = key
            self.values[f":{tag}{position}"] = value
            self.sets.append(f"{prefix}#{tag}{position} = :{tag}{position}")
        return self

    @property
    def expression(self) -> str:
        """The ``UpdateExpression``."""
        return "SET " + ", ".join(self.sets)


def condition_failed(error: ClientError) -> bool:
    """True when DynamoDB refused the write's condition."""
    code = error.response.get("Error", {}).get("Code")
    return code == "ConditionalCheckFailedException"
