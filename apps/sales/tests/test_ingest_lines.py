"""Line identity across sources (apps.sales.ingest.lines): ids decide, SKUs pair the rest."""
from apps.sales.ingest.lines import StoredLine, lines_match


def stored(pk, line_id, sku):
    return StoredLine(pk=pk, platform_line_id=line_id, platform_sku=sku, values=(sku,))


def test_ids_on_both_sides_decide_whatever_the_order():
    a, b = stored(1, "L1", "MUG"), stored(2, "L2", "MUG")
    match = lines_match([a, b], [("L2", "MUG"), ("L1", "MUG")])
    assert match.stored_for == [b, a] and match.unmatched == [] and match.adopted_ids == []


def test_a_file_without_line_ids_pairs_with_the_connectors_lines_by_sku():
    mug, lamp = stored(1, "L1", "MUG"), stored(2, "L2", "LAMP")
    match = lines_match([mug, lamp], [("", "LAMP"), ("", "MUG")])
    assert match.stored_for == [lamp, mug] and match.unmatched == [] and match.adopted_ids == []


def test_a_connector_line_adopts_a_file_line_of_its_sku_and_its_id_is_kept():
    mug = stored(1, "", "MUG")
    match = lines_match([mug], [("L9", "MUG")])
    assert match.stored_for == [mug] and match.adopted_ids == [(1, "L9")]


def test_two_lines_of_one_sku_with_different_ids_stay_two_lines():
    first = stored(1, "L1", "MUG")
    match = lines_match([first], [("L1", "MUG"), ("L2", "MUG")])
    assert match.stored_for == [first, None] and match.unmatched == []


def test_an_id_never_pairs_with_a_stored_line_holding_another_id():
    old = stored(1, "L1", "MUG")
    match = lines_match([old], [("L2", "MUG")])
    assert match.stored_for == [None] and match.unmatched == [old]


def test_lines_the_order_no_longer_has_are_left_unmatched():
    mug, lamp = stored(1, "", "MUG"), stored(2, "", "LAMP")
    match = lines_match([mug, lamp], [("", "MUG"), ("", "CASE")])
    assert match.stored_for == [mug, None] and match.unmatched == [lamp]


def test_sku_pairing_takes_stored_lines_in_their_order():
    first, second = stored(1, "", "MUG"), stored(2, "", "MUG")
    match = lines_match([second, first], [("L7", "MUG")])
    assert match.stored_for == [first] and match.unmatched == [second] and match.adopted_ids == [(1, "L7")]
