"""Dev-mode demo data: a GloSleep catalogue, two warehouses and opening stock.

Idempotent: products and warehouses are created only when missing, and the
opening stock is a goods receipt per warehouse with a fixed receipt id, so a
restart replays it instead of adding stock again. Stock enters through the
ledger like any other receipt, so the ledger sums to on_hand from the start."""

from __future__ import annotations

import logging

from pymongo.errors import DuplicateKeyError

from apps.inventory.catalogue import save_product
from apps.inventory.models import Category, Product, Warehouse
from apps.inventory.operations import apply_receipt
from apps.inventory.schemas import ReceiptLine, ReceiptRequest
from apps.kit.app import AppKit

log = logging.getLogger("glosleep.inventory.seed")

GST_GOODS_BPS = 1800  # mattresses, pillows, foam, foam materials, springs
GST_FABRIC_BPS = 500  # woven and quilted fabric

SIZES = {  # size: (dimensions, price factor %)
    "single": ("72x36 in", 60),
    "double": ("72x48 in", 80),
    "queen": ("78x60 in", 100),
    "king": ("78x72 in", 120),
}
MATTRESSES = [  # code, name, queen price (INR), attributes
    ("MF6", "Memory Foam 6-inch", 18_999, {"comfort": "medium-soft", "thickness_in": "6"}),
    ("MF8", "Memory Foam 8-inch", 24_999, {"comfort": "medium", "thickness_in": "8"}),
    ("SP", "Pocket Spring", 21_999, {"comfort": "medium-firm", "thickness_in": "8"}),
    ("OR", "Orthopaedic", 27_999, {"comfort": "firm", "thickness_in": "8"}),
]
OTHERS: list[tuple[str, str, Category, str | None, int, int, dict[str, str]]] = [
    # sku, name, category, size, price (paise), GST (bps), attributes
    ("PIL-MF-STD", "Memory Foam Pillow", Category.PILLOW, "standard", 149_900, 1800, {}),
    ("PIL-FIB-STD", "Microfibre Pillow", Category.PILLOW, "standard", 69_900, 1800, {}),
    ("PIL-CON-STD", "Contour Orthopaedic Pillow", Category.PILLOW, "standard", 199_900, 1800, {}),
    ("PIL-MF-KID", "Memory Foam Kids Pillow", Category.PILLOW, "kids", 99_900, 1800, {}),
    ("FOM-PU-25", "PU Foam Sheet 25 mm", Category.FOAM, "78x72 in", 189_900, 1800, {}),
    ("FOM-PU-50", "PU Foam Sheet 50 mm", Category.FOAM, "78x72 in", 349_900, 1800, {}),
    ("FOM-HR-50", "HR Foam Sheet 50 mm", Category.FOAM, "78x72 in", 449_900, 1800, {}),
    ("FOM-MF-25", "Memory Foam Topper 25 mm", Category.FOAM, "78x60 in", 399_900, 1800, {}),
    ("FOM-EPE-10", "EPE Foam Sheet 10 mm", Category.FOAM, "78x72 in", 49_900, 1800, {}),
    ("MAT-PU-BLK", "PU Foam Block (32 density)", Category.MATERIAL, "per kg", 28_000, 1800, {}),
    ("MAT-EPE-ROL", "EPE Foam Roll 5 mm", Category.MATERIAL, "per metre", 6_500, 1800, {}),
    ("MAT-FAB-KNT", "Knitted Mattress Fabric", Category.MATERIAL, "per metre", 32_000, 500, {}),
    ("MAT-FAB-QLT", "Quilted Border Fabric", Category.MATERIAL, "per metre", 24_000, 500, {}),
    ("MAT-SPR-PKT", "Pocket Spring Unit (queen)", Category.MATERIAL, "78x60 in", 420_000, 1800, {}),
    (
        "MAT-SPR-BON",
        "Bonnell Spring Unit (queen)",
        Category.MATERIAL,
        "78x60 in",
        260_000,
        1800,
        {},
    ),
    ("MAT-ZIP-ROL", "Mattress Zipper Roll", Category.MATERIAL, "per metre", 1_800, 1800, {}),
]
REORDER = {  # category: (reorder point, reorder quantity)
    Category.MATTRESS: (10, 40),
    Category.PILLOW: (30, 120),
    Category.FOAM: (20, 80),
    Category.MATERIAL: (50, 250),
}
WAREHOUSES = [
    ("BLR-01", "Bengaluru main warehouse", "Plot 14, Peenya Industrial Area, Bengaluru 560058"),
    ("PUN-01", "Pune warehouse", "Gat 221, Chakan MIDC Phase II, Pune 410501"),
]


def demo_products() -> list[Product]:
    products = []
    for code, name, queen_rupees, attributes in MATTRESSES:
        for size, (dimensions, factor) in SIZES.items():
            rupees = queen_rupees * factor // 100 // 100 * 100 - 1
            products.append(
                Product(
                    id=f"MTR-{code}-{size[0].upper()}",
                    name=f"{name} Mattress, {size.title()}",
                    category=Category.MATTRESS,
                    size=size,
                    attributes={**attributes, "dimensions": dimensions},
                    unit_price_paise=rupees * 100,
                    gst_rate_bps=GST_GOODS_BPS,
                    reorder_point=REORDER[Category.MATTRESS][0],
                    reorder_quantity=REORDER[Category.MATTRESS][1],
                )
            )
    for sku, name, category, other_size, paise, gst, attributes in OTHERS:
        products.append(
            Product(
                id=sku,
                name=name,
                category=category,
                size=other_size,
                attributes=attributes,
                unit_price_paise=paise,
                gst_rate_bps=gst,
                reorder_point=REORDER[category][0],
                reorder_quantity=REORDER[category][1],
            )
        )
    return products


def opening_stock(products: list[Product], warehouse_index: int) -> list[ReceiptLine]:
    """Plenty in Bengaluru, less in Pune; every fifth SKU is short in Pune, so
    the low-stock view has something to show."""
    lines = []
    for index, product in enumerate(products):
        point = product.reorder_point
        if warehouse_index == 0:
            quantity = 3 * point + index % 7
        else:
            quantity = max(1, point - 3) if index % 5 == 0 else 2 * point + index % 5
        cost = product.unit_price_paise * 55 // 100
        lines.append(ReceiptLine(sku=product.id, quantity=quantity, unit_cost_paise=cost))
    return lines


async def demo_catalogue(kit: AppKit) -> None:
    if not kit.settings.dev_mode:
        return
    for code, name, address in WAREHOUSES:
        if await Warehouse.get(code) is None:
            try:
                await Warehouse(id=code, name=name, address=address).insert()
            except DuplicateKeyError:
                continue  # another replica created it first
    products = demo_products()
    for product in products:
        if await Product.get(product.id) is None:
            try:
                await save_product(kit, product, product.id, {})
            except DuplicateKeyError:
                continue
    for index, (code, _, _) in enumerate(WAREHOUSES):
        receipt = ReceiptRequest(
            warehouse_code=code,
            reference="Opening stock (demo)",
            lines=opening_stock(products, index),
        )
        await apply_receipt(kit, f"demo-opening-{code}", receipt, "system:seed")
    log.info("demo catalogue ready", extra={"products": len(products)})


# What the kit runs at start in dev mode (apps/kit/app.py, DEMO_PACKAGE).
seed = demo_catalogue
