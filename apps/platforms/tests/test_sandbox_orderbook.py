"""The sandbox order book answers "updated between" from a sorted index that follows every change."""
import datetime as dt

from apps.platforms.sandbox.core import OrderBook

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def brute_force(book: OrderBook, since, until):
    rows = [o for o in book.orders
            if (since is None or o.updated_at >= since) and (until is None or o.updated_at < until)]
    return sorted(rows, key=lambda o: (o.updated_at, o.number))


def test_updated_between_keeps_since_and_drops_until_in_update_order():
    book = OrderBook(seed=3, start=START)
    book.add(50, spacing=dt.timedelta(minutes=10))
    since, until = START + dt.timedelta(minutes=100), START + dt.timedelta(minutes=300)

    rows = book.updated_between(since, until)

    assert [o.number for o in rows] == [o.number for o in brute_force(book, since, until)]
    assert rows[0].updated_at == since and rows[-1].updated_at < until
    assert book.updated_between(None, None) == brute_force(book, None, None)


def test_a_changed_or_added_order_moves_in_the_answer():
    book = OrderBook(seed=3, start=START)
    book.add(20, spacing=dt.timedelta(minutes=10))
    book.updated_between(None, None)  # builds the index

    moved = book.change(book.orders[2].number, state="cancelled", at=START + dt.timedelta(days=1))
    book.add(3, spacing=dt.timedelta(minutes=10))

    rows = book.updated_between(START, None)
    assert rows == brute_force(book, START, None)
    assert rows[-1] is moved
    assert len(rows) == 23
