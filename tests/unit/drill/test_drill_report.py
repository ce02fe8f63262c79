"""Report, phases, progress and timeline of a drill (no cloud needed)."""

import io
import json

import pytest

from localcloud.drill.phases import (
    job_ends,
    failure_reasons,
    with_reasons,
    current_phases,
    with_phases,
    PhaseRecorder,
    phase_label,
    refine_with_job_logs,
)
from localcloud.drill.follow import next_wave
from localcloud.drill.plan_setup import (
    PlanError,
    check_plan,
    load_plan,
    plans_of,
)
from localcloud.drill.progress import ProgressView, bar, overall_fraction
from localcloud.drill.report import build_report, summary_text
from localcloud.drill.runner import instances_left
from localcloud.drill.timeline import render_timeline


def _details(status, waves):
    return {
        "executionId": "ex-1",
        "planName": "plan",
        "executionType": "DRILL",
        "status": status,
        "waves": waves,
    }


def _wave(number, status, servers):
    return {
        "waveNumber": number,
        "waveName": f"Wave {number}",
        "status": status,
        "servers": servers,
    }


def _server(sid, status, phase=None, **extra):
    return {"sourceServerId": sid, "status": status, "phase": phase, **extra}


def _recorded_drill(fail_second=False):
    """Given a two-wave drill sampled at wall seconds 0..4, speed 60."""
    recorder = PhaseRecorder(speed=60)
    last = "FAILED" if fail_second else "LAUNCHED"
    samples = [
        [_wave(1, "STARTED", [_server("s-1", "PENDING")])],
        [_wave(1, "STARTED", [_server("s-1", "IN_PROGRESS", "SNAPSHOT")])],
        [_wave(1, "STARTED", [_server("s-1", "IN_PROGRESS", "LAUNCH")])],
        [
            _wave(1, "COMPLETED", [_server("s-1", "LAUNCHED", None)]),
            _wave(2, "STARTED", [_server("s-2", "IN_PROGRESS", "LAUNCH")]),
        ],
        [
            _wave(
                1,
                "COMPLETED",
                [
                    _server(
                        "s-1",
                        "LAUNCHED",
                        recoveryInstanceId="i-1",
                        privateIp="10.0.0.5",
                    )
                ],
            ),
            _wave(
                2,
                "FAILED" if fail_second else "COMPLETED",
                [_server("s-2", last, error="Launch failed (injected)")],
            ),
        ],
    ]
    for second, waves in enumerate(samples):
        recorder.observe(_details("RUNNING", waves), second)
    recorder.close(4)
    status = "FAILED" if fail_second else "COMPLETED"
    return recorder, _details(status, samples[-1])


def test_phases_are_recorded_as_segments_in_simulated_seconds():
    # Given a recorded drill at speed 60
    recorder, _ = _recorded_drill()
    # Then s-1 went pending -> snapshot -> launch and launched at 3 min
    assert recorder.segments["s-1"] == [
        ["pending", 0, 60],
        ["snapshot", 60, 120],
        ["launch", 120, 180],
    ]
    assert recorder.launch_offset("s-1") == 180
    assert recorder.wave_seen[1] == [0, 180]
    assert phase_label({"status": "LAUNCHED", "phase": "LAUNCH"}) is None


def test_pauses_are_recorded_and_pending_waves_ignored():
    # Given samples: a pause between two running samples, a pending wave
    recorder = PhaseRecorder(speed=10)
    pending = [_wave(2, "PENDING", [_server("s-9", None)])]
    for second, status in enumerate(
        ["RUNNING", "PAUSED", "PAUSED", "RUNNING"]
    ):
        recorder.observe(_details(status, pending), second)
    # Then one pause from 10 to 30 simulated seconds, nothing for s-9
    assert recorder.pauses == [[10, 30]]
    assert "s-9" not in recorder.segments


