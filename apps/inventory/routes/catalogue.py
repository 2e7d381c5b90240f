"""The catalogue: products with prices, GST and reorder rules (admin edits)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from apps.inventory import catalogue
from apps.inventory.access import Admin, CatalogReader
from apps.inventory.models import Category
from apps.inventory.schemas import ProductCreate, ProductOut, ProductUpdate
from apps.kit.app import Kit
from apps.kit.openapi import problems
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import BadRequest, Conflict
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


@router.post(
    "",
    response_model=ProductOut,
    status_code=201,
    responses=problems(Conflict("Product MAT-ORTHO-Q exists.", slug="product-exists")),
    summary="Add a product",
)
async def create_product(body: ProductCreate, _: Admin, kit: Kit) -> ProductOut:
    return ProductOut.of(await catalogue.create_product(kit, body))


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
    products, next_cursor = await catalogue.product_page(
        sku_list(sku), category, active, q, limit, cursor
    )
    return Page[ProductOut](items=[ProductOut.of(p) for p in products], next_cursor=next_cursor)


@router.get("/{sku}", response_model=ProductOut, summary="Read a product")
async def read_product(sku: SkuPath, _: CatalogReader) -> ProductOut:
    return ProductOut.of(await catalogue.product_or_404(sku))


@router.patch("/{sku}", response_model=ProductOut, summary="Change a product")
async def update_product(sku: SkuPath, body: ProductUpdate, _: Admin, kit: Kit) -> ProductOut:
    changes = body.model_dump(exclude_unset=True, mode="json")
    return ProductOut.of(await catalogue.update_product(kit, sku, changes))


@router.post("/{sku}/deactivate", response_model=ProductOut, summary="Deactivate a product")
async def deactivate_product(sku: SkuPath, _: Admin, kit: Kit) -> ProductOut:
    return ProductOut.of(await catalogue.deactivate_product(kit, sku))
