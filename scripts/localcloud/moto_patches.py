"""Fixes to moto that the local cloud needs (applied by ``install``).

moto's ``start_execution`` deep-copies the state machine as the
execution's snapshot. A state machine links to its backend, which links
to every state machine and their executions, whose interpreter state
holds locks: once any execution has run, every later ``StartExecution``
fails with ``TypeError: cannot pickle '_thread.RLock' object`` (a 500).
The snapshot only needs the machine's own definition and settings, so
the copy shares the backend and starts with no executions.

Also, without a ``name`` moto names every execution ``None`` (the second
run of a machine is ``ExecutionAlreadyExists``); AWS generates a UUID.

``install`` also applies :mod:`localcloud.sts_trust` (AssumeRole checks
the role's trust policy) and :mod:`localcloud.ddb_serial` (DynamoDB
requests, transactions included, are atomic under concurrency) and
:mod:`localcloud.ec2_template_pages` (DescribeLaunchTemplates pages),
:mod:`localcloud.ec2_instance_lookup` (RunInstances not O(instances)) and
:mod:`localcloud.sfn_stop` (StopExecution ends a task-token wait).
"""

import copy
import uuid
from typing import Any, Dict

from moto.stepfunctions.models import StateMachineInstance
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from . import (
    ddb_serial,
    ec2_instance_lookup,
    ec2_template_pages,
    sfn_stop,
    sts_trust,
)

_ORIGINAL = getattr(StateMachineInstance, "__deepcopy__", None)
_ORIGINAL_START = StepFunctionsParserBackend.start_execution
_SHARED = ("backend",)
_EMPTIED = ("executions",)


def _deepcopy(self: Any, memo: Dict[int, Any]) -> Any:
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    for name, value in self.__dict__.items():
        if name in _SHARED:
            setattr(clone, name, value)
        elif name in _EMPTIED:
            setattr(clone, name, [])
        else:
            setattr(clone, name, copy.deepcopy(value, memo))
    return clone


def _start_execution(
    self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kw: Any
) -> Any:
    return _ORIGINAL_START(
        self, state_machine_arn, name or str(uuid.uuid4()), *args, **kw
    )


def install() -> None:
    """Apply the fixes (idempotent)."""
    StateMachineInstance.__deepcopy__ = _deepcopy
    StepFunctionsParserBackend.start_execution = _start_execution
    sts_trust.install()
    ddb_serial.install()
    ec2_template_pages.install()
    ec2_instance_lookup.install()
    sfn_stop.install()


def uninstall() -> None:
    """Restore moto's behaviour."""
    sfn_stop.uninstall()
    ec2_instance_lookup.uninstall()
    ec2_template_pages.uninstall()
    ddb_serial.uninstall()
    sts_trust.uninstall()
    StepFunctionsParserBackend.start_execution = _ORIGINAL_START
    if _ORIGINAL is None:
        if "__deepcopy__" in StateMachineInstance.__dict__:
            del StateMachineInstance.__deepcopy__
    else:  # pragma: no cover - moto defines none today
        StateMachineInstance.__deepcopy__ = _ORIGINAL