def test_job_logs_replace_sampled_phase_boundaries():
    # Given sampled phases and a job log with exact times (sim zero 1000)
    recorder, _ = _recorded_drill()
    logs = {
        "jobLogs": [
            {
                "items": [
                    {
                        "event": name,
                        "logDateTime": f"1970-01-01T00:{m}+00:00",
                        "eventData": {"sourceServerID": "s-1"},
                    }
                    for name, m in (
                        ("SNAPSHOT_START", "17:00"),
                        ("CONVERSION_START", "17:30"),
                        ("LAUNCH_START", "18:00"),
                    )
                ]
            }
        ]
    }
    # When refined
    refined = refine_with_job_logs(recorder, logs, sim_zero=1000)
    # Then the exact boundaries are used, end stays the observed launch
    assert refined == 1
    assert recorder.segments["s-1"] == [
        ["pending", 0, 20],
        ["snapshot", 20, 50],
        ["conversion", 50, 80],
        ["launch", 80, 180],
    ]


def test_report_measures_rto_and_names_no_failure_when_completed():
    # Given a completed drill
    recorder, details = _recorded_drill()
    # When reported
    report = build_report(
        details, recorder, speed=60, wall_seconds=4.2, hostnames={"s-1": "db"}
    )
    # Then the RTO is the last launch, the table shows servers and IPs
    assert report["rto"]["simulatedSeconds"] == 240
    assert report["rto"]["wallSeconds"] == 4
    assert report["failures"] == []
    assert report["waves"][0]["duration"] == 180
    text = summary_text(report)
    assert "i-1" in text and "10.0.0.5" in text and "db" in text
    assert "0:04:00 simulated" in text
    json.dumps(report)


def test_report_names_the_failed_wave_and_server():
    # Given a drill whose second server failed
    recorder, details = _recorded_drill(fail_second=True)
    # When reported
    report = build_report(details, recorder, speed=60, wall_seconds=4)
    # Then the failure names wave 2 and s-2 with the reason
    assert report["failures"] == [
        {
            "waveNumber": 2,
            "waveName": "Wave 2",
            "sourceServerId": "s-2",
            "hostname": "s-2",
            "reason": "Launch failed (injected)",
        }
    ]
    assert "FAILED: wave 2 (Wave 2): server s-2" in summary_text(report)


def test_timeline_png_is_written(tmp_path):
    # Given a report with phases
    recorder, details = _recorded_drill(fail_second=True)
    report = build_report(details, recorder, speed=60, wall_seconds=4)
    # When drawn
    path = render_timeline(report, tmp_path / "t" / "timeline.png")
    # Then a PNG exists
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_plain_lines_show_only_changes():
    # Given a non-TTY view
    out = io.StringIO()
    view = ProgressView(out, tty=False, hostnames={"s-1": "db-01"}, speed=60)
    details = _details(
        "RUNNING", [_wave(1, "STARTED", [_server("s-1", "IN_PROGRESS", "X")])]
    )
    # When the same state is shown twice
    view.update(details, 1)
    view.update(details, 2)
    # Then each change is printed once, with the simulated time
    lines = out.getvalue().splitlines()
    assert "[sim 0:01:00] wave 1 db-01: IN_PROGRESS X" in lines
    assert f"[sim 0:01:00] {bar(0.5)}" in lines
    assert len(lines) == 4
    assert "\x1b" not in out.getvalue()


def test_progress_tty_redraws_a_block_with_a_bar():
    # Given a TTY view and half the servers launched
    out = io.StringIO()
    view = ProgressView(out, tty=True)
    details = _details(
        "RUNNING",
        [
            _wave(
                1,
                "STARTED",
                [_server("a", "LAUNCHED"), _server("b", "PENDING")],
            ),
            _wave(2, "PENDING", []),
        ],
    )
    # When drawn twice
    view.update(details, 1)
    view.update(details, 2)
    # Then the second draw moves the cursor up over the first block
    assert overall_fraction(details) == 0.25
    assert bar(0.25) in out.getvalue()
    assert f"\x1b[{len(view.block(details, 2))}F" in out.getvalue()


def test_shipped_plan_is_valid_and_bad_plans_name_the_key():
    # Given the shipped definition
    definition = load_plan()
    erp, portal = plans_of(definition)
    # Then the ERP plan has three waves and a pause before wave 3
    assert [bool(w.get("pauseBeforeWave")) for w in erp["waves"]] == [
        False,
        False,
        True,
    ]
    # And the portal plan's group is in the spoke account, by tags
    groups = {g["key"]: g for g in definition["protectionGroups"]}
    portal_group = groups[portal["waves"][0]["protectionGroup"]]
    assert portal_group["accountId"] == "210987654321"
    assert "serverSelectionTags" in portal_group
    # When a wave names an unknown group, the error names the key
    erp["waves"][0]["protectionGroup"] = "nope"
    with pytest.raises(
        PlanError, match=r"plans\[0\]\.waves\[0\]\.protectionGroup"
    ):
        check_plan(definition)


