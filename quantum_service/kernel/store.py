"""The job store: SQLite, so jobs survive a service restart.

One table, ``jobs``; the request and the result are stored as serialised protobuf messages, the
fields the kernel filters and orders on as columns. ``request_id`` is unique per owner, which
makes ``SubmitJob`` idempotent. A cancel request for a running job is stored at once
(``cancel_requested``, written only by :meth:`JobStore.request_cancel`, never cleared by
:meth:`JobStore.update`), so it survives a crash. Access is serialised by a lock: SQLite calls are short, and the
kernel calls the store from the event loop and from worker threads.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.kernel.jobs import JobRecord, JobState

__all__ = ["JobStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    owner TEXT NOT NULL,
    request_id TEXT NOT NULL,
    state INTEGER NOT NULL,
    qpu_id TEXT NOT NULL,
    placement_reason TEXT NOT NULL,
    create_time TEXT NOT NULL,
    start_time TEXT,
    end_time TEXT,
    request BLOB NOT NULL,
    result BLOB,
    error_message TEXT NOT NULL,
    calibration_snapshot_id TEXT NOT NULL,
    device_time_s REAL NOT NULL,
    physical_qubits TEXT NOT NULL DEFAULT '',
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    device_state TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_request_id ON jobs(owner, request_id)
    WHERE request_id != '';
CREATE INDEX IF NOT EXISTS jobs_seq ON jobs(seq);
"""

#: The columns in the order records are written and read (named: a store migrated by
#: ``ALTER TABLE ... ADD COLUMN`` may hold them in another physical order).
_COLUMNS = ("job_id, seq, owner, request_id, state, qpu_id, placement_reason, create_time, "
            "start_time, end_time, request, result, error_message, calibration_snapshot_id, "
            "device_time_s, physical_qubits, cancel_requested, device_state")
_COLUMN_COUNT = _COLUMNS.count(",") + 1


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _qubits_text(qubits: tuple[int, ...]) -> str:
    return ",".join(str(q) for q in qubits)


