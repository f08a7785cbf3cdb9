"""Deterministic fake data for one workspace's sandbox. Pure: the same workspace always
sees the same accounts and transactions, so tests and tutorials can rely on them."""

import base64
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from keys.secrets import ALPHABET

EPOCH = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
MERCHANTS = ["Coffee Corner", "City Transit", "Green Grocer", "Book Nook", "Cloud Hosting Ltd",
             "Payroll", "Rent", "Electricity Co", "Bike Repair", "Refund: Online Store"]
ACCOUNT_NAMES = ["Everyday account", "Savings", "Business account"]
TRANSACTIONS_PER_ACCOUNT = 120


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    currency: str
    balance: str
    created_at: str


@dataclass(frozen=True)
class Transaction:
    id: str
    account: str
    amount: str
    currency: str
    description: str
    booked_at: str


def _id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice(ALPHABET) for _ in range(12))


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def dataset(workspace_id: int) -> tuple[list[Account], list[Transaction]]:
    """Accounts and transactions of a workspace, each list newest first."""
    # Seeded on purpose: fake data must be the same every time, and it is not secret.
    rng = random.Random(f"sandbox-{workspace_id}")  # noqa: S311
    accounts, transactions = [], []
    for index, name in enumerate(ACCOUNT_NAMES):
        account_id = _id(rng, "acc_")
        balance = Decimal(0)
        for n in range(TRANSACTIONS_PER_ACCOUNT):
            description = rng.choice(MERCHANTS)
            sign = 1 if description in {"Payroll"} or description.startswith("Refund") else -1
            amount = Decimal(rng.randint(150, 250_000)) / 100 * sign
            balance += amount
            booked = EPOCH - timedelta(hours=n * 7 + index * 3, minutes=rng.randint(0, 59))
            transactions.append(Transaction(_id(rng, "txn_"), account_id, f"{amount:.2f}", "EUR",
                                            description, _time(booked)))
        accounts.append(Account(account_id, name, "EUR", f"{balance + 5000:.2f}",
                                _time(EPOCH - timedelta(days=index * 2, hours=index * 5))))
    accounts.sort(key=lambda a: a.created_at, reverse=True)
    transactions.sort(key=lambda t: (t.booked_at, t.id), reverse=True)
    return accounts, transactions


class BadCursor(ValueError):
    """A cursor we did not hand out."""


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(f"cursor:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise BadCursor(cursor) from None
    if not raw.startswith("cursor:"):
        raise BadCursor(cursor)
    return raw.removeprefix("cursor:")


def page(items: list, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """The items after the cursor's item (by id), at most `limit`, and the next cursor."""
    start = 0
    if cursor:
        last_id = decode_cursor(cursor)
        positions = [i for i, item in enumerate(items) if item.id == last_id]
        if not positions:
            raise BadCursor(cursor)
        start = positions[0] + 1
    chunk = items[start:start + limit]
    more = start + limit < len(items)
    return chunk, encode_cursor(chunk[-1].id) if more and chunk else None
