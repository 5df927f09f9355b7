"""pytest plumbing for the napilab scenarios (tests that boot the kernel).

Fixtures
  kernel          module scope: one Guest booted for the whole module with
                  `kernel_options`; a test that starts after it died (e.g.
                  after `poweroff`) gets a fresh boot, a test during which
                  it dies fails.
  kernel_options  module scope: dict of Guest/QemuConfig settings for
                  `kernel`; override it in a module to boot differently,
                  e.g. {"nic": "e1000e", "cmdline": "irqmode=msi", "net": True}
  fresh_kernel    function scope: a Guest booted for this test alone.
  boot            function scope: a factory, boot(cmdline=..., nic=...,
                  net=False, wait=True, **QemuConfig fields) -> Guest;
                  every guest it made is stopped after the test.
  netns           function scope: a NetNs (namespace + tap), removed after.

Options: --nic (default model for all fixtures), --boot-timeout.
Every test that uses a booting fixture is marked `boots`; if build/esp is
incomplete those tests error with a message saying to run `make` (they are
not skipped: deselect them explicitly with -m "not boots").
On failure, the last 200 lines of the console of every guest that was
running during the test are added to the report.
"""
from __future__ import annotations

import os
import signal
import sys
import time
import weakref
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from harness import BuildMissing, Guest, GuestError, NetNs, Qemu, QemuConfig  # noqa: E402
from harness import check_build  # noqa: E402
from harness.console import BOOT_TIMEOUT  # noqa: E402

BOOT_FIXTURES = {"kernel", "fresh_kernel", "boot"}
LOG_LINES = 200
_GUEST_KEYS = {"net", "netns", "txqueuelen"}


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("napilab")
    g.addoption("--nic", default=os.environ.get("NIC") or "e1000",
                choices=("e1000", "e1000e", "none"),
                help="NIC model the fixtures boot with (default e1000)")
    g.addoption("--boot-timeout", type=float,
                default=float(os.environ.get("NAPILAB_BOOT_TIMEOUT", BOOT_TIMEOUT)),
                help="seconds allowed from QEMU start to the shell prompt")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "boots: the test boots the kernel in QEMU (needs `make`)")
    # A SIGTERM (CI timeout, supervisor) unwinds like Ctrl-C, so fixture
    # finalizers still stop QEMU and remove namespaces.
    def on_term(signum, frame):
        raise KeyboardInterrupt("SIGTERM")
    signal.signal(signal.SIGTERM, on_term)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BOOT_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.boots)


def pytest_report_header(config: pytest.Config) -> str:
    try:
        check_build()
        return "napilab: build/esp complete"
    except BuildMissing as e:
        return f"napilab: {e}"


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def napilab_build() -> None:
    """Fails (not skips) every booting test when the build is incomplete."""
    problem = None
    try:
        check_build()
    except BuildMissing as e:
        problem = str(e)
    if problem:
        pytest.fail(problem, pytrace=False)


def _make_guest(request: pytest.FixtureRequest, label: str, **options) -> Guest:
    """A Guest (not yet booted) from fixture options: QemuConfig fields
    plus net / netns / txqueuelen."""
    guest_kw = {k: options.pop(k) for k in list(options) if k in _GUEST_KEYS}
    options.setdefault("nic", request.config.getoption("--nic"))
    options.setdefault("label", label)
    # Hermetic boots: a cmdline.txt left in build/esp by `make run CMDLINE=`
    # must not leak into tests, so None (use build/esp's) becomes "" here.
    if options.get("cmdline") is None:
        options["cmdline"] = ""
    return Guest(QemuConfig(**options), boot_timeout=request.config.getoption(
        "--boot-timeout"), **guest_kw)


@pytest.fixture(scope="module")
def kernel_options() -> dict:
    """Settings of the module's `kernel`; override in a test module."""
    return {}


@pytest.fixture(scope="module")
def kernel(request: pytest.FixtureRequest, napilab_build: None,
           kernel_options: dict) -> Iterator[Guest]:
    guest = _make_guest(request, request.module.__name__.rsplit(".", 1)[-1],
                        **dict(kernel_options))
    try:
        yield guest
    finally:
        guest.close()


@pytest.fixture(autouse=True)
def _kernel_alive(request: pytest.FixtureRequest) -> None:
    """Boot the module's kernel before each test that uses it if it is not
    running (first test, or the previous test powered it off or killed it)."""
    if "kernel" not in request.fixturenames:
        return
    guest = request.getfixturevalue("kernel")
    failed = _BOOT_FAILED.get(guest)
    if failed:   # do not spend a boot timeout on every test of the module
        pytest.fail(f"not retried: this module's kernel failed to boot in an "
                    f"earlier test: {failed}", pytrace=False)
    try:
        guest.ensure()
    except GuestError as e:   # BootFail, or a panic during boot
        _BOOT_FAILED[guest] = e.message
        raise


_BOOT_FAILED: "weakref.WeakKeyDictionary[Guest, str]" = weakref.WeakKeyDictionary()


@pytest.fixture
def fresh_kernel(request: pytest.FixtureRequest, napilab_build: None,
                 kernel_options: dict) -> Iterator[Guest]:
    guest = _make_guest(request, request.node.name, **dict(kernel_options))
    try:
        guest.ensure()
        yield guest
    finally:
        guest.close()


@pytest.fixture
def boot(request: pytest.FixtureRequest,
         napilab_build: None) -> Iterator[Callable[..., Guest]]:
    guests: list[Guest] = []

    def boot_one(cmdline: Optional[str] = None, nic: Optional[str] = None,
                 net: bool = False, wait: bool = True, **options) -> Guest:
        """Boot a guest for this test. wait=False returns it with QEMU
        started but the prompt not awaited (to watch a boot that fails)."""
        if nic is not None:
            options["nic"] = nic
        guest = _make_guest(request, f"{request.node.name}-{len(guests) + 1}",
                            cmdline=cmdline, net=net, **options)
        guests.append(guest)
        guest.boot(wait=wait)
        return guest

    try:
        yield boot_one
    finally:
        for g in reversed(guests):
            g.close()


@pytest.fixture
def netns() -> Iterator[NetNs]:
    ns = NetNs()
    try:
        yield ns.create()
    finally:
        ns.destroy()


# ------------------------------------------------------------------ reports
_START = pytest.StashKey[float]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem) -> Iterator[None]:
    item.stash[_START] = time.monotonic()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    start = item.stash.get(_START, 0.0)
    for q in Qemu.history:
        if q.log is None or q.started_at is None:
            continue
        if q.stopped_at is not None and q.stopped_at < start:
            continue   # ended before this test began
        title = (f"guest console, last {LOG_LINES} lines "
                 f"(pid {q.pid}, log {q.log_path})")
        report.sections.append((title, q.log.tail(LOG_LINES)))
