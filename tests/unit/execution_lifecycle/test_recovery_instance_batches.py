"""A wave of any size: its recovery instances are asked for in batches
of DRS's 200-id filter limit (terminate-instances, /recovery-instances,
the drill cleanup)."""

from execution_drs import describe_recovery_instances


class _Paginator:
    def __init__(self, calls):
        self.calls = calls

    def paginate(self, filters):
        ids = filters["sourceServerIDs"]
        self.calls.append(list(ids))
        yield {"items": [{"sourceServerID": sid} for sid in ids]}


class _Drs:
    def __init__(self):
        self.calls = []

    def get_paginator(self, operation):
        assert operation == "describe_recovery_instances"
        return _Paginator(self.calls)


def test_450_servers_are_asked_for_in_three_batches():
    drs = _Drs()
    ids = [f"s-{i:017d}" for i in range(450)]
    found = describe_recovery_instances(drs, ids + ids[:10])
    assert [len(c) for c in drs.calls] == [200, 200, 50]
    assert sorted(i["sourceServerID"] for i in found) == sorted(ids)


def test_no_servers_no_call():
    drs = _Drs()
    assert describe_recovery_instances(drs, []) == []
    assert drs.calls == []
