"""Login throttling with ``limits``: failed attempts counted per account and per client address.

A moving window per key (``5/minute;30/hour`` per account and
``20/minute;200/hour`` per address by default, both settings). An attempt is
refused before the password is checked once any of its windows is full, so
the right password does not help a guesser who has used up the window. The
same storage remembers the login forms' one-time tokens. ``memory://`` serves
one process; several web processes share ``redis://`` (compose has one).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from wugan.settings import Settings

__all__ = ["LoginThrottle"]


class LoginThrottle:
    def __init__(self, *, per_account: str, per_address: str, storage: str) -> None:
        self.storage = storage_from_string(storage)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.per_account: list[RateLimitItem] = parse_many(per_account)
        self.per_address: list[RateLimitItem] = parse_many(per_address)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        return cls(per_account=settings.login_limit_account, per_address=settings.login_limit_address,
                   storage=settings.throttle_storage)

    def _windows(self, username: str, address: str) -> list[tuple[RateLimitItem, tuple[str, str]]]:
        account = ("login-account", username.strip().lower()[:64])
        client = ("login-address", address)
        return [(limit, account) for limit in self.per_account] + [(limit, client) for limit in self.per_address]

    def wait_seconds(self, username: str, address: str) -> int:
        """0 when an attempt may go ahead, else the seconds until the fullest window frees a slot."""
        waits = [
            self.limiter.get_window_stats(limit, *key).reset_time - time.time()
            for limit, key in self._windows(username, address)
            if not self.limiter.test(limit, *key)
        ]
        return max(1, math.ceil(max(waits))) if waits else 0

    def failed(self, username: str, address: str) -> None:
        for limit, key in self._windows(username, address):
            self.limiter.hit(limit, *key)

    def first_use(self, token: str, *, seconds: int) -> bool:
        """True the first time a one-time token is presented within ``seconds``."""
        return self.storage.incr(f"login-form/{token}", seconds) == 1
