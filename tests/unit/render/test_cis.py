# ruff: noqa: E501 - the checks are a table, one line each
"""The CIS Kubernetes Benchmark 1.3.0 (the edition for 1.10) scored flag checks, run on the
rendered 1.10 units of inventories/prod with each unit as the component's config, the way
kube-bench reads a binary install. Each check passes, or is an exception docs/security.md
lists with its reason; an exception must really fail here (else the document is stale)."""

import re
from pathlib import Path

import pytest

from .conftest import exec_start

SECURITY = Path(__file__).parents[3] / "docs" / "security.md"

ABSENT = object()


def absent(v):
    return v is ABSENT


def equals(want):
    return lambda v: v == want


def absent_or(want):
    return lambda v: v is ABSENT or v == want


def present(v):
    return v is not ABSENT and v != ""


def at_least(n):
    return lambda v: v is not ABSENT and int(v) >= n


def contains(*names):
    return lambda v: v is not ABSENT and set(names) <= set(v.split(","))


def lacks(*names):
    return lambda v: v is ABSENT or not set(names) & set(v.split(","))


# (check id, component, flag, test): the benchmark's scored items that are command-line flags.
CHECKS = [
    ("apiserver anonymous-auth false", "kube-apiserver", "anonymous-auth", equals("false")),
    ("apiserver no basic-auth-file", "kube-apiserver", "basic-auth-file", absent),
    ("apiserver no insecure-allow-any-token", "kube-apiserver", "insecure-allow-any-token", absent),
    ("apiserver kubelet-https", "kube-apiserver", "kubelet-https", absent_or("true")),
    ("apiserver no insecure-bind-address", "kube-apiserver", "insecure-bind-address", absent),
    ("apiserver insecure-port 0", "kube-apiserver", "insecure-port", equals("0")),
    ("apiserver secure-port set", "kube-apiserver", "secure-port", lambda v: v not in (ABSENT, "0")),
    ("apiserver profiling false", "kube-apiserver", "profiling", equals("false")),
    ("apiserver repair-malformed-updates false", "kube-apiserver", "repair-malformed-updates", equals("false")),
    ("apiserver no AlwaysAdmit", "kube-apiserver", "enable-admission-plugins", lacks("AlwaysAdmit")),
    ("apiserver AlwaysPullImages", "kube-apiserver", "enable-admission-plugins", contains("AlwaysPullImages")),
    ("apiserver DenyEscalatingExec", "kube-apiserver", "enable-admission-plugins", contains("DenyEscalatingExec")),
    ("apiserver PodSecurityPolicy", "kube-apiserver", "enable-admission-plugins", contains("PodSecurityPolicy")),
    ("apiserver NamespaceLifecycle", "kube-apiserver", "enable-admission-plugins", contains("NamespaceLifecycle")),
    ("apiserver ServiceAccount admission", "kube-apiserver", "enable-admission-plugins", contains("ServiceAccount")),
    ("apiserver NodeRestriction", "kube-apiserver", "enable-admission-plugins", contains("NodeRestriction")),
    ("apiserver EventRateLimit", "kube-apiserver", "enable-admission-plugins", contains("EventRateLimit")),
    ("apiserver audit-log-path", "kube-apiserver", "audit-log-path", present),
    ("apiserver audit-log-maxage 30", "kube-apiserver", "audit-log-maxage", at_least(30)),
    ("apiserver audit-log-maxbackup 10", "kube-apiserver", "audit-log-maxbackup", at_least(10)),
    ("apiserver audit-log-maxsize 100", "kube-apiserver", "audit-log-maxsize", at_least(100)),
    ("apiserver authorization Node,RBAC", "kube-apiserver", "authorization-mode", contains("Node", "RBAC")),
    ("apiserver no token-auth-file", "kube-apiserver", "token-auth-file", absent),
    ("apiserver kubelet-certificate-authority", "kube-apiserver", "kubelet-certificate-authority", present),
    ("apiserver kubelet client certificate", "kube-apiserver", "kubelet-client-certificate", present),
    ("apiserver kubelet client key", "kube-apiserver", "kubelet-client-key", present),
    ("apiserver service-account-lookup true", "kube-apiserver", "service-account-lookup", equals("true")),
    ("apiserver service-account-key-file", "kube-apiserver", "service-account-key-file", present),
    ("apiserver etcd certfile", "kube-apiserver", "etcd-certfile", present),
    ("apiserver etcd keyfile", "kube-apiserver", "etcd-keyfile", present),
    ("apiserver etcd cafile", "kube-apiserver", "etcd-cafile", present),
    ("apiserver tls-cert-file", "kube-apiserver", "tls-cert-file", present),
    ("apiserver tls-private-key-file", "kube-apiserver", "tls-private-key-file", present),
    ("apiserver client-ca-file", "kube-apiserver", "client-ca-file", present),
    ("apiserver encryption provider config", "kube-apiserver", "experimental-encryption-provider-config", present),
    ("apiserver no privileged", "kube-apiserver", "allow-privileged", equals("false")),
    ("scheduler profiling false", "kube-scheduler", "profiling", equals("false")),
    ("scheduler address 127.0.0.1", "kube-scheduler", "address", equals("127.0.0.1")),
    ("controller-manager terminated-pod-gc-threshold", "kube-controller-manager", "terminated-pod-gc-threshold", present),
    ("controller-manager profiling false", "kube-controller-manager", "profiling", equals("false")),
    ("controller-manager service account credentials", "kube-controller-manager", "use-service-account-credentials", equals("true")),
    ("controller-manager service-account-private-key-file", "kube-controller-manager", "service-account-private-key-file", present),
    ("controller-manager root-ca-file", "kube-controller-manager", "root-ca-file", present),
    ("controller-manager RotateKubeletServerCertificate", "kube-controller-manager", "feature-gates", contains("RotateKubeletServerCertificate=true")),
    ("controller-manager address 127.0.0.1", "kube-controller-manager", "address", equals("127.0.0.1")),
    ("etcd cert-file", "etcd", "cert-file", present),
    ("etcd key-file", "etcd", "key-file", present),
    ("etcd client-cert-auth true", "etcd", "client-cert-auth", equals("true")),
    ("etcd no auto-tls", "etcd", "auto-tls", absent_or("false")),
    ("etcd peer-cert-file", "etcd", "peer-cert-file", present),
    ("etcd peer-key-file", "etcd", "peer-key-file", present),
    ("etcd peer-client-cert-auth true", "etcd", "peer-client-cert-auth", equals("true")),
    ("etcd no peer-auto-tls", "etcd", "peer-auto-tls", absent_or("false")),
    ("kubelet no privileged", "kubelet", "allow-privileged", equals("false")),
    ("kubelet anonymous-auth false", "kubelet", "anonymous-auth", equals("false")),
    ("kubelet authorization not AlwaysAllow", "kubelet", "authorization-mode", lambda v: v not in (ABSENT, "AlwaysAllow")),
    ("kubelet client-ca-file", "kubelet", "client-ca-file", present),
    ("kubelet read-only-port 0", "kubelet", "read-only-port", equals("0")),
    ("kubelet streaming-connection-idle-timeout not 0", "kubelet", "streaming-connection-idle-timeout", lambda v: v != "0"),
    ("kubelet protect-kernel-defaults", "kubelet", "protect-kernel-defaults", equals("true")),
    ("kubelet make-iptables-util-chains", "kubelet", "make-iptables-util-chains", absent_or("true")),
    ("kubelet no hostname-override", "kubelet", "hostname-override", absent),
    ("kubelet event-qps 0", "kubelet", "event-qps", equals("0")),
    ("kubelet tls-cert-file", "kubelet", "tls-cert-file", present),
    ("kubelet tls-private-key-file", "kubelet", "tls-private-key-file", present),
    ("kubelet cadvisor-port 0", "kubelet", "cadvisor-port", equals("0")),
    ("kubelet RotateKubeletServerCertificate", "kubelet", "feature-gates", contains("RotateKubeletServerCertificate=true")),
]  # fmt: skip


