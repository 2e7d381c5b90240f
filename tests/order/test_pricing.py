"""Order amounts through the real HTTP path: GST per line rounded half up at the
paisa (the kit's money rule, the same as procurement's)."""

from __future__ import annotations

from tests.support.shop import Shop


def test_gst_is_rounded_half_up_per_line(shop: Shop) -> None:
    # 2 % of 25 paise is 0.5 (banker's rounding and truncation give 0); 2 % of 75 is
    # 1.5 (truncation gives 1); 18 % of 25 is 4.5 (banker's gives 4).
    half, one_and_half, four_and_half = (
        shop.product(10, price=25, gst=200),
        shop.product(10, price=75, gst=200),
        shop.product(10, price=25, gst=1800),
    )
    distributor = shop.distributor()
    placed = shop.place(
        shop.as_distributor(distributor), [(half, 1), (one_and_half, 1), (four_and_half, 1)]
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert [line["line_tax_paise"] for line in order["lines"]] == [1, 2, 5]
    assert order["tax_paise"] == 8
    assert order["total_paise"] == 25 + 75 + 25 + 8
