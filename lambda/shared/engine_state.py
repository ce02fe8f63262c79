"""The orchestration state (CONTRACTS §3, docs/DEVELOPING.md) as a typed
object.

Step Functions and the Lambda invocations carry the state as a JSON dict
with snake_case keys; inside the code it is an ``EngineState``: each key
is named once, here, as a typed field. ``EngineState.from_json`` and
``to_json`` convert where the state crosses a function boundary and
round-trip exactly: a key absent from the JSON stays absent, a key the
object does not know rides along unchanged in ``extra``, and the keys
keep their order. Values are carried as they are (no copy, no coercion),
so a wave dict or a list changed through the object is the one the JSON
holds, as with the dict the code used before.
"""

from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional

# A field whose JSON key is not its name (the state machine's first
# input spells the account context in camelCase).
_JSON_KEY = "json_key"


@dataclass(eq=False)
class EngineState:
    """One execution's orchestration state.

    A field set (even to None) is written by ``to_json``; a field never
    set since ``from_json`` stays absent, as it was.
    """

    plan_id: Optional[str] = None
    """The recovery plan's id."""
    plan_name: Optional[str] = None
    """The recovery plan's name."""
    execution_id: Optional[str] = None
    """The execution's id (the execution record's key)."""
    execution_arn: Optional[str] = None
    """The Step Functions execution ARN."""
    is_drill: Optional[bool] = None
    """DRILL (True) or RECOVERY (False)."""
    input_account_context: Optional[Dict[str, Any]] = field(
        default=None, metadata={_JSON_KEY: "accountContext"}
    )
    """The account context as the first input spells it
    (``accountContext``); it wins over ``account_context``."""
    account_context: Optional[Dict[str, Any]] = None
    """The account context as a resumed state may spell it."""
    waves: Optional[List[Dict[str, Any]]] = None
    """The plan's waves (waveNumber, waveName, protectionGroupId(s),
    pauseBeforeWave, dependsOnWaves), sorted by waveNumber."""
    total_waves: Optional[int] = None
    """len(waves)."""
    current_wave_number: Optional[int] = None
    """The lowest running wave's index."""
    completed_waves: Optional[int] = None
    """How many waves completed."""
    failed_waves: Optional[int] = None
    """How many waves failed."""
    wave_completed: Optional[bool] = None
    """The seeds' flag: a wave ended."""
    all_waves_completed: Optional[bool] = None
    """The execution ended (every wave done, or cancelled)."""
    status: Optional[str] = None
    """running | paused | completed | failed | cancelled | timeout."""
    status_reason: Optional[str] = None
    """Our words on the status."""
    paused_before_wave: Optional[int] = None
    """The first wave waiting for approval."""
    waiting_waves: Optional[List[int]] = None
    """Every wave waiting for approval (None when none)."""
    approved_waves: Optional[List[int]] = None
    """Waves a resume approved."""
    wave_failures: Optional[List[Dict[str, Any]]] = None
    """``{waveIndex, code, message, kind}`` per failed wave."""
    job_id: Optional[str] = None
    """The seeds' field: the first DRS job of the current wave."""
    job_account_context: Optional[Dict[str, Any]] = None
    """The account context of the current wave's jobs."""
    region: Optional[str] = None
    """The current wave's region."""
    server_ids: Optional[List[str]] = None
    """Always ``[]``: per-server detail lives in DynamoDB."""
    wave_results: Optional[List[Dict[str, Any]]] = None
    """One entry per wave that began (docs/DEVELOPING.md)."""
    current_wave_update_time: Optional[int] = None
    """The poll interval, seconds."""
    current_wave_total_wait_time: Optional[int] = None
    """The current wave's waitedSeconds."""
    current_wave_max_wait_time: Optional[int] = None
    """A wave's time limit, seconds."""
    start_time: Optional[str] = None
    """ISO-8601 UTC start."""
    end_time: Optional[str] = None
    """ISO-8601 UTC end."""
    duration_seconds: Optional[int] = None
    """end_time - start_time, seconds."""
    error: Optional[str] = None
    """The error message of a failed execution."""
    error_code: Optional[str] = None
    """The error code of a failed execution."""
    extra: Dict[str, Any] = field(default_factory=dict)
    """Keys this object does not know, carried unchanged."""

    def __post_init__(self) -> None:
        # Built directly (not from JSON): a field given a value is present.
        present: Dict[str, None] = {}
        for name, key in _KEY_OF.items():
            if getattr(self, name) is not None:
                present[key] = None
        object.__setattr__(self, "_present", present)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        present = self.__dict__.get("_present")
        if present is not None and name in _KEY_OF:
            present.setdefault(_KEY_OF[name], None)

    def has(self, name: str) -> bool:
        """True when field ``name`` is present (in the JSON, or set)."""
        return _KEY_OF[name] in self._present  # type: ignore[attr-defined]

    @property
    def given_account_context(self) -> Optional[Dict[str, Any]]:
        """The account context as given: ``accountContext`` (the first
        input's spelling) wins over ``account_context`` (a resume's)."""
        if self.input_account_context is not None:
            return self.input_account_context
        return self.account_context

    def take(self, other: "EngineState") -> "EngineState":
        """Become ``other`` in place: a callee answered the new state of
        this execution and the code holds this object."""
        self.__dict__.clear()
        self.__dict__.update(other.__dict__)
        object.__setattr__(self, "extra", dict(other.extra))
        object.__setattr__(self, "_present", dict(other._present))
        return self

    def set(self, **values: Any) -> "EngineState":
        """Set several fields at once (a typo is an AttributeError, not a
        new key); returns the object."""
        for name, value in values.items():
            if name not in _KEY_OF:
                raise AttributeError(f"EngineState has no field {name!r}")
            setattr(self, name, value)
        return self

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "EngineState":
        """The object of a JSON state (the values are not copied)."""
        state = cls()
        present: Dict[str, None] = {}
        object.__setattr__(state, "_present", present)
        for key, value in data.items():
            name = _NAME_OF.get(key)
            if name is None:
                state.extra[key] = value
            else:
                object.__setattr__(state, name, value)
            present[key] = None
        return state

    def to_json(self) -> Dict[str, Any]:
        """The JSON state: present fields and ``extra`` in key order."""
        out: Dict[str, Any] = {}
        for key in self._present:  # type: ignore[attr-defined]
            name = _NAME_OF.get(key)
            if name is not None:
                out[key] = getattr(self, name)
            elif key in self.extra:
                out[key] = self.extra[key]
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out

    def write_to(self, data: Dict[str, Any]) -> Dict[str, Any]:
        """Make the JSON dict ``data`` this state, in place (for callers
        that hold the dict passed in); returns ``data``."""
        new = self.to_json()
        data.clear()
        data.update(new)
        return data


# The field name of each JSON key and back ("one place per rule").
_KEY_OF: Dict[str, str] = {
    f.name: f.metadata.get(_JSON_KEY, f.name)
    for f in fields(EngineState)
    if f.name != "extra"
}
_NAME_OF: Dict[str, str] = {key: name for name, key in _KEY_OF.items()}
JSON_KEYS = tuple(_NAME_OF)
