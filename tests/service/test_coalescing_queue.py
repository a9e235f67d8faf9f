"""The coalescing queue: a burst for one record is one sync; a busy record still syncs."""

from __future__ import annotations

import datetime as dt

from hub.service.queue import CoalescingQueue, Target


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


ISSUE = Target("portal", "issue", "a", "7")


def test_twenty_deliveries_for_one_record_in_a_burst_are_one_entry_due_after_a_pause() -> None:
    clock = Clock()
    queue = CoalescingQueue(quiet=0.25, max_delay=2.0, clock=clock)
    for _ in range(20):
        queue.add(ISSUE)
        clock.now += 0.02
        assert queue.take_due() == {}, "not due while the burst goes on"
    clock.now += 0.25
    assert list(queue.take_due()) == [ISSUE]
    assert len(queue) == 0


def test_a_record_edited_without_pause_is_due_after_the_longest_delay() -> None:
    clock = Clock()
    queue = CoalescingQueue(quiet=0.25, max_delay=2.0, clock=clock)
    start = clock.now
    while clock.now - start < 2.0:
        queue.add(ISSUE)
        assert queue.take_due() == {}
        clock.now += 0.1
    queue.add(ISSUE)
    assert list(queue.take_due()) == [ISSUE]


def test_the_earliest_edit_time_is_kept_and_records_are_apart() -> None:
    clock = Clock()
    queue = CoalescingQueue(quiet=0.0, max_delay=1.0, clock=clock)
    early = dt.datetime(2026, 12, 1, 9, 0, 0, tzinfo=dt.UTC)
    late = early + dt.timedelta(seconds=5)
    queue.add(ISSUE, late)
    queue.add(ISSUE, early)
    queue.add(Target("portal", "issue", "a", "8"), late)
    due = queue.take_due()
    assert due[ISSUE].edited == early and len(due) == 2


def test_a_retry_waits_its_delay_and_counts_the_attempt() -> None:
    clock = Clock()
    queue = CoalescingQueue(quiet=0.0, max_delay=1.0, clock=clock)
    queue.add(ISSUE)
    entry = queue.take_due()[ISSUE]
    queue.retry_later(ISSUE, entry, 2.0)
    assert queue.take_due() == {} and 1.9 < (queue.seconds_to_next() or 0) <= 2.0
    clock.now += 2.0
    assert queue.take_due()[ISSUE].attempts == 1