def exceptions():
    """The check ids docs/security.md's exception table lists (first column, in backticks)."""
    text = SECURITY.read_text()
    section = text.split("## CIS Kubernetes Benchmark 1.3.0", 1)[1]
    return set(re.findall(r"^\| `([^`]+)` \|", section, re.M))


@pytest.fixture(scope="module")
def flags(render_110):
    """{component: [{flag: value}, one per rendered unit]}."""
    out = {}
    for (_host, _unit), path in render_110.units().items():
        argv = exec_start(path)
        name = Path(argv[0]).name
        parsed = {}
        for arg in argv[1:]:
            key, _sep, value = arg.removeprefix("--").partition("=")
            parsed[key] = value
        out.setdefault(name, []).append(parsed)
    return out


def test_every_check_passes_or_is_a_documented_exception(flags):
    documented = exceptions()
    failing = set()
    for check_id, component, flag, test in CHECKS:
        units = flags.get(component)
        assert units, f"no rendered unit runs {component}"
        if not all(test(unit.get(flag, ABSENT)) for unit in units):
            failing.add(check_id)
    assert failing - documented == set(), "failing, not documented in docs/security.md"
    # an exception that passes now is stale: take it out of the document
    assert documented - failing == set(), "documented as exceptions, but passing"


def test_the_exceptions_are_checks_of_the_list():
    ids = {c[0] for c in CHECKS}
    assert exceptions() <= ids
