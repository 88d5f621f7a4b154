"""playbooks/render.yml renders every host's files and the manifests, contacting no host."""

import pytest

from ..playbook_runner import run_playbook
from .conftest import INVENTORY, SYSTEMD_DIR, no_contact_args, tripwire

FLANNELD = [f"{SYSTEMD_DIR}/flanneld.service"]
NODE = [
    f"{SYSTEMD_DIR}/kubelet.service",
    f"{SYSTEMD_DIR}/kube-proxy.service",
    "etc/kubernetes/kubelet.conf",
    "etc/kubernetes/kube-proxy.conf",
]
CONTROL_PLANE = [
    f"{SYSTEMD_DIR}/kube-apiserver.service",
    f"{SYSTEMD_DIR}/kube-controller-manager.service",
    f"{SYSTEMD_DIR}/kube-scheduler.service",
    "etc/kubernetes/controller-manager.conf",
    "etc/kubernetes/scheduler.conf",
]
ETCD = [f"{SYSTEMD_DIR}/etcd.service"]
ROUTER = [
    "etc/kubebin/router.rules",
    "usr/local/sbin/kubebin-router",
    f"{SYSTEMD_DIR}/kubebin-router.service",
]
OFFICE_DNS = ["etc/dnsmasq.d/kubebin.conf"]


@pytest.mark.parametrize("minor", ["1.10", "1.35"])
def test_render_succeeds_without_contacting_a_host(renders, minor):
    render = renders[minor]
    assert render.rc == 0, render.out
    assert "UNREACHABLE" not in render.out, render.out
    assert not render.tripwire_log.exists(), render.tripwire_log.read_text()
    # The table asked for is the one rendered: units name the release in their header.
    version = {"1.10": "1.10.13", "1.35": "1.35.0"}[minor]
    for (host, unit), path in render.units().items():
        if unit.startswith("kube-") or unit == "kubelet.service":
            assert f"{unit[: -len('.service')]} {version} on {host}" in path.read_text(), path


@pytest.mark.parametrize("minor", ["1.10", "1.35"])
def test_every_host_gets_the_files_of_its_groups(renders, prod_groups, minor):
    render = renders[minor]
    assert render.rc == 0, render.out
    expected = {}
    for group, files in [
        ("k8s_cluster", FLANNELD),
        ("kube_node", NODE),
        ("kube_control_plane", CONTROL_PLANE),
        ("etcd", ETCD),
        ("router", ROUTER),
        ("office_dns", OFFICE_DNS),
    ]:
        assert prod_groups[group], f"inventories/prod has no {group} hosts"
        for host in prod_groups[group]:
            expected.setdefault(host, []).extend(files)
    # Hosts in none of those groups (the NFS server, so far) get nothing.
    assert render.hosts() == sorted(expected)
    missing = [
        f"{host}:/{path}"
        for host, files in sorted(expected.items())
        for path in files
        if not (render.host(host) / path).is_file()
    ]
    assert not missing, f"not rendered: {missing}"


@pytest.mark.parametrize("minor", ["1.10", "1.35"])
def test_manifests_are_rendered(renders, minor):
    render = renders[minor]
    assert render.rc == 0, render.out
    manifests = render.manifests()
    assert manifests, f"no manifests in {render.root / 'manifests'}"
    assert all(m.stat().st_size > 0 for m in manifests), manifests


def test_the_tripwire_catches_a_contact(tmp_path, tmp_path_factory):
    """Control: a play that does reach for a prod host trips the ssh stand-in (no packet)."""
    script, log = tripwire(tmp_path_factory)
    playbook = tmp_path / "reach.yml"
    playbook.write_text(
        "- hosts: master1\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n"
    )
    rc, out = run_playbook(playbook, INVENTORY, *no_contact_args(script), timeout=120)
    assert rc != 0, out
    assert "UNREACHABLE" in out, out
    assert "192.168.1.91" in log.read_text()
