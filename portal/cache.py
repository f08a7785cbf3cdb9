"""Django's Redis cache, made to fail open.

The cache holds sessions (cached_db: the database has them too), rate-limit counters
and little else. When Redis is unreachable, pages must keep serving: reads miss,
writes are dropped, and rate limits stop counting until Redis returns. Every outage
is logged, once a minute at most.
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
OUTAGE = (RedisConnectionError, RedisTimeoutError, OSError)
_last_warning = 0.0


def _warn(operation: str, error: Exception) -> None:
    global _last_warning
    if time.monotonic() - _last_warning > 60:
        _last_warning = time.monotonic()
        log.warning("cache unavailable (%s: %s); serving without it", operation, error)


def _fail_open(name: str, fallback):
    original = getattr(RedisCacheClient, name)

    def method(self, *args, **kwargs):
        try:
            return original(self, *args, **kwargs)
        except OUTAGE as error:
            _warn(name, error)
            if isinstance(fallback, type) and issubclass(fallback, Exception):
                raise fallback(f"cache unavailable: {error}") from error
            return fallback(*args) if callable(fallback) else fallback

    method.__name__ = name
    return method


class ResilientRedisCacheClient(RedisCacheClient):
    add = _fail_open("add", True)  # as if stored: allauth waits for a lock otherwise
    get = _fail_open("get", lambda key, default: default)
    set = _fail_open("set", None)
    touch = _fail_open("touch", False)
    delete = _fail_open("delete", False)
    get_many = _fail_open("get_many", lambda keys: {})
    has_key = _fail_open("has_key", False)
    incr = _fail_open("incr", ValueError)  # as for a missing key: callers handle it
    set_many = _fail_open("set_many", lambda data, timeout: [])
    delete_many = _fail_open("delete_many", None)
    clear = _fail_open("clear", None)


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient
