"""Purchase-order amounts use the kit's money rule, the same as orders: GST per line
rounded half up at the paisa."""

from __future__ import annotations

from tests.procurement.support import create_po, create_supplier, supplier_body
from tests.support.platform import Platform


def _supplier(platform: Platform, cost: int, gst: int) -> tuple[str, str]:
    item = "PU_FOAM"
    supply = {"item_type": "material", "item": item, "unit_cost_paise": cost, "gst_rate_bps": gst}
    return create_supplier(platform, supplier_body([supply]))["id"], item


def test_gst_is_rounded_half_up_per_line(procurement_platform: Platform) -> None:
    supplier_id, item = _supplier(procurement_platform, 25, 200)
    po = create_po(
        procurement_platform,
        supplier_id,
        [{"item_type": "material", "item": item, "quantity": 1}],
    )
    assert po["lines"][0]["line_tax_paise"] == 1  # 0.5 paise: banker's and truncation give 0
    po = create_po(
        procurement_platform,
        supplier_id,
        [{"item_type": "material", "item": item, "quantity": 3}],
    )
    assert po["lines"][0]["line_tax_paise"] == 2  # 1.5 paise: truncation gives 1
    assert po["total_paise"] == 75 + 2
