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
has the parsing modules loaded and warmed; a child reads up to 100 pages, each
with its own allowance, so a page costs neither an import nor (mostly) a fork,
and forking never happens in the caller, which may be a Celery worker full of
threads. multiprocessing's forkserver is not used: it re-imports the
caller's main module in every child (all of Celery, per page). The server
exits when its caller does.
"""

from __future__ import annotations

import functools
import gc
import importlib
import os
import pickle
import resource
import selectors
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

# docs/security.md, "Article pages: a CPU and memory budget": at most about
# 2 s of CPU per page.
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
# Pages a child reads before it exits: caches and heap fragments it grew
# go with it.
_PAGES_PER_CHILD = 100
# How long the server waits for a page before it loads dateparser's locales.
_QUIET_BEFORE_DATES = 1.0

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
        # Extraction is CPU-bound: more pages at once than cores only adds a
        # child's memory each (a worker's thread pool could ask for dozens).
        self._slots = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
        self._control: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def run(
        self, budget: Budget, target: tuple[str, str], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        request = pickle.dumps((budget, target, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        with self._slots:
            reply = self._exchange(budget, request)
        if not reply:  # killed by the kernel (SIGXCPU, SIGKILL) or past the wall backstop
            raise ExtractBudgetError(f"over its CPU budget ({budget.cpu_seconds} s)")
        ok, value = pickle.loads(reply)
        if ok:
            return value
        raise value

    def _exchange(self, budget: Budget, request: bytes) -> bytes:
        """Send one page's request to a child; its reply, or b"" if it was stopped."""
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
        return reply

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
    """The server's main loop: hand each channel received on `control_fd` to a child.

    A child reads pages one after another (up to _PAGES_PER_CHILD, then it
    exits and a fresh one is forked): on this kind of machine a fork of the
    loaded parser costs several milliseconds, a third of a typical page.
    Each page gets its own CPU allowance (the soft RLIMIT_CPU moved to the
    time used so far plus the budget); a child over it is killed by the
    kernel, and the next page goes to another child.
    """
    control = socket.socket(fileno=control_fd)
    for module in _PRELOAD:
        importlib.import_module(module)
    _warm_up()
    # Out of the collector's sight: a child's collections would otherwise
    # touch, and so copy, every page of the server's heap.
    gc.freeze()
    # Reaped children add their CPU time and peak memory to this process's
    # resource usage, and so to its caller's once the server exits.
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children = _Children(control)
    dates_warm = False
    while children.serve_one(None if dates_warm else _QUIET_BEFORE_DATES):
        if not dates_warm and children.quiet:
            # Loading dateparser's locales takes 2 s: done at the first quiet
            # moment, not before the first page, so that a one-shot command
            # (`wirewatch extract`) does not wait for it. Children forked
            # before lack them: the idle ones are retired.
            from worker.parse.metadata import warm_up_dates

            warm_up_dates()
            gc.freeze()
            children.retire_idle()
            dates_warm = True
    children.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    while _wait_one():
        pass


