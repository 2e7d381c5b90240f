"""The price table in the repo: one JSON file per region, with its date, source and gaps."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from glosleep_ops.resources import OpsError

PRICES_DIR = Path(__file__).parent / "prices"
DEFAULT_REGION = "ap-south-1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Prices(_Model):
    eks_cluster_hour: float = Field(ge=0)
    ec2_instance_hour: dict[str, float]
    nat_gateway_hour: float = Field(ge=0)
    nat_gateway_gb: float = Field(ge=0)
    public_ipv4_hour: float = Field(ge=0)
    nlb_hour: float = Field(ge=0)
    nlb_lcu_hour: float = Field(ge=0)
    alb_hour: float = Field(ge=0)
    alb_lcu_hour: float = Field(ge=0)
    ebs_gb_month: dict[str, float]
    ecr_storage_gb_month: float = Field(ge=0)
    kms_key_month: float = Field(ge=0)
    cloudwatch_logs_ingest_gb: float = Field(ge=0)
    cloudwatch_logs_storage_gb_month: float = Field(ge=0)
    s3_standard_gb_month: float = Field(ge=0)
    data_transfer_out_gb: float = Field(ge=0)


class Assumptions(_Model):
    nat_processed_gb_month: float = Field(ge=0)
    internet_egress_gb_month: float = Field(ge=0)
    load_balancer_lcu: float = Field(ge=0)
    log_ingest_gb_month_per_group: float = Field(ge=0)
    ecr_image_gb: float = Field(ge=0)
    ecr_images_kept_default: int = Field(ge=0)
    s3_exports_gb: float = Field(ge=0)


class PriceTable(_Model):
    region: str
    location: str
    currency: str
    price_date: str
    source: str
    hours_per_month: float = Field(gt=0)
    leaves_out: list[str]
    prices: Prices
    assumptions: Assumptions


def path_for(region: str) -> Path:
    return PRICES_DIR / f"{region}.json"


def load(path: Path) -> PriceTable:
    try:
        return PriceTable.model_validate(json.loads(path.read_text()))
    except FileNotFoundError as error:
        raise OpsError(f"no price table at {path}") from error
    except (ValueError, ValidationError) as error:
        raise OpsError(f"bad price table {path}: {error}") from error


def save(table: PriceTable, path: Path) -> None:
    path.write_text(json.dumps(table.model_dump(), indent=2) + "\n")
