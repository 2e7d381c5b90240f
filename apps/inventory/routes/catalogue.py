"""The catalogue: products with prices, GST and reorder rules (admin edits)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from apps.inventory.access import Admin, CatalogReader
from apps.inventory.models import Category, Product
from apps.inventory.schemas import ProductCreate, ProductOut, ProductUpdate
from apps.inventory.stock import SOURCE
from apps.kit.app import AppKit, Kit
from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404
from apps.kit.listing import keyset_page
from apps.kit.openapi import problems
from apps.kit.outbox import record
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import BadRequest, Conflict, NotFound
from apps.kit.schemas import Sku

router = APIRouter(prefix="/v1/products", tags=["catalogue"])

SkuPath = Annotated[str, Path(max_length=64)]
MAX_SKUS_PER_QUERY = 100


def sku_list(skus: list[str] | None) -> list[str] | None:
    if skus is None:
        return None
    if len(skus) > MAX_SKUS_PER_QUERY:
        raise BadRequest(f"Ask for at most {MAX_SKUS_PER_QUERY} SKUs at once.")
    return sorted({sku.strip().upper() for sku in skus})


SkuQuery = Annotated[list[Sku] | None, Query(description="Only these SKUs (repeat the parameter).")]


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


@router.post(
    "",
    response_model=ProductOut,
    status_code=201,
    responses=problems(Conflict("Product MAT-ORTHO-Q exists.", slug="product-exists")),
    summary="Add a product",
)
async def create_product(body: ProductCreate, _: Admin, kit: Kit) -> ProductOut:
    product = Product(id=body.sku, **body.model_dump(exclude={"sku"}))
    try:
        saved = await save_product(kit, product, body.sku, {})
    except DuplicateKeyError:
        raise Conflict(f"Product {body.sku} exists.", slug="product-exists") from None
    return ProductOut.of(saved)


@router.get(
    "",
    response_model=Page[ProductOut],
    responses=problems(BadRequest("Ask for at most 100 SKUs at once.")),
    summary="List and search the catalogue",
)
async def list_products(
    _: CatalogReader,
    sku: SkuQuery = None,
    category: Category | None = None,
    active: bool | None = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Part of a name or SKU.")
    ] = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> Page[ProductOut]:
    query: dict[str, Any] = {}
    skus = sku_list(sku)
    if skus is not None:
        query["$and"] = [{"_id": {"$in": skus}}]  # keyset_page owns the top-level _id
    if category is not None:
        query["category"] = category.value
    if active is not None:
        query["active"] = active
    if q:
        pattern = re.escape(q.strip())
        query["$or"] = [
            {"name": {"$regex": pattern, "$options": "i"}},
            {"_id": {"$regex": pattern, "$options": "i"}},
        ]
    products, next_cursor = await keyset_page(Product, query, limit, cursor)
    return Page[ProductOut](items=[ProductOut.of(p) for p in products], next_cursor=next_cursor)


async def _product(sku: str) -> Product:
    return await get_or_404(Product, sku.strip().upper(), "product")


@router.get("/{sku}", response_model=ProductOut, summary="Read a product")
async def read_product(sku: SkuPath, _: CatalogReader) -> ProductOut:
    return ProductOut.of(await _product(sku))


@router.patch("/{sku}", response_model=ProductOut, summary="Change a product")
async def update_product(sku: SkuPath, body: ProductUpdate, _: Admin, kit: Kit) -> ProductOut:
    product = await _product(sku)
    changes = body.model_dump(exclude_unset=True, mode="json")
    if not changes:
        return ProductOut.of(product)
    return ProductOut.of(await save_product(kit, None, product.id, changes))


@router.post("/{sku}/deactivate", response_model=ProductOut, summary="Deactivate a product")
async def deactivate_product(sku: SkuPath, _: Admin, kit: Kit) -> ProductOut:
    product = await _product(sku)
    if not product.active:
        return ProductOut.of(product)
    return ProductOut.of(await save_product(kit, None, product.id, {"active": False}))
