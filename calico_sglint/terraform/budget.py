"""Limits on the work one evaluation may do, so hostile Terraform ends in an error, not a hang.

The Terraform sglint reads may come from a stranger's pull request. A few hundred bytes of
valid HCL can ask for a billion-element list, a gigabyte string or 2^30 module instances.
Two kinds of limit stop that:

- **Per value** (constants checked where a value is built): elements of one collection,
  characters of one string, instances of one resource or module call, module nesting.
  Exceeding one is an `EvalError`, so the attribute becomes an `Unknown` naming the
  expression and the rest of the configuration is still checked.
- **Per run** (a `Budget` active while one root module is evaluated): elements and string
  characters built in total, resource and module instances in total, and wall-clock time.
  Exceeding one raises `BudgetExceeded`; the evaluator stops that root and reports a
  one-line error naming the file and line where the budget ran out.

The numbers are stated in docs/configuration.md ("Limits"); real configurations stay far
below them (a large EKS root builds a few thousand elements).
"""

from __future__ import annotations

import contextlib
import time
from contextvars import ContextVar
from typing import Iterator

from calico_sglint.source import Location

MAX_ELEMENTS = 100_000  # elements of one collection (for, for_each, flatten, setproduct, ...)
MAX_STRING = 8 * 1024 * 1024  # characters of one string (templates, format, join, replace, ...)
MAX_FORMAT_WIDTH = 10_000  # width or precision of one format() verb
MAX_INSTANCES_PER_BLOCK = 10_000  # instances from one count / for_each
MAX_MODULE_DEPTH = 32  # nested module calls below the root
FILESET_ENTRIES = 10_000  # directory entries one fileset() may look at
FILESET_MATCHES = 10_000  # files one fileset() may return
FILESET_DEPTH = 64  # directories below a fileset() pattern's literal prefix
FILESET_PATTERN = 4096  # characters of one fileset() pattern
FILESET_ALTERNATIVES = 64  # patterns one `{a/x,b/y}` fileset() pattern expands to

RUN_ELEMENTS = 300_000  # elements built while evaluating one root module
RUN_STRING = 64 * 1024 * 1024  # characters built while evaluating one root module
RUN_INSTANCES = 20_000  # resource and module instances of one root module
RUN_SECONDS = 60.0  # wall-clock time to evaluate one root module


class BudgetExceeded(Exception):
    """The run's budget is spent. Not an `EvalError`: `try()` and `can()` do not swallow it.
    `location` is filled in by the innermost expression being evaluated when it was raised."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


class Budget:
    """What one root module's evaluation may still spend. Mutable on purpose: it is the
    running total of one run, shared by every expression evaluated in it."""

    def __init__(
        self,
        elements: int = RUN_ELEMENTS,
        characters: int = RUN_STRING,
        instances: int = RUN_INSTANCES,
        seconds: float = RUN_SECONDS,
    ) -> None:
        self.elements = elements
        self.characters = characters
        self.instances = instances
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self._ticks = 0

    def spend_elements(self, count: int, what: str) -> None:
        self.elements -= count
        if self.elements < 0:
            raise BudgetExceeded(f"{what}: more than {RUN_ELEMENTS:,} collection elements built in one run")
        self.tick()

    def spend_characters(self, count: int, what: str) -> None:
        self.characters -= count
        if self.characters < 0:
            raise BudgetExceeded(f"{what}: more than {RUN_STRING // (1024 * 1024)} MB of strings built in one run")

    def spend_instances(self, count: int, what: str) -> None:
        self.instances -= count
        if self.instances < 0:
            raise BudgetExceeded(f"{what}: more than {RUN_INSTANCES:,} resource and module instances in one run")

    def tick(self) -> None:
        """Check the clock now and then (every 256 calls; a call is a few microseconds)."""
        self._ticks += 1
        if self._ticks & 0xFF == 0 and time.monotonic() > self.deadline:
            raise BudgetExceeded(f"evaluation took longer than {self.seconds:g} s")


_ACTIVE: ContextVar[Budget | None] = ContextVar("sglint_budget", default=None)


@contextlib.contextmanager
def active(budget: Budget) -> Iterator[Budget]:
    """Make `budget` the one charged by everything evaluated inside the `with` block."""
    token = _ACTIVE.set(budget)
    try:
        yield budget
    finally:
        _ACTIVE.reset(token)


def current() -> Budget | None:
    """The budget of the run being evaluated, or None outside one (per-value limits still hold)."""
    return _ACTIVE.get()


def spend_elements(count: int, what: str) -> None:
    budget = _ACTIVE.get()
    if budget is not None:
        budget.spend_elements(count, what)


def spend_characters(count: int, what: str) -> None:
    budget = _ACTIVE.get()
    if budget is not None:
        budget.spend_characters(count, what)


def tick() -> None:
    budget = _ACTIVE.get()
    if budget is not None:
        budget.tick()
