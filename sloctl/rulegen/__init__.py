"""SLO specs -> Prometheus recording and alert rule files (``sloctl rules generate``).

Pure functions: specs and settings in, rule groups and YAML text out. Only ``files`` touches the
disk (writing and checking ``rules/generated``).
"""

from sloctl.rulegen.default_alerts import default_alert_group
from sloctl.rulegen.files import (
    FileStatus,
    check_files,
    plan_files,
    plan_rule_files,
    write_files,
)
from sloctl.rulegen.model import Group, Rule, RuleFile, RuleGenError
from sloctl.rulegen.options import RuleOptions
from sloctl.rulegen.output import render_stream
from sloctl.rulegen.render import render_rules
from sloctl.rulegen.slo_rules import slo_groups

__all__ = [
    "FileStatus",
    "Group",
    "Rule",
    "RuleFile",
    "RuleGenError",
    "RuleOptions",
    "check_files",
    "default_alert_group",
    "plan_files",
    "plan_rule_files",
    "render_rules",
    "render_stream",
    "slo_groups",
    "write_files",
]