def test_single_plan_form_is_accepted():
    # Given a definition with waves at the top level
    definition = {
        "planName": "p",
        "protectionGroups": [
            {
                "key": "g",
                "groupName": "g",
                "region": "us-east-1",
                "sourceServerIds": ["s-1"],
            }
        ],
        "waves": [{"protectionGroup": "g"}],
    }
    # Then it is valid and is one plan
    check_plan(definition)
    assert plans_of(definition) == [
        {"planName": "p", "waves": [{"protectionGroup": "g"}]}
    ]
    # When it also has plans, the error says so
    with pytest.raises(PlanError, match="exactly one of plans, waves"):
        check_plan({**definition, "plans": []})


def test_live_phase_comes_from_the_latest_job_log_event():
    # Given job logs where s-1 is converting and s-2 launching
    def item(event, minute, sid):
        return {
            "event": event,
            "logDateTime": f"2026-01-01T00:{minute:02d}:00+00:00",
            "eventData": {"sourceServerID": sid},
        }

    logs = {
        "jobLogs": [
            {
                "items": [
                    item("SNAPSHOT_START", 1, "s-1"),
                    item("CONVERSION_START", 3, "s-1"),
                    item("LAUNCH_START", 9, "s-2"),
                    item("JOB_START", 0, "s-1"),
                ]
            }
        ]
    }
    details = _details(
        "RUNNING",
        [
            _wave(
                1,
                "STARTED",
                [_server("s-1", "IN_PROGRESS"), _server("s-2", "LAUNCHED")],
            )
        ],
    )
    # When the record's servers are completed with those phases
    with_phases(details, current_phases(logs))
    # Then only the in-progress server gets one
    servers = details["waves"][0]["servers"]
    assert [s["phase"] for s in servers] == ["conversion", None]


def test_failed_servers_get_the_job_log_reason():
    # Given a job log with a failed launch of s-2
    logs = [
        {
            "event": "LAUNCH_FAILED",
            "logDateTime": "2026-01-01T00:10:00+00:00",
            "eventData": {"sourceServerID": "s-2", "rawError": "no capacity"},
        }
    ]
    details = _details(
        "FAILED", [_wave(1, "FAILED", [_server("s-2", "FAILED")])]
    )
    # When reasons are applied
    with_reasons(details, failure_reasons(logs))
    # Then the report's failure names that reason
    report = build_report(details, PhaseRecorder(60), speed=60, wall_seconds=1)
    assert report["failures"][0]["reason"] == "no capacity"


def test_wave_start_is_its_first_server_phase_and_pause_names_next_wave():
    # Given a wave seen STARTED at 120 s whose server began at 60 s
    recorder = PhaseRecorder(speed=60)
    recorder.wave_seen[1] = [120, 300]
    recorder.segments["s-1"] = [["snapshot", 60, 200]]
    details = _details(
        "PAUSED",
        [
            _wave(1, "COMPLETED", [_server("s-1", "LAUNCHED")]),
            _wave(2, "PENDING", []),
        ],
    )
    # When reported
    report = build_report(details, recorder, speed=60, wall_seconds=5)
    # Then the wave starts at 60 s, and a pause waits for wave 2
    assert (report["waves"][0]["start"], report["waves"][0]["duration"]) == (
        60,
        240,
    )
    assert next_wave(details) == 2


def test_only_live_recovery_instances_count_as_left():
    # Given get_recovery_instances answers with mixed EC2 states
    answer = {
        "instances": [
            {"recoveryInstanceId": "i-1", "ec2InstanceState": "running"},
            {"recoveryInstanceId": "i-2", "ec2InstanceState": "terminated"},
            {"recoveryInstanceId": "i-3", "ec2InstanceState": "shutting-down"},
        ]
    }
    # Then only the running one is left
    assert [i["recoveryInstanceId"] for i in instances_left(answer)] == ["i-1"]
    assert instances_left({"instances": []}) == []