class _Children:
    """The server's children: each linked to it by a socket, idle ones ready for a page."""

    def __init__(self, control: socket.socket) -> None:
        self._control = control
        self._selector = selectors.DefaultSelector()
        self._selector.register(control, selectors.EVENT_READ)
        self._idle: list[socket.socket] = []
        self.quiet = False  # whether the last serve_one saw nothing to do

    def serve_one(self, timeout: float | None = None) -> bool:
        """Handle what is ready (waiting up to `timeout` s; `quiet` says
        whether nothing came); False once the caller has gone."""
        # Children first: one that said it is idle takes the page that arrives
        # with it, rather than a fork of a new child.
        events = self._selector.select(timeout)
        self.quiet = not events
        ready = sorted(events, key=lambda event: event[0].fileobj is self._control)
        for key, _events in ready:
            link = key.fileobj
            assert isinstance(link, socket.socket)
            if link is self._control:
                message, fds, _flags, _address = socket.recv_fds(link, 1, 1)
                if not message:
                    return False
                self._hand_over(fds[0])
            elif link.recv(1):  # a child is done with its page
                self._idle.append(link)
            else:  # a child has exited: retired, or killed over its budget
                self._selector.unregister(link)
                if link in self._idle:
                    self._idle.remove(link)
                link.close()
        return True

    def _hand_over(self, channel_fd: int) -> None:
        try:
            while True:
                link = self._idle.pop() if self._idle else self._fork(channel_fd)
                try:
                    socket.send_fds(link, [b"p"], [channel_fd])
                    return
                except OSError:  # it exited while idle; its EOF is handled later
                    continue
        finally:
            os.close(channel_fd)

    def _fork(self, channel_fd: int) -> socket.socket:
        ours, theirs = socket.socketpair()
        if os.fork() == 0:
            # The child keeps its own link only: the caller's control socket
            # and other children's links stay the server's.
            ours.close()
            self.close()
            self._control.close()
            os.close(channel_fd)  # it arrives again, over the link, as this child's page
            try:
                _child_loop(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self._selector.register(ours, selectors.EVENT_READ)
        return ours

    def retire_idle(self) -> None:
        """Let the idle children go (each exits on EOF); the next page forks a fresh one."""
        for link in self._idle:
            self._selector.unregister(link)
            link.close()
        self._idle.clear()

    def close(self) -> None:
        """Close the children's links (they exit on EOF) and the selector."""
        for key in list(self._selector.get_map().values()):
            if key.fileobj is not self._control:
                assert isinstance(key.fileobj, socket.socket)
                key.fileobj.close()
        self._selector.close()


def _warm_up() -> None:
    """Extract one page here, so that each child starts with warm caches.

    trafilatura and htmldate import modules and fill caches on first use; a
    child forked before that would pay for it on every page (twice the time
    per page on the benchmark corpus). dateparser's locales, which the first
    page that reaches htmldate's text search would spend its whole budget on,
    are loaded later, at the server's first quiet moment (`serve`).
    """
    from worker.parse.extract import extract_article

    paragraph = "<p>" + "A sentence of an ordinary article about the weather. " * 6 + "</p>"
    page = (
        '<html lang="en"><head><title>Warm-up</title>'
        '<meta property="article:published_time" content="2024-05-01T10:00:00Z">'
        '<meta name="author" content="A. Writer"></head><body><nav><a href="/">Home</a></nav>'
        f"<article><h1>Warm-up</h1><time datetime='2024-05-01'>1 May</time>{paragraph * 8}"
        "</article><footer>Contact</footer></body></html>"
    )
    getattr(extract_article, "__wrapped__", extract_article)(
        page.encode(), url="https://example.org/2024/05/01/warm-up"
    )


def _reap(_signum: int, _frame: object) -> None:
    while _wait_one(os.WNOHANG):
        pass


def _wait_one(options: int = 0) -> bool:
    try:
        pid, _status = os.waitpid(-1, options)
    except ChildProcessError:
        return False
    return pid != 0


def _child_loop(link: socket.socket) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    baseline = _address_space()
    for page in range(_PAGES_PER_CHILD):
        message, fds, _flags, _address = socket.recv_fds(link, 1, 1)
        if not message:
            return
        with socket.socket(fileno=fds[0]) as channel:
            _child(channel, baseline)
            if page + 1 < _PAGES_PER_CHILD:
                # Idle is said before the caller sees its reply end (the channel
                # closing): a next page from that caller then finds this child free.
                link.send(b"i")


def _child(channel: socket.socket, baseline: int) -> None:
    budget, (module, qualname), args, kwargs = pickle.loads(_read_all(channel))
    _limit_self(budget, baseline)
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


def _limit_self(budget: Budget, baseline: int) -> None:
    """This page's allowance: the CPU time used so far plus the budget, and memory.

    RLIMIT_CPU counts the whole process and whole seconds: the soft limit is
    moved up for each page (the hard one stays unlimited, so that it can be),
    and the kernel's SIGXCPU at the soft limit ends the process.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # Rounded: this page's allowance is within half a second of the budget.
    used = round(usage.ru_utime + usage.ru_stime)
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (used + budget.cpu_seconds, hard))
    limit = baseline + budget.memory_bytes
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[0])
    return pages * resource.getpagesize()
