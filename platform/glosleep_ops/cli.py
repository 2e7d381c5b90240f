"""``glosleep-ops``: cost, drift and structural preview reviews for leads.

Exit codes: 0 no change, 10 cost changed, drift found or the preview shows changes, 2 error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from glosleep_ops import EXIT_CHANGED, EXIT_ERROR, EXIT_OK, cost, drift, prices, redact, refresh
from glosleep_ops.resources import (
    REPO_ROOT,
    STACKS,
    OpsError,
    Resource,
    checkout,
    declared,
    from_json,
)
from glosleep_ops.table import money, render, signed


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glosleep-ops",
        description="Cost and drift reviews of the GloSleep Pulumi program "
        "(exit 0: no change, 10: cost changed / drift found, 2: error).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    cost_cmd = commands.add_parser("cost", help="monthly cost estimate of a stack")
    cost_cmd.add_argument("--stack", choices=STACKS, default="eks")
    cost_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cost_cmd.add_argument(
        "--compare-to",
        metavar="REF_OR_PATH",
        help="a git ref (e.g. origin/main) or another checkout to compare with",
    )
    cost_cmd.add_argument("--prices", type=Path, help="price table (default: the stack's region)")
    cost_cmd.add_argument("--resources", type=Path, help=argparse.SUPPRESS)
    cost_cmd.add_argument("--compare-resources", type=Path, help=argparse.SUPPRESS)
    cost_sub = cost_cmd.add_subparsers(dest="action")
    refresh_cmd = cost_sub.add_parser(
        "refresh-prices", help="refresh the table from the AWS Price List API"
    )
    refresh_cmd.add_argument("--region", default=prices.DEFAULT_REGION)
    refresh_cmd.add_argument("--prices", dest="refresh_prices", type=Path)

    drift_cmd = commands.add_parser("drift", help="live AWS resources against the program")
    drift_cmd.add_argument("--stack", choices=["eks"], default="eks")
    drift_cmd.add_argument("--json", action="store_true")
    drift_cmd.add_argument("--region", default=None, help="AWS region (default: the stack's)")
    drift_cmd.add_argument("--resources", type=Path, help=argparse.SUPPRESS)

    preview_cmd = commands.add_parser(
        "preview",
        help="structural diff of a stack against a git ref, as Markdown (no cloud access)",
    )
    preview_cmd.add_argument("--stack", choices=STACKS, required=True)
    preview_cmd.add_argument(
        "--compare-to", required=True, metavar="REF_OR_PATH", help="git ref or checkout"
    )
    preview_cmd.add_argument("--output", type=Path, help="also write the Markdown here")
    preview_cmd.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config value both versions run with (e.g. glosleep:eks.certificateArn=arn:...)",
    )

    redact_cmd = commands.add_parser(
        "redact", help="copy standard input to standard output with secret values masked"
    )
    redact_cmd.add_argument(
        "--values-from",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="more values to mask: JSON (every string in it) or one per line",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "cost" and args.action == "refresh-prices":
            return _refresh(args)
        if args.command == "cost":
            return _cost(args)
        if args.command == "redact":
            return _redact(args)
        if args.command == "preview":
            return _preview(args)
        return _drift(args)
    except OpsError as error:
        print(f"glosleep-ops: {error}", file=sys.stderr)
        return EXIT_ERROR


def _preview(args: Any) -> int:
    from glosleep_ops import preview

    settings = dict(preview.parse_setting(text) for text in args.set)
    code, text = preview.run(args.stack, args.compare_to, settings)
    sys.stdout.write(text)
    if args.output is not None:
        args.output.write_text(text)
    return code


def _redact(args: Any) -> int:
    secrets = redact.environment_secrets(os.environ)
    for path in args.values_from:
        try:
            secrets.extend(redact.values_from_file(path.read_text()))
        except OSError as error:
            raise OpsError(f"cannot read {path}: {error}") from error
    sys.stdout.write(redact.redact(sys.stdin.read(), secrets))
    return EXIT_OK


def _resources(stack: str, dump: Path | None, root: Path = REPO_ROOT) -> list[Resource]:
    if dump is not None:
        try:
            return from_json(json.loads(dump.read_text()))
        except (OSError, ValueError) as error:
            raise OpsError(f"cannot read {dump}: {error}") from error
    return declared(stack, root)


def _region(resources: list[Resource], stack: str, root: Path = REPO_ROOT) -> str:
    import yaml

    config_file = root / f"Pulumi.{stack}.yaml"
    if config_file.is_file():
        config = (yaml.safe_load(config_file.read_text()) or {}).get("config") or {}
        if config.get("aws:region"):
            return str(config["aws:region"])
    return prices.DEFAULT_REGION


def _cost(args: Any) -> int:
    resources = _resources(args.stack, args.resources)
    table = prices.load(args.prices or prices.path_for(_region(resources, args.stack)))
    current = cost.estimate(args.stack, resources, table)
    if not args.compare_to and args.compare_resources is None:
        if args.json:
            print(json.dumps(current.as_dict(), indent=2))
        else:
            print(_cost_text(current, table))
        return EXIT_OK
    if args.compare_resources is not None:
        base_resources = _resources(args.stack, args.compare_resources)
        label = str(args.compare_resources)
    else:
        with checkout(args.compare_to) as other:
            base_resources = declared(args.stack, other)
        label = args.compare_to
    base = cost.estimate(args.stack, base_resources, table)
    lines = cost.diff(base, current)
    changed = any(line.delta for line in lines) or round(current.total - base.total, 2) != 0
    if args.json:
        print(
            json.dumps(
                {
                    "stack": args.stack,
                    "compared_to": label,
                    "currency": current.currency,
                    "price_date": current.price_date,
                    "before_total": base.total,
                    "after_total": current.total,
                    "delta_total": round(current.total - base.total, 2),
                    "changed": changed,
                    "lines": [
                        {"key": d.key, "before": d.before, "after": d.after, "delta": d.delta}
                        for d in lines
                        if d.delta
                    ],
                },
                indent=2,
            )
        )
    else:
        rows = [[d.key, money(d.before), money(d.after), signed(d.delta)] for d in lines if d.delta]
        rows.append(
            [
                "**Total**",
                money(base.total),
                money(current.total),
                signed(current.total - base.total),
            ]
        )
        head = (
            f"Monthly cost change, stack `{args.stack}` ({current.currency}, "
            f"{current.region} prices of {current.price_date}), this version vs `{label}`:"
        )
        print(head + "\n\n" + render(["line", "before", "after", "change"], rows, {1, 2, 3}))
        if not changed:
            print("\nNo change in the estimate.")
    return EXIT_CHANGED if changed else EXIT_OK


def _cost_text(estimate: cost.Estimate, table: prices.PriceTable) -> str:
    rows = [
        [
            line.component,
            line.item,
            line.detail,
            f"{line.quantity:g} {line.unit}",
            f"{line.unit_price:g}",
            line.price_key,
            money(line.monthly),
        ]
        for line in estimate.lines
    ]
    rows.append(["**Total**", "", "", "", "", "", money(estimate.total)])
    out = [
        f"Monthly cost estimate, stack `{estimate.stack}`: {estimate.currency} "
        f"{money(estimate.total)} ({table.location}, {table.region}, prices of {table.price_date})",
        "",
        render(
            ["component", "item", "detail", "quantity", "unit price", "price key", "monthly"],
            rows,
            {4, 6},
        ),
        "",
        f"Prices: {table.source}",
        "Not included: " + "; ".join(table.leaves_out) + ".",
    ]
    out += [f"Note: {note}" for note in estimate.notes]
    return "\n".join(out)


def _refresh(args: Any) -> int:
    import boto3

    path = args.refresh_prices or prices.path_for(args.region)
    table = prices.load(path)
    client = boto3.client("pricing", region_name=refresh.PRICING_REGION)
    try:
        updated, missing = refresh.refresh(table, client, [])
    except Exception as error:  # botocore raises many kinds; all mean "could not refresh"
        raise OpsError(f"the Price List API did not answer: {error}") from error
    prices.save(updated, path)
    changed = updated.prices != table.prices
    print(
        f"{path}: prices of {updated.price_date}"
        + (f"; not answered, kept: {', '.join(missing)}" if missing else "")
    )
    return EXIT_CHANGED if changed else EXIT_OK


def _drift(args: Any) -> int:
    import boto3

    resources = _resources(args.stack, args.resources)
    region = args.region or _region(resources, args.stack)
    tags = drift.selector(resources)
    want, expectations = drift.expected(resources)
    session = boto3.Session(region_name=region)
    try:
        items, balancers, volumes = drift.live(session, tags)
    except Exception as error:  # credentials, permissions, network: all mean "cannot tell"
        raise OpsError(f"cannot list live resources in {region}: {error}") from error
    findings = drift.compare(want, expectations, items, balancers, volumes)
    if args.json:
        print(
            json.dumps(
                {
                    "stack": args.stack,
                    "region": region,
                    "tags": tags,
                    "drift": bool(findings),
                    "findings": [f.as_dict() for f in findings],
                },
                indent=2,
                default=str,
            )
        )
    elif findings:
        rows = [
            [f.status, f.kind, f.key, f.attribute, _show(f.declared), _show(f.live)]
            for f in findings
        ]
        print(
            f"Drift in stack `{args.stack}` ({region}, tags "
            + ", ".join(f"{k}={v}" for k, v in tags.items())
            + "):\n"
        )
        print(render(["status", "kind", "resource", "attribute", "declared", "live"], rows))
    else:
        print(f"No drift in stack `{args.stack}` ({region}): {len(items)} resources checked.")
    return EXIT_CHANGED if findings else EXIT_OK


def _show(value: Any) -> str:
    if value is None:
        return ""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)
