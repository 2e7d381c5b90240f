"""Reading one document by id and adding a new one, the same way in every service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from beanie import Document
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from apps.kit.problems import Conflict, NotFound

DocumentT = TypeVar("DocumentT", bound=Document)


class KeyedDocument(Document):
    """A document whose `_id` is a string: a natural key (a SKU, a client id, an
    event id) or a `new_id(...)`. Every service's documents are keyed this way."""

    id: str  # type: ignore[assignment]  # Beanie declares `id` as an optional ObjectId


def stored_form(document: KeyedDocument) -> dict[str, Any]:
    """The document as Beanie's insert stores it: the services' models hold only
    BSON-ready values (str, numbers, datetimes, str enums, nested models, lists,
    dicts), which Beanie's encoder passes through unchanged
    (`tests/kit/test_documents.py` checks the hot models against it)."""
    body: dict[str, Any] = document.model_dump()
    body["_id"] = body.pop("id")
    return body


async def insert_fast(document: KeyedDocument, session: AsyncClientSession | None = None) -> None:
    """Insert `document` without Beanie's per-insert machinery (its encoder walks
    every value in Python, a fifth of the order path's service CPU): for models
    with no Beanie actions, revisions or links, on hot paths."""
    await type(document).get_pymongo_collection().insert_one(stored_form(document), session=session)


async def insert_many_fast(
    documents: Sequence[KeyedDocument], session: AsyncClientSession | None = None
) -> None:
    """`insert_fast` for several documents of one model, in one command."""
    if documents:
        await (
            type(documents[0])
            .get_pymongo_collection()
            .insert_many([stored_form(document) for document in documents], session=session)
        )


# Longer than any id the services issue: such a path value is not looked up at all.
MAX_ID_LENGTH = 128


async def get_or_404(
    document_type: type[DocumentT],
    document_id: str,
    what: str,
    *,
    session: AsyncClientSession | None = None,
) -> DocumentT:
    """The document with this id, or a 404 problem naming `what` it was."""
    found = (
        await document_type.get(document_id, session=session)
        if len(document_id) <= MAX_ID_LENGTH
        else None
    )
    if found is None:
        raise NotFound(f"No {what} {document_id}.")
    return found


async def insert_new(document: DocumentT, taken: Conflict) -> DocumentT:
    """Insert `document`; the 409 `taken` when its id or another unique key is
    already used."""
    try:
        await document.insert()
    except DuplicateKeyError:
        raise taken from None
    return document


async def set_unless_newer(
    collection: AsyncCollection[Any],
    key: str,
    not_newer: Mapping[str, Any],
    fields: Mapping[str, Any],
    session: AsyncClientSession | None,
) -> None:
    """Set `fields` on the document `key` where `not_newer` holds (the stored values
    are not newer than these), or insert it with them: an older write never replaces
    a newer one, whatever order they arrive in. One write when the document exists
    and is not newer (the usual case); the insert is tried only when none matched."""
    updated = await collection.update_one(
        {"_id": key, **not_newer}, {"$set": fields}, session=session
    )
    if updated.matched_count == 0:  # no such document, or a newer one
        await collection.update_one(
            {"_id": key}, {"$setOnInsert": fields}, upsert=True, session=session
        )
