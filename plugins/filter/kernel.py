# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel/OS bug checks: thin Ansible wrapper over plugin_utils.kernel_checks."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.plugin_utils import kernel_checks, versions


def kernel_findings(facts, rules=None):
    """Findings of the kernel/OS rule catalogue for one host's facts, most severe first."""
    try:
        return kernel_checks.kernel_findings(facts, rules)
    except (kernel_checks.RuleError, versions.VersionError) as exc:
        raise AnsibleFilterError(f"kubebin.cluster.kernel_findings: {exc}") from exc


def kernel_facts(host, model, name, *, os_facts=None, planned=None, etcd_keys=None, extra=None):
    """The facts the catalogue reads for host NAME: its host_facts, with what the cluster
    model, the OS facts, the planned releases and etcd's flannel keys add
    (plugin_utils/kernel_checks.py rule_facts)."""
    try:
        return kernel_checks.rule_facts(
            host, model, name, os_facts=os_facts, planned=planned, etcd_keys=etcd_keys, extra=extra
        )
    except (kernel_checks.RuleError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"kubebin.cluster.kernel_facts: {name}: {exc}") from exc


def kernel_fact_sets_report(sets, model, planned=None, accepted=None, allow_high=False):
    """The preflight report for recorded fact sets ({host: {os, host}}), as render mode
    writes it (plugin_utils/kernel_checks.py fact_sets_report)."""
    try:
        return kernel_checks.fact_sets_report(
            sets, model, planned=planned, accepted=accepted, allow_high=bool(allow_high)
        )
    except (kernel_checks.RuleError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"kubebin.cluster.kernel_fact_sets_report: {exc}") from exc


def kernel_triage(findings, accepted=None, fixing_layers=None, allow_high=False):
    """{accepted, fixed, blocking, advisory} lists of findings."""
    try:
        return kernel_checks.triage(findings, accepted or (), fixing_layers or (), bool(allow_high))
    except (kernel_checks.RuleError, KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"kubebin.cluster.kernel_triage: bad findings: {exc}") from exc


def kernel_report(results, accepted=None, allow_high=False):
    """The preflight report of a run ({host: result}); see plugin_utils/kernel_checks.py."""
    try:
        return kernel_checks.report(results, accepted, allow_high)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"kubebin.cluster.kernel_report: bad results: {exc}") from exc


def kernel_report_table(rep):
    """The report as a table, one line per host and finding."""
    try:
        return kernel_checks.report_table(rep)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"kubebin.cluster.kernel_report_table: bad report: {exc}") from exc


def version_compare(left, right):
    """-1/0/1 comparing package, kernel or release versions (RPM rules, epochs, v-prefix)."""
    try:
        return versions.compare(left, right)
    except versions.VersionError as exc:
        raise AnsibleFilterError(f"kubebin.cluster.version_compare: {exc}") from exc


class FilterModule:
    """Kernel/OS bug checks."""

    def filters(self):
        return {
            "kernel_facts": kernel_facts,
            "kernel_fact_sets_report": kernel_fact_sets_report,
            "kernel_findings": kernel_findings,
            "kernel_triage": kernel_triage,
            "kernel_report": kernel_report,
            "kernel_report_table": kernel_report_table,
            "version_compare": version_compare,
        }
