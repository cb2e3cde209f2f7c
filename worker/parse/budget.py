"""A hard CPU and memory budget for reading one page.

Some pages cost far more than their size suggests: libxml2 checks a tag's
attributes for duplicates pairwise (100,000 attributes, 1 MB, take half a
minute to parse), and trafilatura's pruning and "wild text" passes grow with
the square of the paragraph count (150,000 short <p> take about a minute).
Bounding the tree after parsing misses the first kind, and the next quadratic
path in either library would slip past any list of bounds; so the page is read
in a child process that the kernel stops at the budget (RLIMIT_CPU, RLIMIT_AS).
bench/budget.py measures both ways.

Children are forked from a small server process started on first use, which
has the parsing modules loaded: a page costs one fork of a single-threaded
process (about a millisecond), never an import, and forking never happens in
the caller, which may be a Celery worker full of threads. multiprocessing's own
forkserver is not used because it re-imports the caller's main module in every
child (all of Celery, per page). The server exits when its caller does.
"""

from __future__ import annotations

import functools
import importlib
import os
import pickle
import resource
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from worker.errors import ExtractBudgetError, ExtractError

__all__ = ["CPU_SECONDS", "MEMORY_BYTES", "Budget", "stop_server", "within_budget"]

# SPEC section 1: "extracting one page costs at most about 2 s of CPU".
# RLIMIT_CPU counts whole seconds; the kernel sends SIGXCPU past the soft
# limit and SIGKILL a second later.
CPU_SECONDS = 2
# Address space a child may add to what the server maps: a page at the 10 MB
# fetch limit parses to a tree of a few hundred MB.
MEMORY_BYTES = 1 << 30
# The caller stops waiting after this many times the CPU budget, should a
# child ever block rather than compute (its CPU time then never runs out).
_WALL_FACTOR = 30
_PRELOAD = ("worker.parse.extract", "worker.parse.visible")

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class Budget:
    """What one page may cost: CPU seconds, and bytes of address space added."""

    cpu_seconds: int = CPU_SECONDS
    memory_bytes: int = MEMORY_BYTES


def within_budget(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """`func` run in a child process that is stopped at the budget.

    Raises ExtractBudgetError when the child runs out of CPU time or memory;
    any other exception is raised as `func` raised it. `func` must be a
    module-level function whose arguments and result pickle.
    """
    target = (func.__module__, func.__qualname__)

    @functools.wraps(func)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        result: _R = _server().run(Budget(), target, args, kwargs)
        return result

    return run


class _Server:
    """The forking server: one per process, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._control: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def run(
        self, budget: Budget, target: tuple[str, str], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        request = pickle.dumps((budget, target, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        ours, theirs = socket.socketpair()
        with ours:
            try:
                self._hand_over(theirs)
            finally:
                theirs.close()
            ours.settimeout(budget.cpu_seconds * _WALL_FACTOR)
            try:
                ours.sendall(request)
                ours.shutdown(socket.SHUT_WR)
                reply = _read_all(ours)
            except (TimeoutError, OSError):
                reply = b""
        if not reply:  # killed by the kernel (SIGXCPU, SIGKILL) or past the wall backstop
            raise ExtractBudgetError(f"over its CPU budget ({budget.cpu_seconds} s)")
        ok, value = pickle.loads(reply)
        if ok:
            return value
        raise value

    def _hand_over(self, channel: socket.socket) -> None:
        """Give the server one end of a request's channel; restart a server that died."""
        with self._lock:
            for attempt in (1, 2):
                control = self._control or self._start()
                try:
                    socket.send_fds(control, [b"r"], [channel.fileno()])
                    return
                except OSError:
                    self._stop()
                    if attempt == 2:
                        raise

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair()
        # The caller may have found this package through its own sys.path.
        root = str(Path(__file__).resolve().parent.parent.parent)
        path = os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))
        self._process = subprocess.Popen(
            [sys.executable, "-c", _SERVER_MAIN, str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env={**os.environ, "PYTHONPATH": path},
            stdin=subprocess.DEVNULL,
            # Its own session: a Ctrl-C meant for the caller's group does not
            # kill the server under a running extraction.
            start_new_session=True,
        )
        theirs.close()
        self._control = ours
        return ours

    def _stop(self, *, graceful: bool = False) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            if not graceful:
                self._process.kill()
            self._process.wait()
            self._process = None

    def stop(self) -> None:
        with self._lock:
            self._stop(graceful=True)


def stop_server() -> None:
    """Stop this process's extraction server once its children are done.

    Never needed for correctness (the server exits with its caller, and the
    next page starts a new one); bench/budget.py uses it so that the CPU time
    of the children is counted in its own resource usage.
    """
    _server().stop()


@functools.cache
def _server() -> _Server:
    return _Server()


def _read_all(channel: socket.socket) -> bytes:
    chunks = []
    while chunk := channel.recv(1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


# -- the server side -----------------------------------------------------------


_SERVER_MAIN = "import sys; from worker.parse.budget import serve; serve(int(sys.argv[1]))"


def serve(control_fd: int) -> None:
    """The server's main loop: fork a child for each channel received on `control_fd`."""
    control = socket.socket(fileno=control_fd)
    for module in _PRELOAD:
        importlib.import_module(module)
    # Reaped children add their CPU time and peak memory to this process's
    # resource usage, and so to its caller's once the server exits.
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        message, fds, _flags, _address = socket.recv_fds(control, 1, 1)
        if not message:  # the caller has gone
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            while _wait_one():
                pass
            return
        if os.fork() == 0:
            control.close()
            with socket.socket(fileno=fds[0]) as channel:
                _child(channel)
            os._exit(0)
        for fd in fds:
            os.close(fd)


def _reap(_signum: int, _frame: object) -> None:
    while _wait_one(os.WNOHANG):
        pass


def _wait_one(options: int = 0) -> bool:
    try:
        pid, _status = os.waitpid(-1, options)
    except ChildProcessError:
        return False
    return pid != 0


def _child(channel: socket.socket) -> None:
    budget, (module, qualname), args, kwargs = pickle.loads(_read_all(channel))
    _limit_self(budget)
    func: Any = importlib.import_module(module)
    for name in qualname.split("."):
        func = getattr(func, name)
    func = getattr(func, "__wrapped__", func)
    try:
        outcome: tuple[bool, Any] = (True, func(*args, **kwargs))
    except MemoryError:
        outcome = (
            False,
            ExtractBudgetError(f"over its memory budget ({budget.memory_bytes >> 20} MiB)"),
        )
    except Exception as error:  # handed to the caller, which raises it
        outcome = (False, error)
    try:
        reply = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        # An exception that does not pickle still reaches the caller, as text.
        reply = pickle.dumps((False, ExtractError(f"{type(outcome[1]).__name__}: {outcome[1]}")))
    channel.sendall(reply)


def _limit_self(budget: Budget) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (budget.cpu_seconds, budget.cpu_seconds + 1))
    limit = _address_space() + budget.memory_bytes
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[0])
    return pages * resource.getpagesize()
