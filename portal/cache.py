"""Django's Redis cache, made to fail open, minus the authentication controls.

The cache holds the sandbox API's per-key counters, page fragments and little else.
When Redis is unreachable, pages must keep serving: reads miss and writes are dropped.
Every outage is logged, once a minute at most.

Authentication controls must not switch off with it: a fail-open cache answers "no
failed sign-ins recorded" and "this TOTP code was never used". allauth keeps both in
the default cache under keys starting with "allauth" (rate-limit counters and their
locks, used TOTP codes), so those keys go to the database cache `AUTH_CACHE` instead,
always: one small indexed row per sign-in attempt, exact whatever Redis does.
"""

import logging
import time

from django.conf import settings
from django.core.cache import caches
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


AUTH_KEY_PREFIX = "allauth"


def _auth_aware(name: str):
    original = getattr(RedisCache, name)

    def method(self, key, *args, **kwargs):
        if isinstance(key, str) and key.startswith(AUTH_KEY_PREFIX):
            return getattr(caches[settings.AUTH_CACHE], name)(key, *args, **kwargs)
        return original(self, key, *args, **kwargs)

    method.__name__ = name
    return method


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient

    add = _auth_aware("add")
    get = _auth_aware("get")
    set = _auth_aware("set")
    touch = _auth_aware("touch")
    delete = _auth_aware("delete")
    has_key = _auth_aware("has_key")
    incr = _auth_aware("incr")
    decr = _auth_aware("decr")
