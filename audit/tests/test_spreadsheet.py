import pytest

from audit.spreadsheet import CHUNK_CHARS, csv_chunks, safe_cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (-1, -1),
        (None, None),
    ],
)
def test_safe_cell_table(value, expected):
    assert safe_cell(value) == expected


def test_csv_chunks_stream_in_bounded_pieces_and_quote_every_text_cell():
    rows = ([f"=row {i}", i] for i in range(5000))

    chunks = list(csv_chunks(["name", "n"], rows))

    assert len(chunks) > 1
    assert all(len(chunk) < CHUNK_CHARS + 100 for chunk in chunks)
    text = "".join(chunks)
    assert text.startswith("name,n\r\n'=row 0,0\r\n")
    assert text.endswith("'=row 4999,4999\r\n")
