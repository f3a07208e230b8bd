"""The SQLite job store and the job state machine."""

from __future__ import annotations

import pytest

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.kernel.jobs import JobRecord, JobState
from quantum_service.kernel.store import JobStore


def record(job_id: str, *, request_id: str = "", owner: str = "alice",
           qpu_id: str = "q1") -> JobRecord:
    request = qs_pb2.SubmitJobRequest(request_id=request_id, shot_count=10,
                                      programs=[common_pb2.Program(openqasm="OPENQASM 3.0;")])
    return JobRecord(job_id=job_id, request=request, owner=owner, state=JobState.QUEUED,
                     qpu_id=qpu_id)


def test_jobs_round_trip_through_a_file(tmp_path):
    path = tmp_path / "sub" / "jobs.sqlite"
    store = JobStore(path)
    job = store.insert(record("job-1"))
    job.transition(JobState.RUNNING)
    job.transition(JobState.SUCCEEDED)
    job.result = qs_pb2.JobResult(experiments=[qs_pb2.ExperimentResult(counts={"01": 7})])
    job.device_time_s = 1.5
    store.update(job)
    store.close()
    again = JobStore(path).get("job-1")
    assert again.state is JobState.SUCCEEDED
    assert again.result.experiments[0].counts["01"] == 7
    assert again.device_time_s == 1.5
    assert again.start_time <= again.end_time
    assert again.request.shot_count == 10


def test_request_id_is_unique_per_owner(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    first = store.insert(record("job-1", request_id="r"))
    assert store.insert(record("job-2", request_id="r")).job_id == first.job_id
    assert store.insert(record("job-3", request_id="r", owner="bob")).job_id == "job-3"
    assert store.insert(record("job-4")).job_id == "job-4"  # no request_id: never deduplicated
    assert store.insert(record("job-5")).job_id == "job-5"


def test_list_pages_newest_first_with_filters(tmp_path):
    store = JobStore(":memory:")
    for i in range(7):
        store.insert(record(f"job-{i}", qpu_id="a" if i % 2 else "b"))
    page, cursor = store.list(limit=3)
    assert [j.job_id for j in page] == ["job-6", "job-5", "job-4"]
    page2, cursor2 = store.list(limit=3, before_seq=cursor)
    assert [j.job_id for j in page2] == ["job-3", "job-2", "job-1"]
    page3, cursor3 = store.list(limit=3, before_seq=cursor2)
    assert [j.job_id for j in page3] == ["job-0"] and cursor3 is None
    only_a, _ = store.list(limit=10, qpu_id="a")
    assert [j.job_id for j in only_a] == ["job-5", "job-3", "job-1"]
    assert [j.job_id for j in store.unfinished()] == [f"job-{i}" for i in range(7)]


def test_state_machine_rejects_illegal_transitions():
    job = record("job-1")
    with pytest.raises(ValueError, match="QUEUED -> SUCCEEDED"):
        job.transition(JobState.SUCCEEDED)
    job.transition(JobState.RUNNING)
    job.transition(JobState.CANCELLED)
    assert job.state.is_terminal and job.end_time is not None
    with pytest.raises(ValueError):
        job.transition(JobState.RUNNING)
