"""What stands between a login form and a password guesser, without locking out the real user.

Failed logins are counted in memory, per process, in a sliding window (`login_lockout_seconds`):

- per (username, address): `login_max_failures` failures answer 429 to that pair only, so a
  guesser at one address cannot lock the victim out at the victim's own address;
- per address, over all usernames: `login_max_failures_per_address`, against password spraying;
- per username, when the failures come from `login_lock_addresses` different addresses (a
  distributed guess): the account answers 429 everywhere except at addresses it logged in from
  successfully within the window.

Usernames are counted whether or not an account has them, and nothing is written to the database
on a failure, so an unknown username is answered exactly like a known one (same statuses, same
work: a password hash is verified either way). Each replica counts on its own: N replicas allow
N times the limits.

`GuessGuard` counts the failed guesses of another secret that confirms something (the NIK that
proves who owns a business) the same way: per account and per address, each with its own limit
in one sliding window. A right guess clears nothing, so a guesser who knows one right pair cannot
reset the count with it.

Password hashing (argon2id, 64 MiB per hash) is bounded per process by `HashSlots`: at most
`password_hash_concurrency` hashes at once; a login that waits longer than
`password_hash_wait_seconds` for a slot is answered 503 with Retry-After. A login flood
therefore costs at most concurrency x 64 MiB beyond the process's usual memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from shared.problems import ServiceUnavailableError, TooManyRequestsError

T = TypeVar("T")

MAX_KEYS = 50_000  # per counter: bounded memory under a flood of usernames or addresses


class _Window:
    """Event times per key within a sliding window; the least recently used keys are dropped."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._times: OrderedDict[object, deque[tuple[float, str]]] = OrderedDict()

    def recent(self, key: object, now: float) -> deque[tuple[float, str]]:
        times = self._times.get(key)
        if times is None:
            return deque()
        while times and times[0][0] <= now - self.window:
            times.popleft()
        if not times:
            del self._times[key]
        return times

    def add(self, key: object, now: float, tag: str = "") -> None:
        times = self._times.get(key)
        if times is None:
            while len(self._times) >= MAX_KEYS:
                self._times.popitem(last=False)
            times = self._times[key] = deque()
        else:
            self._times.move_to_end(key)
        times.append((now, tag))

    def clear(self, key: object) -> None:
        self._times.pop(key, None)

    def discard(self, key: object, event: tuple[float, str]) -> None:
        """Forget one event added with `add(key, *event)`."""
        times = self._times.get(key)
        if times is None:
            return
        with contextlib.suppress(ValueError):
            times.remove(event)
        if not times:
            del self._times[key]

    def retry_after(self, times: deque[tuple[float, str]], now: float) -> int:
        return max(1, int(times[0][0] + self.window - now) + 1)


def normalize_username(username: str) -> str:
    return username.strip().casefold()[:64]


class LoginGuard:
    def __init__(
        self,
        *,
        max_per_pair: int = 5,
        max_per_address: int = 30,
        lock_addresses: int = 10,
        window_seconds: float = 300.0,
    ) -> None:
        self.max_per_pair = max_per_pair
        self.max_per_address = max_per_address
        self.lock_addresses = lock_addresses
        self.pairs = _Window(window_seconds)
        self.addresses = _Window(window_seconds)
        self.accounts = _Window(window_seconds)
        self.known_good = _Window(24 * 3600.0)  # (username, address) that logged in lately

    def check(self, username: str, address: str) -> None:
        """Raise 429 when this attempt must not even be tried."""
        now = time.monotonic()
        user = normalize_username(username)
        times = self.addresses.recent(address, now)
        if len(times) >= self.max_per_address:
            raise TooManyRequestsError(
                "Too many failed logins from this address: wait before trying again",
                retry_after=self.addresses.retry_after(times, now),
            )
        times = self.pairs.recent((user, address), now)
        if len(times) >= self.max_per_pair:
            raise TooManyRequestsError(
                "Too many failed logins: wait before trying again",
                retry_after=self.pairs.retry_after(times, now),
            )
        times = self.accounts.recent(user, now)
        if len({tag for _, tag in times}) >= self.lock_addresses and not self.known_good.recent(
            (user, address), now
        ):
            raise TooManyRequestsError(
                "Too many failed logins: wait before trying again",
                retry_after=self.accounts.retry_after(times, now),
            )

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        user = normalize_username(username)
        self.addresses.add(address, now)
        self.pairs.add((user, address), now)
        self.accounts.add(user, now, address)

    def succeeded(self, username: str, address: str) -> None:
        user = normalize_username(username)
        self.pairs.clear((user, address))
        self.known_good.clear((user, address))
        self.known_good.add((user, address), time.monotonic())


class GuessGuard:
    """Failed guesses per account and per client address in a sliding window (module docstring).

    `attempt` checks and counts the guess in one step, before the caller looks anything up, so
    guesses sent at once cannot all pass the check before the first is counted; `forgive` takes
    back a guess that turned out right. `clock` (monotonic seconds) is injectable, so a test
    moves time instead of sleeping."""

    def __init__(
        self,
        *,
        max_per_account: int,
        max_per_address: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        detail: str = "Too many failed attempts: wait before trying again",
    ) -> None:
        self.limits = (
            (_Window(window_seconds), max_per_account),
            (_Window(window_seconds), max_per_address),
        )
        self.clock = clock
        self.detail = detail
        self._serial = itertools.count()

    def attempt(self, account: object, address: str) -> tuple[float, str]:
        """Raise 429 (with Retry-After) when the account or the address has used its guesses;
        otherwise count this guess as failed (until `forgive`) and return it."""
        now = self.clock()
        keys = (account, address)
        waits = [
            window.retry_after(times, now)
            for (window, limit), key in zip(self.limits, keys, strict=True)
            if len(times := window.recent(key, now)) >= limit
        ]
        if waits:
            raise TooManyRequestsError(self.detail, retry_after=max(waits))
        guess = (now, str(next(self._serial)))
        for (window, _), key in zip(self.limits, keys, strict=True):
            window.add(key, *guess)
        return guess

    def forgive(self, account: object, address: str, guess: tuple[float, str]) -> None:
        """The guess was right: it no longer counts (earlier failures still do)."""
        for (window, _), key in zip(self.limits, (account, address), strict=True):
            window.discard(key, guess)


class HashSlots:
    """At most `concurrency` password hashes at once in this process (per event loop)."""

    def __init__(self, concurrency: int = 2, wait_seconds: float = 3.0) -> None:
        self.concurrency = concurrency
        self.wait_seconds = wait_seconds
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self.peak = 0
        self._running = 0

    def configure(self, concurrency: int, wait_seconds: float) -> None:
        if concurrency != self.concurrency:
            self._slots = weakref.WeakKeyDictionary()
        self.concurrency = concurrency
        self.wait_seconds = wait_seconds

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self.concurrency)
        return slots

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        slots = self._semaphore()
        try:
            await asyncio.wait_for(slots.acquire(), self.wait_seconds)
        except TimeoutError:
            raise ServiceUnavailableError(
                "Too many logins at once: try again in a few seconds", retry_after=2
            ) from None
        self._running += 1
        self.peak = max(self.peak, self._running)
        try:
            return await run_in_threadpool(fn, *args)
        finally:
            self._running -= 1
            slots.release()


# One per process: the memory it bounds is the process's, whichever app (embedded mode runs three)
# asks for a hash. `create_service_app` applies the settings.
hash_slots = HashSlots()
