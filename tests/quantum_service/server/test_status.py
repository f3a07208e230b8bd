"""The error mapping: domain errors keep their code and message; anything else is INTERNAL
with an incident id only, its traceback logged under that id."""

from __future__ import annotations

import logging
import re

import grpc
import pytest

from quantum_service.errors import InvalidProgramError, NotFoundError
from quantum_service.server.status import map_errors


class RecordingContext:
    """Stands in for ``grpc.aio.ServicerContext``: records the status it is aborted with."""

    def __init__(self) -> None:
        self.status: grpc.Status | None = None

    async def abort_with_status(self, status: grpc.Status) -> None:
        self.status = status
        raise grpc.aio.AbortError()


class Handlers:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    @map_errors
    async def Unary(self, request, context):
        raise self.exc

    @map_errors
    async def Stream(self, request, context):
        yield 1
        raise self.exc


async def _aborted(exc: Exception, *, stream: bool) -> grpc.Status:
    handlers, context = Handlers(exc), RecordingContext()
    with pytest.raises(grpc.aio.AbortError):
        if stream:
            async for _ in handlers.Stream(None, context):
                pass
        else:
            await handlers.Unary(None, context)
    assert context.status is not None
    return context.status


@pytest.mark.parametrize("stream", [False, True])
async def test_domain_errors_keep_code_and_message(stream):
    status = await _aborted(InvalidProgramError("observable term 0: bad", reason="X"),
                            stream=stream)
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert status.details == "observable term 0: bad"
    status = await _aborted(NotFoundError("no job"), stream=stream)
    assert status.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("stream", [False, True])
async def test_unexpected_errors_are_internal_without_their_text(stream, caplog):
    caplog.set_level(logging.ERROR, logger="quantum_service.server.status")
    status = await _aborted(KeyError("/srv/secret/path"), stream=stream)
    assert status.code == grpc.StatusCode.INTERNAL
    assert "secret" not in status.details and "KeyError" not in status.details
    incident = re.search(r"incident ([0-9a-f]{12})", status.details).group(1)
    [record] = [r for r in caplog.records if incident in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    assert ("Stream" if stream else "Unary") in record.getMessage()
