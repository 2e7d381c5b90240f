"""The purchase history page by page, over HTTP against the running services: a
distributor walks its orders with `next_cursor` or the `Link` header, as JSON or
CSV, never reaching another distributor's orders; an export still has them all."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urljoin

import httpx
import pytest

from apps.kit.pagination import decode_cursor, encode_cursor
from apps.kit.problems import problem_slug
from tests.analytics.conftest import EXPORT_BUCKET, aws_client
from tests.support.platform import Platform
from tests.support.problems import assert_problem
from tests.support.shop import Shop
from tests.support.waiting import wait_for

PAGE = 2
OWN_ORDERS, OTHER_ORDERS = 5, 2
URL_PATH = "/v1/reports/purchase-history"
NEXT_LINK = re.compile(r'^<([^>]*)>; rel="next"$')


class History:
    """Two distributors with more orders than a page, as analytics has them."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        shop = Shop(platform)
        sku = shop.product(100)
        self.own, self.other = shop.distributor(), shop.distributor()
        self.orders = {
            distributor: [self._place(shop, distributor, sku) for _ in range(count)]
            for distributor, count in ((self.own, OWN_ORDERS), (self.other, OTHER_ORDERS))
        }
        self.as_own = shop.as_distributor(self.own)
        self.as_other = shop.as_distributor(self.other)
        wait_for(self._caught_up, timeout=30)

    @staticmethod
    def _place(shop: Shop, distributor: str, sku: str) -> str:
        response = shop.place(shop.as_distributor(distributor), [(sku, 1)])
        assert response.status_code in (200, 201, 202), response.text
        return str(response.json()["id"])

    def _caught_up(self) -> bool:
        """Analytics has every order placed (all in the first page, of the default size)."""
        analyst = self.platform.as_role("analyst")
        for distributor, placed in self.orders.items():
            response = self.get(analyst, distributor_id=distributor)
            assert response.status_code == 200, response.text
            if len(response.json()["rows"]) != len(placed):
                return False
        return True

    def get(self, headers: dict[str, str], **params: Any) -> httpx.Response:
        return self.platform.http.get(
            self.platform.url("analytics", URL_PATH), params=params, headers=headers
        )

    def walk(self, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
        """Every page from the first, following `next_cursor`."""
        pages = []
        cursor = None
        while True:
            response = self.get(headers, **params, **({"cursor": cursor} if cursor else {}))
            assert response.status_code == 200, response.text
            pages.append(response.json())
            cursor = pages[-1]["next_cursor"]
            if cursor is None:
                return pages
            assert len(pages) <= OWN_ORDERS, "the pages never end"


def next_link(response: httpx.Response) -> str | None:
    """The `Link: <...>; rel="next"` target, resolved against the request's URL."""
    header = response.headers.get("link")
    if header is None:
        return None
    found = NEXT_LINK.match(header)
    assert found, header
    target: str = found.group(1)
    return urljoin(str(response.url), target)


@pytest.fixture(scope="module")
def history(full_platform: Platform) -> History:
    return History(full_platform)


def _order_ids(pages: list[dict[str, Any]]) -> list[str]:
    return [row["order_id"] for page in pages for row in page["rows"]]


def _next_position(response: httpx.Response) -> str:
    link = next_link(response)
    assert link is not None
    position = decode_cursor(parse_qs(link.partition("?")[2])["cursor"][0])
    assert position is not None
    return str(position["id"])


def test_pages_walk_every_order_once_newest_first(history: History) -> None:
    pages = history.walk(history.as_own, limit=PAGE)
    assert [len(page["rows"]) for page in pages] == [2, 2, 1]
    assert _order_ids(pages) == sorted(history.orders[history.own], reverse=True)
    assert pages[-1]["next_cursor"] is None
    # The filters echo the page size, not the position.
    assert all(page["filters"] == {"distributor_id": history.own, "limit": PAGE} for page in pages)
    whole = history.get(history.as_own, limit=OWN_ORDERS).json()
    assert whole["next_cursor"] is None
    assert [row["order_id"] for row in whole["rows"]] == _order_ids(pages)


def test_the_link_header_names_the_next_page_with_the_same_filters(history: History) -> None:
    today = datetime.now(UTC).date()
    window = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    response = history.get(history.as_own, limit=PAGE, **window)
    first = response.json()
    target = NEXT_LINK.match(response.headers["link"])
    assert target
    # Relative to the URL the client asked for, so it holds behind the gateway's prefix.
    assert target.group(1).startswith("?")
    assert parse_qs(target.group(1)[1:]) == {
        "limit": [str(PAGE)],
        **{name: [day] for name, day in window.items()},
        "cursor": [first["next_cursor"]],
    }
    seen = [row["order_id"] for row in first["rows"]]
    link = next_link(response)
    while link is not None:
        response = history.platform.http.get(link, headers=history.as_own)
        assert response.status_code == 200, response.text
        assert len(parse_qs(link.partition("?")[2])["cursor"]) == 1  # replaced, not added
        seen += [row["order_id"] for row in response.json()["rows"]]
        link = next_link(response)
    assert seen == sorted(history.orders[history.own], reverse=True)
    assert response.json()["next_cursor"] is None


def test_csv_pages_follow_the_link_header(history: History) -> None:
    as_json = history.walk(history.as_own, limit=PAGE)
    answers = []
    link: str | None = history.platform.url("analytics", URL_PATH) + f"?format=csv&limit={PAGE}"
    while link is not None:
        answers.append(history.platform.http.get(link, headers=history.as_own))
        link = next_link(answers[-1])
    assert len(answers) == len(as_json)
    for answer, page in zip(answers, as_json, strict=True):
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert [(r["order_id"], r["number"]) for r in rows] == [
            (r["order_id"], r["number"]) for r in page["rows"]
        ]
    accepted = history.get({**history.as_own, "Accept": "text/csv"}, limit=PAGE)
    assert accepted.headers["content-type"].startswith("text/csv")
    assert accepted.text == answers[0].text
    # The same next position (a first page's cursor also says how far back the page
    # reached, which moves with the clock).
    as_json_again = history.get(history.as_own, limit=PAGE)
    assert _next_position(accepted) == _next_position(as_json_again)


def test_no_cursor_reaches_another_distributors_orders(history: History) -> None:
    """A cursor is only a position: whoever holds one, the route still answers the
    caller's own orders, whatever distributor_id it asks for. (The other distributor
    ordered after this one: the last cursors are positions after all of its orders.)"""
    own_pages = history.walk(history.as_own, limit=1)
    cursors = [page["next_cursor"] for page in own_pages[:-1]]
    cursors += [
        encode_cursor({"id": ""}),
        encode_cursor({"id": history.orders[history.own][0]}),
        encode_cursor({"id": "ord_" + "f" * 32}),  # after every order, far past year 9999
        encode_cursor({"id": "~"}),  # after every id
    ]
    others = sorted(history.orders[history.other], reverse=True)
    for cursor in cursors:
        response = history.get(
            history.as_other, distributor_id=history.own, cursor=cursor, limit=1000
        )
        assert response.status_code == 200, response.text
        listed = [row["order_id"] for row in response.json()["rows"]]
        position = decode_cursor(cursor)
        assert position is not None
        assert listed == [order for order in others if order < position["id"]]
    assert listed == others


@pytest.mark.parametrize(
    ("params", "status", "slug"),
    [
        ({"cursor": "not a cursor!"}, 400, "bad-cursor"),
        ({"cursor": "WzFd"}, 400, "bad-cursor"),  # base64 of [1]: not a position
        ({"cursor": "x" * 600}, 422, "validation"),
        ({"limit": 0}, 422, "validation"),
        ({"limit": 1001}, 422, "validation"),
    ],
)
def test_a_bad_cursor_or_limit_is_a_problem(
    history: History, params: dict[str, Any], status: int, slug: str
) -> None:
    body = assert_problem(history.get(history.as_own, **params), status)
    assert problem_slug(body["type"]) == slug


def _export(history: History, body: dict[str, Any]) -> httpx.Response:
    return history.platform.http.post(
        history.platform.url("analytics", "/v1/exports"),
        json=body,
        headers=history.platform.as_role("analyst"),
    )


def test_an_export_has_every_order_across_pages(history: History, s3_endpoint: str) -> None:
    s3 = aws_client("s3", s3_endpoint)
    own = sorted(history.orders[history.own], reverse=True)
    filters = {"distributor_id": history.own, "limit": PAGE}  # the page size it reads with
    exported = _export(
        history, {"report": "purchase-history", "format": "json", "filters": filters}
    )
    assert exported.status_code == 201, exported.text
    assert exported.json()["rows"] == OWN_ORDERS
    stored = json.loads(
        s3.get_object(Bucket=EXPORT_BUCKET, Key=exported.json()["key"])["Body"].read()
    )
    assert [row["order_id"] for row in stored["rows"]] == own
    assert stored["next_cursor"] is None
    assert stored["filters"] == filters

    as_csv = _export(
        history,
        {"report": "purchase-history", "format": "csv", "filters": {"distributor_id": history.own}},
    )
    assert as_csv.status_code == 201, as_csv.text
    text = s3.get_object(Bucket=EXPORT_BUCKET, Key=as_csv.json()["key"])["Body"].read().decode()
    assert [row["order_id"] for row in csv.DictReader(io.StringIO(text))] == own


def test_an_export_refuses_a_cursor(history: History) -> None:
    """An export is the whole history: a cursor would silently leave out its start."""
    cursor = history.walk(history.as_own, limit=PAGE)[0]["next_cursor"]
    refused = _export(
        history,
        {
            "report": "purchase-history",
            "filters": {"distributor_id": history.own, "cursor": cursor},
        },
    )
    body = assert_problem(refused, 422)
    assert problem_slug(body["type"]) == "validation"
    assert "cursor" in json.dumps(body["errors"])
