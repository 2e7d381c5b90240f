from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo import MongoClient

from tests.support.queries import Document


@pytest.fixture(scope="module")
def client(mongo_url: str) -> Iterator[MongoClient[Document]]:
    connection: MongoClient[Document]
    with MongoClient(mongo_url) as connection:
        yield connection
