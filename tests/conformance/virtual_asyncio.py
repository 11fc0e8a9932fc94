"""Run a Python asyncio program on a virtual clock: python3 virtual_asyncio.py prog.py [args...]

What aio does with AIO_VIRTUAL_TIME=1, done to CPython's asyncio so that the originals of the
examples run instantly and deterministically:

- Every loop the program makes (asyncio.run, Runner, get_event_loop, new_event_loop) is a
  VirtualEventLoop: a SelectorEventLoop whose time() reads a process-wide virtual clock. When
  the loop would wait in select() with nothing ready, the clock jumps by the timeout instead.
- Timers due at the same virtual instant fire in the order they were set (CPython's timer heap
  does not order equal deadlines), all in the same loop iteration: aio's rule. In real runs
  such timers are set microseconds apart (the one set earlier nearly always first) and the
  loop wakes late enough to take them together.
- time.sleep() jumps the clock too (the loop is blocked all the same, but nobody waits).
- time.perf_counter() adds the time skipped, like aio::perf_counter(): a program that times
  itself prints the duration it would have had in real time.
- With AIO_REPORT_VIRTUAL_TIME=1 the total skipped is printed on stderr at exit, in aio's
  format: "aio: virtual time skipped: X.XXX s".

Limits: a program that waits on I/O from outside the process (sockets, subprocesses, threads)
and on a timer at once sees the timer fire early: the clock jumps when no fd is ready now.
"""

import asyncio
import atexit
import heapq
import itertools
import os
import runpy
import selectors
import sys
import time

_real_perf_counter = time.perf_counter


class _Clock:
    now = 0.0  # what loop.time() reads
    skipped = 0.0  # the sum of the jumps: what perf_counter() adds


def _jump(seconds):
    if seconds > 0:
        _Clock.now += seconds
        _Clock.skipped += seconds


class _VirtualSelector(selectors.DefaultSelector):
    def select(self, timeout=None):
        ready = super().select(0)
        if ready or timeout is not None and timeout <= 0:
            return ready
        if timeout is None:  # no timer and nothing ready: only an outside event can come
            return super().select(None)
        _jump(timeout)
        return []


class _FifoTimerHandle(asyncio.TimerHandle):
    """A TimerHandle that orders equal deadlines by creation (the heap compares with <)."""

    __slots__ = ("_seq",)
    _counter = itertools.count()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._seq = next(self._counter)

    def __lt__(self, other):
        return (self._when, self._seq) < (other._when, other._seq)


class VirtualEventLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        super().__init__(_VirtualSelector())

    def time(self):
        return _Clock.now

    def call_at(self, when, callback, *args, context=None):
        # BaseEventLoop.call_at (3.11), with a _FifoTimerHandle.
        if when is None:
            raise TypeError("when cannot be None")
        self._check_closed()
        if self._debug:
            self._check_thread()
            self._check_callback(callback, 'call_at')
        timer = _FifoTimerHandle(when, callback, args, self, context)
        if timer._source_traceback:
            del timer._source_traceback[-1]
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer


class VirtualEventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    _loop_factory = VirtualEventLoop


def perf_counter():
    return _real_perf_counter() + _Clock.skipped


def sleep(seconds):
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    _jump(seconds)


def _report():
    print(f"aio: virtual time skipped: {_Clock.skipped:.3f} s", file=sys.stderr)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: virtual_asyncio.py prog.py [args...]")
    program = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(program))
    asyncio.set_event_loop_policy(VirtualEventLoopPolicy())
    time.perf_counter = perf_counter
    time.sleep = sleep
    if os.environ.get("AIO_REPORT_VIRTUAL_TIME") == "1":
        atexit.register(_report)
    # __file__ is absolute, as when the program runs as `python3 prog.py`.
    runpy.run_path(os.path.abspath(program), run_name="__main__")


if __name__ == "__main__":
    main()
