"""Reading stock: availability per SKU and the levels at or below reorder."""

from __future__ import annotations

from typing import Any

from apps.inventory.models import Product, StockLevel, Warehouse
from apps.inventory.schemas import LevelOut, LowStockOut
from apps.kit.listing import keyset_page

LOW_STOCK_LIMIT = 1000


async def active_warehouses() -> list[str]:
    return [w.id for w in await Warehouse.find({"active": True}).to_list()]


async def available(skus: list[str]) -> dict[str, int]:
    """Unreserved stock per SKU summed over active warehouses; an unknown or
    inactive SKU has 0."""
    active_products = {
        p.id for p in await Product.find({"_id": {"$in": skus}, "active": True}).to_list()
    }
    totals = dict.fromkeys(skus, 0)
    levels = StockLevel.get_pymongo_collection().find(
        {
            "sku": {"$in": sorted(active_products)},
            "warehouse_code": {"$in": await active_warehouses()},
        }
    )
    async for level in levels:
        totals[level["sku"]] += max(0, level["on_hand"] - level["reserved"])
    return totals


async def low_stock(warehouse_code: str | None) -> list[LowStockOut]:
    """Active products in active warehouses (or the one named) whose available
    stock is at or below the product's reorder point, lowest first, at most
    LOW_STOCK_LIMIT."""
    products = {p.id: p for p in await Product.find({"active": True}).to_list()}
    warehouses = await active_warehouses()
    if warehouse_code is not None:
        warehouses = [w for w in warehouses if w == warehouse_code]
    found = []
    async for level in StockLevel.get_pymongo_collection().find(
        {"warehouse_code": {"$in": warehouses}}
    ):
        product = products.get(level["sku"])
        if product is not None and level["on_hand"] - level["reserved"] <= product.reorder_point:
            found.append(
                LowStockOut.model_validate(
                    {
                        **LevelOut.of(level).model_dump(),
                        "name": product.name,
                        "reorder_point": product.reorder_point,
                        "reorder_quantity": product.reorder_quantity,
                    }
                )
            )
    found.sort(key=lambda item: (item.available - item.reorder_point, item.sku))
    return found[:LOW_STOCK_LIMIT]


async def level_page(
    skus: list[str] | None, warehouse_code: str | None, limit: int, cursor: str | None
) -> tuple[list[StockLevel], str | None]:
    """Levels of these SKUs (all without), in one warehouse (all without)."""
    query: dict[str, Any] = {}
    if skus is not None:
        query["sku"] = {"$in": skus}
    if warehouse_code is not None:
        query["warehouse_code"] = warehouse_code
    return await keyset_page(StockLevel, query, limit, cursor)
