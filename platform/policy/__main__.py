"""GloSleep's policy pack: `pulumi preview --policy-pack platform/policy` (docs/deploy.md).

The rules live in glosleep_platform.policy_rules (stdlib only) so the tests can
run them without the engine; this file only adapts them to pulumi-policy.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from glosleep_platform.policy_rules import RULES, Rule


def _policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for problem in rule.check(args.resource_type, args.props):
            report_violation(problem, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=(
            EnforcementLevel.ADVISORY
            if rule.enforcement == "advisory"
            else EnforcementLevel.MANDATORY
        ),
    )


PolicyPack(name="glosleep", policies=[_policy(rule) for rule in RULES])
