import pytest

from sandbox import fakedata


def test_the_same_workspace_always_gets_the_same_data_and_another_gets_other_data():
    assert fakedata.dataset(7) == fakedata.dataset(7)
    assert fakedata.dataset(7)[0][0].id != fakedata.dataset(8)[0][0].id


def test_lists_are_newest_first_and_ids_carry_their_type():
    accounts, transactions = fakedata.dataset(1)

    assert [a.created_at for a in accounts] == sorted((a.created_at for a in accounts),
                                                      reverse=True)
    assert all(t.id.startswith("txn_") for t in transactions)
    assert {t.account for t in transactions} == {a.id for a in accounts}


def test_cursor_pages_cover_every_item_once():
    _, transactions = fakedata.dataset(1)
    seen, cursor = [], None
    while True:
        chunk, cursor = fakedata.page(transactions, cursor, 100)
        seen += chunk
        if cursor is None:
            break

    assert seen == transactions


@pytest.mark.parametrize("cursor", ["garbage!", fakedata.encode_cursor("txn_unknown")])
def test_a_cursor_we_did_not_hand_out_is_refused(cursor):
    with pytest.raises(fakedata.BadCursor):
        fakedata.page(fakedata.dataset(1)[1], cursor, 10)