def test_a_completed_wave_ends_at_its_last_launch_not_when_seen():
    # Given wave 1 seen COMPLETED at 900 s whose last server was seen
    # LAUNCHED at 840 s, and wave 2's first job-log event at 860 s
    recorder = PhaseRecorder(speed=60)
    recorder.wave_seen[1] = [0, 900]
    recorder.wave_seen[2] = [900, 1500]
    recorder.segments["s-1"] = [["launch", 600, 840]]
    recorder.outcome["s-1"] = ("LAUNCHED", 840)
    recorder.segments["s-2"] = [["snapshot", 860, 1400]]
    recorder.outcome["s-2"] = ("LAUNCHED", 1400)
    details = _details(
        "COMPLETED",
        [
            _wave(1, "COMPLETED", [_server("s-1", "LAUNCHED")]),
            _wave(2, "COMPLETED", [_server("s-2", "LAUNCHED")]),
        ],
    )
    # When reported with wave 2 after wave 1
    report = build_report(
        details, recorder, speed=60, wall_seconds=30, depends={2: [1]}
    )
    # Then wave 1 ends at 840 s, before wave 2 starts at 860 s
    first, second = report["waves"]
    assert (first["end"], second["start"]) == (840, 860)
    assert first["end"] <= second["start"]
    assert second["end"] == 1400


def test_a_completed_wave_ends_at_its_last_job_end_from_the_job_log():
    # Given wave 1 (jobs j-1, j-2) whose last server was seen LAUNCHED at
    # 900 s, while the job log says j-1 ended at 780 s and j-2 at 820 s,
    # and wave 2's first job-log event at 830 s
    recorder = PhaseRecorder(speed=60)
    recorder.wave_seen[1] = [0, 960]
    recorder.wave_seen[2] = [960, 1500]
    recorder.segments["s-1"] = [["launch", 600, 900]]
    recorder.outcome["s-1"] = ("LAUNCHED", 900)
    recorder.segments["s-2"] = [["snapshot", 830, 1400]]
    recorder.outcome["s-2"] = ("LAUNCHED", 1400)
    first_wave = _wave(1, "COMPLETED", [_server("s-1", "LAUNCHED")])
    first_wave["jobIds"] = ["j-1", "j-2"]
    details = _details(
        "COMPLETED",
        [first_wave, _wave(2, "COMPLETED", [_server("s-2", "LAUNCHED")])],
    )
    logs = {
        "jobLogs": [
            {
                "jobId": job,
                "items": [
                    {"event": "JOB_START", "logDateTime": 1000.0},
                    {"event": "JOB_END", "logDateTime": 1000.0 + end},
                ],
            }
            for job, end in (("j-1", 780), ("j-2", 820))
        ]
    }
    # When reported with the job log's job ends
    report = build_report(
        details,
        recorder,
        speed=60,
        wall_seconds=30,
        depends={2: [1]},
        job_ends=job_ends(logs, 1000.0),
    )
    # Then wave 1 ends at its last JOB_END, before wave 2 starts
    first, second = report["waves"]
    assert (first["end"], second["start"]) == (820, 830)
    # And a wave whose jobs the log lacks keeps its seen end
    assert second["end"] == 1400


def test_the_rto_ends_at_the_last_waves_job_end_when_every_wave_ended():
    # Given one wave whose only server was seen LAUNCHED at 900 s while
    # the job log says its job ended at 860 s
    recorder = PhaseRecorder(speed=60)
    recorder.wave_seen[1] = [0, 960]
    recorder.segments["s-1"] = [["launch", 600, 900]]
    recorder.outcome["s-1"] = ("LAUNCHED", 900)
    wave = _wave(1, "COMPLETED", [_server("s-1", "LAUNCHED")])
    wave["jobIds"] = ["j-1"]
    logs = {
        "jobLogs": [
            {
                "jobId": "j-1",
                "items": [{"event": "JOB_END", "logDateTime": 1860.0}],
            }
        ]
    }
    # When reported with the job log's job ends
    report = build_report(
        _details("COMPLETED", [wave]),
        recorder,
        speed=60,
        wall_seconds=30,
        job_ends=job_ends(logs, 1000.0),
    )
    # Then the RTO ends at the job's end, not at the sample
    assert report["rto"]["simulatedSeconds"] == 860
    assert report["waves"][0]["end"] == 860
