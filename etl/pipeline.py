"""Writing a night's chunks: each in one transaction, the next chunk's staging while the previous one publishes.

A chunk's transaction has two parts:
- `independent` writes that no other chunk reads: its staging rows (staging is append-only, and a chunk
  reads back only its own submissions' rows);
- `ordered` work that must see every earlier chunk committed: the year-on-year check reads the facts the
  previous chunk published, and publishing decides which version of a district's period is current.

`ChunkWriter` runs each chunk on a connection of its own, on a worker thread: a chunk's independent part
runs while the previous chunk's ordered part finishes, and its ordered part starts only once the previous
chunk has committed. So the server takes one chunk's COPY on one core while it publishes the previous
chunk on the other, and the caller's thread reads and validates the next chunk meanwhile. Every chunk is
still one transaction, and chunks are still published in the order they were given.

A failed chunk rolls back alone; every chunk after it rolls back too (`EarlierChunkFailed`), since its
ordered part would otherwise run on a warehouse missing the failed chunk. Their submissions stay
`received`, and the next run resumes them (etl.ingest.receive_file).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import TypeVar

import sqlalchemy as sa

T = TypeVar("T")
IN_FLIGHT = 2  # chunks held at once: one publishing, one staging; more would hold more memory, not go faster


class EarlierChunkFailed(RuntimeError):
    """This chunk was rolled back because an earlier chunk of the same run failed."""


class ChunkWriter:
    """Writes chunks in the order given, each in one transaction, at most `IN_FLIGHT` at a time.

    Use as a context manager; `submit` returns the future of the chunk's `ordered` result. Leaving the
    block waits for every chunk submitted (an error of the caller's own does not roll back chunks already
    given)."""

    def __init__(self, engine: sa.Engine, in_flight: int = IN_FLIGHT) -> None:
        self._engine = engine
        self._in_flight = in_flight
        self._workers = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="tonghop-chunk")
        self._unfinished: list[Future] = []
        self._last: Future | None = None

    def submit(
        self, independent: Callable[[sa.Connection], None], ordered: Callable[[sa.Connection], T], *,
        last: bool = False,
    ) -> Future[T]:
        """Write one chunk: `independent(connection)`, then, once every earlier chunk has committed,
        `ordered(connection)`, then commit. Blocks while `IN_FLIGHT` chunks are unfinished (bounded memory).

        The `last` chunk of a run is written in the caller's thread, which has nothing else to do by then
        (its independent part still overlaps the previous chunk's ordered part); the future is done when
        this returns. A province's night is one chunk: handing it to a worker thread and waiting for it
        cost 1-1.5 ms of its 10."""
        self._unfinished = [future for future in self._unfinished if not future.done()]
        if len(self._unfinished) >= self._in_flight:  # chunks finish in order: the oldest frees a slot
            wait(self._unfinished[: len(self._unfinished) - self._in_flight + 1])
        previous = self._last

        def write() -> T:
            with self._engine.begin() as connection:
                independent(connection)
                if previous is not None and previous.exception() is not None:  # waits for its commit
                    raise EarlierChunkFailed("an earlier chunk of this run failed; this one was rolled back")
                return ordered(connection)

        if last:
            future: Future[T] = Future()
            try:
                future.set_result(write())
            except Exception as error:  # noqa: BLE001 (reported through the future, as from a worker)
                future.set_exception(error)
        else:
            future = self._workers.submit(write)
            self._unfinished.append(future)
        self._last = future
        return future

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._workers.shutdown(wait=True)
