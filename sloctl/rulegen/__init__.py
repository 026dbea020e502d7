"""SLO specs -> Prometheus recording and alert rule files (``sloctl rules generate``).

Pure functions: specs and settings in, rule groups and YAML text out. Only ``files`` touches the
disk (writing and checking ``rules/generated``).
"""

from sloctl.rulegen.default_alerts import default_alert_group
from sloctl.rulegen.files import FileStatus, check_files, plan_files, write_files
from sloctl.rulegen.model import Group, Rule, RuleGenError
from sloctl.rulegen.render import render_rules
from sloctl.rulegen.slo_rules import slo_groups

__all__ = [
    "FileStatus",
    "Group",
    "Rule",
    "RuleGenError",
    "check_files",
    "default_alert_group",
    "plan_files",
    "render_rules",
    "slo_groups",
    "write_files",
]
