"""The chunk writer on a real warehouse: order, overlap, and what a failed chunk takes with it."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from etl.pipeline import ChunkWriter, EarlierChunkFailed


@pytest.fixture
def log_table(engine):
    with engine.begin() as c:
        c.execute(sa.text("create table public.chunk_log (chunk int, part text, committed_before int)"))
    yield "public.chunk_log"
    with engine.begin() as c:
        c.execute(sa.text("drop table public.chunk_log"))


def _log(c: sa.Connection, chunk: int, part: str) -> int:
    """Record a part of a chunk with how many chunks' ordered parts were committed when it ran."""
    seen = c.execute(sa.text("select count(*) from public.chunk_log where part = 'ordered'")).scalar_one()
    c.execute(sa.text("insert into public.chunk_log values (:k, :p, :n)"), {"k": chunk, "p": part, "n": seen})
    return seen


def test_each_chunk_publishes_after_every_earlier_one_committed(engine, log_table):
    with ChunkWriter(engine) as writer:
        futures = [writer.submit(lambda c, k=k: _log(c, k, "independent"), lambda c, k=k: _log(c, k, "ordered"))
                   for k in range(6)]
    assert [f.result() for f in futures] == [0, 1, 2, 3, 4, 5]
    with engine.connect() as c:
        rows = c.execute(sa.text("select chunk, part from public.chunk_log order by chunk, part")).all()
    assert rows == [(k, part) for k in range(6) for part in ("independent", "ordered")]


def test_a_chunk_stages_while_the_previous_one_publishes(engine, log_table):
    staged = threading.Event()

    def publish_first(c: sa.Connection) -> bool:
        overlapped = staged.wait(timeout=10)  # set only by the next chunk's independent part, run meanwhile
        _log(c, 0, "ordered")
        return overlapped

    def stage_second(c: sa.Connection) -> None:
        _log(c, 1, "independent")
        staged.set()

    with ChunkWriter(engine) as writer:
        first = writer.submit(lambda c: None, publish_first)
        second = writer.submit(stage_second, lambda c: _log(c, 1, "ordered"))
    assert first.result() is True
    assert second.result() == 1  # and chunk 1 published only after chunk 0 had committed


def test_a_failed_chunk_rolls_back_with_every_later_one_and_keeps_the_earlier(engine, log_table):
    def fail(c: sa.Connection) -> None:
        _log(c, 1, "ordered")
        raise ValueError("hỏng")

    with ChunkWriter(engine) as writer:
        futures = [
            writer.submit(lambda c: _log(c, 0, "independent"), lambda c: _log(c, 0, "ordered")),
            writer.submit(lambda c: _log(c, 1, "independent"), fail),
            writer.submit(lambda c: _log(c, 2, "independent"), lambda c: _log(c, 2, "ordered")),
            writer.submit(lambda c: _log(c, 3, "independent"), lambda c: _log(c, 3, "ordered")),
        ]
    assert futures[0].result() == 0
    with pytest.raises(ValueError, match="hỏng"):
        futures[1].result()
    for future in futures[2:]:
        with pytest.raises(EarlierChunkFailed):
            future.result()
    with engine.connect() as c:
        assert c.execute(sa.text("select distinct chunk from public.chunk_log")).scalars().all() == [0]


def test_the_writer_holds_at_most_two_chunks(engine, log_table):
    release = threading.Event()
    with ChunkWriter(engine) as writer:
        writer.submit(lambda c: None, lambda c: release.wait(timeout=10))
        writer.submit(lambda c: None, lambda c: None)
        third_submitted = threading.Event()

        def submit_third() -> None:
            writer.submit(lambda c: None, lambda c: None)
            third_submitted.set()

        thread = threading.Thread(target=submit_third)
        thread.start()
        assert not third_submitted.wait(timeout=0.5), "a third chunk was taken while two were unfinished"
        release.set()
        thread.join(timeout=10)
        assert third_submitted.is_set()


def test_the_last_chunk_is_written_in_the_callers_thread_after_the_previous_one(engine, log_table):
    release = threading.Event()
    threads = []

    def slow_first(c: sa.Connection) -> int:
        release.wait(timeout=10)
        return _log(c, 0, "ordered")

    def stage_last(c: sa.Connection) -> None:
        threads.append(threading.current_thread())
        release.set()  # the first chunk is still publishing: this runs meanwhile, here

    with ChunkWriter(engine) as writer:
        first = writer.submit(lambda c: None, slow_first)
        last = writer.submit(stage_last, lambda c: _log(c, 1, "ordered"), last=True)
        assert last.done()
    assert threads == [threading.current_thread()]
    assert (first.result(), last.result()) == (0, 1)
