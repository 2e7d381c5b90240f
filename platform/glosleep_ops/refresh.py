"""Refresh the price table from the AWS Price List API (boto3 ``pricing`` get_products).

Each price-table key maps to one product filter; the first non-zero on-demand price
dimension (lowest tier) is taken. Keys the API does not answer keep their old value
and are reported, so a refresh never silently zeroes a price.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from glosleep_ops.prices import PriceTable
from glosleep_ops.resources import OpsError

# Usage-type prefixes the Price List uses per region (only the regions we price).
USAGE_PREFIX = {"ap-south-1": "APS3", "ap-south-2": "APS5", "us-east-1": "USE1"}
# The Price List API answers from us-east-1 (also ap-south-1, eu-central-1).
PRICING_REGION = "us-east-1"


def _usage(service: str, usage: str) -> tuple[str, dict[str, str]]:
    return service, {"usagetype": usage}


def product_filters(
    region: str, instance_types: Iterable[str]
) -> dict[str, tuple[str, dict[str, str]]]:
    """Price-table key -> (ServiceCode, {field: value}) for get_products."""
    if region not in USAGE_PREFIX:
        raise OpsError(f"no usage-type prefix known for {region}; add it to USAGE_PREFIX")
    u = USAGE_PREFIX[region]
    filters: dict[str, tuple[str, dict[str, str]]] = {
        "eks_cluster_hour": _usage("AmazonEKS", f"{u}-AmazonEKS-Hours:perCluster"),
        "nat_gateway_hour": _usage("AmazonEC2", f"{u}-NatGateway-Hours"),
        "nat_gateway_gb": _usage("AmazonEC2", f"{u}-NatGateway-Bytes"),
        "public_ipv4_hour": _usage("AmazonVPC", f"{u}-PublicIPv4:InUseAddress"),
        "nlb_hour": _usage("AWSELB", f"{u}-LoadBalancerUsage"),
        "nlb_lcu_hour": _usage("AWSELB", f"{u}-LCUUsage"),
        "alb_hour": (
            "AWSELB",
            {"usagetype": f"{u}-LoadBalancerUsage", "productFamily": "Load Balancer-Application"},
        ),
        "alb_lcu_hour": (
            "AWSELB",
            {"usagetype": f"{u}-LCUUsage", "productFamily": "Load Balancer-Application"},
        ),
        "ecr_storage_gb_month": _usage("AmazonECR", f"{u}-TimedStorage-ByteHrs"),
        "kms_key_month": _usage("awskms", f"{u}-KMS-Keys"),
        "cloudwatch_logs_ingest_gb": _usage("AmazonCloudWatch", f"{u}-DataProcessing-Bytes"),
        "cloudwatch_logs_storage_gb_month": _usage("AmazonCloudWatch", f"{u}-TimedStorage-ByteHrs"),
        "s3_standard_gb_month": _usage("AmazonS3", f"{u}-TimedStorage-ByteHrs"),
        "data_transfer_out_gb": _usage("AWSDataTransfer", f"{u}-DataTransfer-Out-Bytes"),
    }
    for name in ("nlb_hour", "nlb_lcu_hour"):
        service, fields = filters[name]
        filters[name] = (service, {**fields, "productFamily": "Load Balancer-Network"})
    for volume in ("gp3", "gp2"):
        filters[f"ebs_gb_month.{volume}"] = (
            "AmazonEC2",
            {"regionCode": region, "productFamily": "Storage", "volumeApiName": volume},
        )
    for itype in sorted(set(instance_types)):
        filters[f"ec2_instance_hour.{itype}"] = (
            "AmazonEC2",
            {
                "regionCode": region,
                "instanceType": itype,
                "operatingSystem": "Linux",
                "tenancy": "Shared",
                "preInstalledSw": "NA",
                "capacitystatus": "Used",
            },
        )
    return filters


def first_price(price_list: Iterable[str]) -> float | None:
    """The lowest-tier non-zero USD on-demand price in get_products' PriceList entries."""
    best: tuple[float, float] | None = None
    for raw in price_list:
        product: dict[str, Any] = json.loads(raw)
        for term in (product.get("terms", {}).get("OnDemand") or {}).values():
            for dimension in (term.get("priceDimensions") or {}).values():
                usd = float(dimension.get("pricePerUnit", {}).get("USD", "0") or 0)
                begin = float(dimension.get("beginRange", "0") or 0)
                if usd > 0 and (best is None or begin < best[0]):
                    best = (begin, usd)
    return None if best is None else best[1]


def refresh(
    table: PriceTable, client: Any, instance_types: Iterable[str]
) -> tuple[PriceTable, list[str]]:
    """A new table with every price the API answered; and the keys it did not."""
    data = table.model_dump()
    missing: list[str] = []
    wanted = set(table.prices.ec2_instance_hour) | set(instance_types)
    for key, (service, fields) in product_filters(table.region, wanted).items():
        filters = [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in fields.items()]
        if "regionCode" not in fields:
            filters.append({"Type": "TERM_MATCH", "Field": "regionCode", "Value": table.region})
        price_list: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"ServiceCode": service, "Filters": filters, "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            page = client.get_products(**kwargs)
            price_list += page.get("PriceList", [])
            token = page.get("NextToken")
            if not token:
                break
        price = first_price(price_list)
        if price is None:
            missing.append(key)
            continue
        section, _, sub = key.partition(".")
        if sub:
            data["prices"][section][sub] = price
        else:
            data["prices"][section] = price
    data["price_date"] = datetime.now(UTC).date().isoformat()
    data["source"] = (
        f"AWS Price List API (get_products, {PRICING_REGION} endpoint), on-demand, "
        f"region {table.region}, refreshed {data['price_date']} by glosleep-ops"
        + (f"; kept from before: {', '.join(missing)}" if missing else "")
    )
    return PriceTable.model_validate(data), missing
