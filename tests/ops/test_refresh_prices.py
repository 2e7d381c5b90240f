"""cost refresh-prices: Price List API answers (recorded pages, Stubber) land in the table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from glosleep_ops.prices import load, path_for, save
from glosleep_ops.refresh import first_price, product_filters, refresh


# One get_products PriceList entry, in the shape the API returns (a JSON string per product).
def product(usd_by_begin: dict[str, str], unit: str = "Hrs") -> str:
    dimensions = {
        f"SKU.JRTCKXETXF.{i}": {
            "unit": unit,
            "beginRange": begin,
            "endRange": "Inf",
            "pricePerUnit": {"USD": usd},
            "description": "recorded",
        }
        for i, (begin, usd) in enumerate(usd_by_begin.items())
    }
    return json.dumps(
        {
            "product": {"productFamily": "x", "attributes": {"regionCode": "ap-south-1"}},
            "serviceCode": "AmazonEC2",
            "terms": {"OnDemand": {"SKU.JRTCKXETXF": {"priceDimensions": dimensions}}},
        }
    )


def test_first_price_takes_the_lowest_non_zero_tier() -> None:
    assert first_price([product({"0": "0.0000000000", "1": "0.1093", "10240": "0.085"})]) == 0.1093
    assert first_price([]) is None


def test_refresh_writes_what_the_api_answered_and_keeps_the_rest(tmp_path: Path) -> None:
    table = load(path_for("ap-south-1"))
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )  # never sent: the Stubber answers
    stub = Stubber(client)
    filters = product_filters("ap-south-1", set(table.prices.ec2_instance_hour))
    answers: dict[str, float] = {}
    for index, (key, (service, fields)) in enumerate(filters.items()):
        expected: dict[str, Any] = {
            "ServiceCode": service,
            "MaxResults": 100,
            "Filters": [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in fields.items()],
        }
        if "regionCode" not in fields:
            expected["Filters"].append(
                {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "ap-south-1"}
            )
        if key == "kms_key_month":
            stub.add_response(
                "get_products", {"PriceList": [], "FormatVersion": "aws_v1"}, expected
            )
            continue
        price = round(0.5 + index / 100, 4)
        answers[key] = price
        if key == "ec2_instance_hour.m6i.large":
            # Two pages: the price is on the second.
            stub.add_response(
                "get_products",
                {"PriceList": [], "NextToken": "page-2", "FormatVersion": "aws_v1"},
                expected,
            )
            stub.add_response(
                "get_products",
                {"PriceList": [product({"0": str(price)})], "FormatVersion": "aws_v1"},
                {**expected, "NextToken": "page-2"},
            )
            continue
        stub.add_response(
            "get_products",
            {"PriceList": [product({"0": str(price)})], "FormatVersion": "aws_v1"},
            expected,
        )
    with stub:
        updated, missing = refresh(table, client, [])
    stub.assert_no_pending_responses()

    assert missing == ["kms_key_month"]
    assert updated.prices.kms_key_month == table.prices.kms_key_month
    assert updated.prices.ec2_instance_hour["m6i.large"] == answers["ec2_instance_hour.m6i.large"]
    assert updated.prices.ebs_gb_month["gp3"] == answers["ebs_gb_month.gp3"]
    assert updated.prices.eks_cluster_hour == answers["eks_cluster_hour"]
    assert "Price List API" in updated.source
    assert "kms_key_month" in updated.source
    target = tmp_path / "ap-south-1.json"
    save(updated, target)
    assert load(target) == updated


def test_an_unknown_region_is_refused() -> None:
    with pytest.raises(Exception, match="no usage-type prefix"):
        product_filters("xx-nowhere-1", [])