class JobStore:
    """Persistent job records.

    Args:
        path: SQLite file; ``":memory:"`` for a throw-away store. Parent folders are created.
    """

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(jobs)")}
        if "physical_qubits" not in columns:  # a store written before the column existed
            self._conn.execute(
                "ALTER TABLE jobs ADD COLUMN physical_qubits TEXT NOT NULL DEFAULT ''")
        if "cancel_requested" not in columns:  # a store written before cancels were stored
            self._conn.execute(
                "ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0")
        if "device_state" not in columns:  # a store written before replays were recorded
            self._conn.execute("ALTER TABLE jobs ADD COLUMN device_state TEXT NOT NULL DEFAULT ''")
        #: Called on every record read by :meth:`get` and :meth:`list` (the kernel fills in the
        #: queue position and estimated start time there); ``None`` = leave records as stored.
        self.annotate: Callable[[JobRecord], None] | None = None
        self._lock = threading.Lock()
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM jobs").fetchone()
        self._seq = int(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def insert(self, job: JobRecord) -> JobRecord:
        """Stores a new job; returns the existing job instead if its request_id was seen."""
        with self._lock:
            if job.request.request_id:
                found = self._conn.execute(
                    f"SELECT {_COLUMNS} FROM jobs WHERE owner = ? AND request_id = ?",
                    (job.owner, job.request.request_id),
                ).fetchone()
                if found is not None:
                    return self._record(found)
            self._seq += 1
            self._conn.execute(
                f"INSERT INTO jobs ({_COLUMNS}) VALUES ({','.join('?' * _COLUMN_COUNT)})",
                (job.job_id, self._seq, job.owner, job.request.request_id, int(job.state),
                 job.qpu_id, job.placement_reason, _ts(job.create_time), _ts(job.start_time),
                 _ts(job.end_time), job.request.SerializeToString(), None, job.error_message,
                 job.calibration_snapshot_id, job.device_time_s,
                 _qubits_text(job.physical_qubits), int(job.cancel_requested),
                 job.device_state),
            )
            return job

    def find_request(self, owner: str, request_id: str) -> JobRecord | None:
        """The job ``owner`` submitted with ``request_id`` (non-empty), if any."""
        if not request_id:
            return None
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE owner = ? AND request_id = ?",
                (owner, request_id)).fetchone()
        return self._annotated(self._record(row)) if row else None

    def update(self, job: JobRecord) -> None:
        """Writes the job's mutable fields."""
        with self._lock:
            self._conn.execute(
                "UPDATE jobs SET state=?, qpu_id=?, placement_reason=?, start_time=?, end_time=?,"
                " result=?, error_message=?, calibration_snapshot_id=?, device_time_s=?,"
                " physical_qubits=?, device_state=? WHERE job_id=?",
                (int(job.state), job.qpu_id, job.placement_reason, _ts(job.start_time),
                 _ts(job.end_time), job.result.SerializeToString() if job.result else None,
                 job.error_message, job.calibration_snapshot_id, job.device_time_s,
                 _qubits_text(job.physical_qubits), job.device_state, job.job_id),
            )

    def request_cancel(self, job_id: str) -> None:
        """Stores that ``job_id`` is to be cancelled (durable once this returns: the store
        commits every statement; it survives a crash of the process)."""
        with self._lock:
            self._conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE job_id = ?",
                               (job_id,))

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            row = self._conn.execute(f"SELECT {_COLUMNS} FROM jobs WHERE job_id = ?",
                                     (job_id,)).fetchone()
        return self._annotated(self._record(row)) if row else None

    def list(self, *, limit: int, before_seq: int | None = None, qpu_id: str = "",
             state: JobState | None = None, owner: str = ""
             ) -> tuple[list[JobRecord], int | None]:
        """Jobs newest first (only ``owner``'s when non-empty). Returns the page and the
        ``seq`` to continue before (or None)."""
        clauses, args = [], []
        if owner:
            clauses.append("owner = ?")
            args.append(owner)
        if before_seq is not None:
            clauses.append("seq < ?")
            args.append(before_seq)
        if qpu_id:
            clauses.append("qpu_id = ?")
            args.append(qpu_id)
        if state is not None:
            clauses.append("state = ?")
            args.append(int(state))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM jobs {where} ORDER BY seq DESC LIMIT ?", (*args, limit + 1)
            ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        next_seq = rows[-1][1] if more and rows else None
        return [self._annotated(self._record(r)) for r in rows], next_seq

    def unfinished(self) -> list[JobRecord]:
        """QUEUED and RUNNING jobs, oldest first (to resume after a restart)."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE state IN (?, ?) ORDER BY seq ASC",
                (int(JobState.QUEUED), int(JobState.RUNNING)),
            ).fetchall()
        return [self._record(r) for r in rows]

    def count_by_qpu_and_state(self) -> dict[tuple[str, JobState], int]:
        """Number of stored jobs per ``(qpu_id, state)`` (pairs with no job are absent)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT qpu_id, state, COUNT(*) FROM jobs GROUP BY qpu_id, state").fetchall()
        return {(qpu_id, JobState(state)): count for qpu_id, state, count in rows}

    def _annotated(self, job: JobRecord) -> JobRecord:
        if self.annotate is not None:
            self.annotate(job)
        return job

    @staticmethod
    def _record(row: tuple) -> JobRecord:
        (job_id, _seq, owner, _request_id, state, qpu_id, placement_reason, create_time,
         start_time, end_time, request, result, error_message, snapshot_id, device_time_s,
         physical_qubits, cancel_requested, device_state) = row
        result_msg = None
        if result is not None:
            result_msg = qs_pb2.JobResult()
            result_msg.ParseFromString(result)
        return JobRecord(
            job_id=job_id, request=qs_pb2.SubmitJobRequest.FromString(request), owner=owner,
            state=JobState(state), qpu_id=qpu_id, placement_reason=placement_reason,
            create_time=_dt(create_time), start_time=_dt(start_time), end_time=_dt(end_time),
            result=result_msg, error_message=error_message,
            calibration_snapshot_id=snapshot_id, device_time_s=device_time_s,
            physical_qubits=tuple(int(q) for q in physical_qubits.split(",") if q),
            cancel_requested=bool(cancel_requested), device_state=device_state,
        )
