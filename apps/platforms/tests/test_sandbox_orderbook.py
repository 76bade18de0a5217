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


def test_an_order_is_rendered_once_until_it_changes():
    book = OrderBook(seed=3)
    order = book.add(1)[0]
    renders = []

    def render(o):
        renders.append(o.state)
        return {"state": o.state, "malformed": o.malformed}

    assert order.json_bytes("x", render) == order.json_bytes("x", render) == b'{"state":"%s","malformed":false}' % (
        order.state.encode())
    book.change(order.number, state="refunded")
    assert order.json_bytes("x", render) == b'{"state":"refunded","malformed":false}'
    order.malformed = True
    assert order.json_bytes("x", render) == b'{"state":"refunded","malformed":true}'
    assert len(renders) == 3
