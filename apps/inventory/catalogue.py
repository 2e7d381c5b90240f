"""The catalogue: adding and changing products, each change with its event
(product.created, product.updated) in one transaction."""

from __future__ import annotations

import re
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from apps.inventory.models import Category, Product
from apps.inventory.schemas import ProductCreate, ProductOut
from apps.inventory.stock import SOURCE
from apps.kit.app import AppKit
from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404
from apps.kit.listing import keyset_page
from apps.kit.outbox import record
from apps.kit.problems import Conflict, NotFound


async def save_product(
    kit: AppKit, new: Product | None, sku: str, changes: dict[str, Any]
) -> Product:
    """Insert `new` (product.created) or apply `changes` (product.updated), with
    the event, in one transaction."""

    async def transaction(session: AsyncClientSession) -> Product:
        if new is not None:
            product = await new.insert(session=session)
            event_type = "product.created"
        else:
            updated = await Product.get_pymongo_collection().find_one_and_update(
                {"_id": sku},
                {"$set": {**changes, "updated_at": utcnow()}},
                session=session,
                return_document=ReturnDocument.AFTER,
            )
            if updated is None:
                raise NotFound(f"No product {sku}.")
            product = Product.model_validate(updated)
            event_type = "product.updated"
        await record(session, SOURCE, event_type, ProductOut.of(product).model_dump(mode="json"))
        return product

    return await kit.database.in_transaction(transaction)


async def create_product(kit: AppKit, body: ProductCreate) -> Product:
    product = Product(id=body.sku, **body.model_dump(exclude={"sku"}))
    try:
        return await save_product(kit, product, body.sku, {})
    except DuplicateKeyError:
        raise Conflict(f"Product {body.sku} exists.", slug="product-exists") from None


async def product_or_404(sku: str) -> Product:
    return await get_or_404(Product, sku.strip().upper(), "product")


async def update_product(kit: AppKit, sku: str, changes: dict[str, Any]) -> Product:
    """Apply `changes` (JSON values of the product's fields); none, no event."""
    product = await product_or_404(sku)
    if not changes:
        return product
    return await save_product(kit, None, product.id, changes)


async def deactivate_product(kit: AppKit, sku: str) -> Product:
    product = await product_or_404(sku)
    if not product.active:
        return product
    return await save_product(kit, None, product.id, {"active": False})


async def product_page(
    skus: list[str] | None,
    category: Category | None,
    active: bool | None,
    text: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Product], str | None]:
    """Products matching every filter given; `text` is part of a name or SKU."""
    query: dict[str, Any] = {}
    if skus is not None:
        query["$and"] = [{"_id": {"$in": skus}}]  # keyset_page owns the top-level _id
    if category is not None:
        query["category"] = category.value
    if active is not None:
        query["active"] = active
    if text:
        pattern = re.escape(text.strip())
        query["$or"] = [
            {"name": {"$regex": pattern, "$options": "i"}},
            {"_id": {"$regex": pattern, "$options": "i"}},
        ]
    return await keyset_page(Product, query, limit, cursor)
