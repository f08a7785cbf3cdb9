"""CSV that is safe to open in a spreadsheet. Pure: no ORM, no request.

Shared by every CSV export (the audit log here, usage in `usage.selectors`); it lives in
`audit` because audit imports none of our apps and every app may import audit.
"""

import csv
import io
from collections.abc import Iterable, Iterator

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets
# (tab and carriage return are skipped before the formula character by some of them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_CHARS = 64_000


def safe_cell(value):
    """The value as a spreadsheet shows it and never runs: a quote before a formula start."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def csv_chunks(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """CSV text in chunks of about CHUNK_CHARS, every text cell made safe; never all in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        if buffer.tell() > CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
