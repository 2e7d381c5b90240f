"""Reading one document by id and adding a new one, the same way in every service."""

from __future__ import annotations

from collections.abc import Mapping
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
    a newer one, whatever order they arrive in."""
    await collection.update_one({"_id": key, **not_newer}, {"$set": fields}, session=session)
    await collection.update_one(
        {"_id": key}, {"$setOnInsert": fields}, upsert=True, session=session
    )
