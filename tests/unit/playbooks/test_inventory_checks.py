"""Inventory mistakes fail on the controller, naming the variable, before any host is touched.

Each case writes a throwaway inventory whose hosts are docker containers that do not exist;
the preflight playbook must stop in its controller-side play, so no host is ever contacted
(were one contacted, the run would show it as UNREACHABLE, which the tests rule out).
"""

import copy

import pytest
import yaml

from ..playbook_runner import ROOT, ghost_cluster_vars, run_playbook
from ..playbook_runner import assert_stopped_on_controller as stopped_on_controller

PLAYBOOK = ROOT / "playbooks" / "preflight.yml"

GOOD = {
    "all": {
        "vars": ghost_cluster_vars(cluster_office_cidrs=["10.199.0.0/16"]),
        "children": {
            "etcd": {"hosts": {"kb-ghost-m1": None}},
            "kube_control_plane": {"hosts": {"kb-ghost-m1": None}},
            "kube_node": {"hosts": {"kb-ghost-n1": None, "kb-ghost-n2": None}},
            "k8s_cluster": {"children": {"kube_control_plane": None, "kube_node": None}},
        },
    }
}
IPS = {"kb-ghost-m1": "10.199.0.11", "kb-ghost-n1": "10.199.0.21", "kb-ghost-n2": "10.199.0.22"}


def inventory(tmp_path, mutate=None):
    inv = copy.deepcopy(GOOD)
    for group in ("etcd", "kube_control_plane", "kube_node"):
        for host in inv["all"]["children"][group]["hosts"]:
            inv["all"]["children"][group]["hosts"][host] = {"kubebin_node_ip": IPS[host]}
    if mutate:
        mutate(inv)
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inv))
    return path


def run(inv_path, *extra):
    return run_playbook(PLAYBOOK, inv_path, *extra)


def assert_stopped_on_controller(rc, out, *needles):
    stopped_on_controller(rc, out, *needles)
    assert "Gathering Facts" not in out, out


def test_a_sound_inventory_passes_the_controller_checks(tmp_path):
    rc, out = run(inventory(tmp_path), "--tags", "preflight_inventory")
    assert rc == 0, out
    assert "UNREACHABLE" not in out


def test_missing_group(tmp_path):
    def mutate(inv):
        del inv["all"]["children"]["kube_node"]
        inv["all"]["children"]["k8s_cluster"]["children"] = {"kube_control_plane": None}

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "'kube_node' is missing or empty")


def test_unset_cluster_setting(tmp_path):
    rc, out = run(inventory(tmp_path, lambda inv: inv["all"]["vars"].pop("cluster_pod_cidr")))
    assert_stopped_on_controller(rc, out, "cluster_pod_cidr is not set")


def test_unsupported_kubernetes_release(tmp_path):
    def mutate(inv):
        inv["all"]["vars"]["cluster_kube_version"] = "1.9.11"

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "cluster_kube_version: '1.9.11' is not supported")


def test_overlapping_pod_and_service_networks(tmp_path):
    def mutate(inv):
        inv["all"]["vars"]["cluster_service_cidr"] = "172.20.128.0/17"

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "172.20.128.0/17", "172.20.0.0/16")


def test_pod_network_overlapping_the_office(tmp_path):
    def mutate(inv):
        inv["all"]["vars"]["cluster_office_cidrs"] = ["172.16.0.0/12"]

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "172.16.0.0/12")


def test_host_gw_peer_on_another_segment(tmp_path):
    def mutate(inv):
        inv["all"]["children"]["kube_node"]["hosts"]["kb-ghost-n2"]["kubebin_node_ip"] = (
            "10.198.0.5"
        )

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "kb-ghost-n2", "10.198.0.5", "10.199.0.0/24")


def test_node_without_an_address(tmp_path):
    def mutate(inv):
        inv["all"]["children"]["kube_node"]["hosts"]["kb-ghost-n1"] = None

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "kubebin_node_ip is not set for kb-ghost-n1")


def test_even_etcd_member_count(tmp_path):
    def mutate(inv):
        inv["all"]["children"]["etcd"]["hosts"]["kb-ghost-n1"] = {
            "kubebin_node_ip": IPS["kb-ghost-n1"]
        }

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "etcd group has 2 members")


@pytest.mark.parametrize("subnet_len", [30])
def test_pod_network_too_small_for_the_nodes(tmp_path, subnet_len):
    def mutate(inv):
        inv["all"]["vars"]["cluster_pod_cidr"] = "172.20.0.0/29"
        inv["all"]["vars"]["cluster_pod_subnet_len"] = subnet_len

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "172.20.0.0/29")


def test_a_node_subnet_pinned_twice(tmp_path):
    def mutate(inv):
        inv["all"]["vars"]["cluster_pinned_subnets"] = {
            "kb-ghost-n1": "172.20.5.0/24",
            "kb-ghost-n2": "172.20.5.0/24",
        }

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(
        rc, out, "cluster_pinned_subnets[kb-ghost-n2]: 172.20.5.0/24 is also pinned for kb-ghost-n1"
    )


def test_a_setting_under_its_old_name_is_named_with_the_new_one(tmp_path):
    def mutate(inv):
        inv["all"]["vars"]["kube_dns_service_index"] = 3
        inv["all"]["vars"]["etcd_version"] = "3.3.25"

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(
        rc,
        out,
        "kube_dns_service_index -> cluster_dns_service_index",
        "etcd_version -> cluster_etcd_version",
    )


def test_kube_dns_index_outside_the_service_network(tmp_path):
    def mutate(inv):
        inv["all"]["vars"]["cluster_service_cidr"] = "172.21.0.0/24"
        inv["all"]["vars"]["cluster_dns_service_index"] = 300

    rc, out = run(inventory(tmp_path, mutate))
    assert_stopped_on_controller(
        rc, out, "cluster_dns_service_index: 300 does not fit cluster_service_cidr 172.21.0.0/24"
    )


@pytest.mark.parametrize("version", ["1.12.3", "1.10", "banana", "v2.0.0"])
def test_kubernetes_version_without_a_table(tmp_path, version):
    rc, out = run(inventory(tmp_path), "-e", f"cluster_kube_version={version}")
    assert_stopped_on_controller(
        rc, out, "cluster_kube_version", "version tables for Kubernetes 1.10, 1.35"
    )


def test_the_current_release_table_passes(tmp_path):
    rc, out = run(
        inventory(tmp_path), "--tags", "preflight_inventory", "-e", "cluster_kube_version=v1.35.0"
    )
    assert rc == 0, out


def test_kubespray_old_master_group_name(tmp_path):
    def rename(inv):
        children = inv["all"]["children"]
        children["kube_master"] = children.pop("kube_control_plane")
        children["k8s_cluster"]["children"] = {"kube_master": None, "kube_node": None}

    rc, out = run(inventory(tmp_path, rename))
    assert_stopped_on_controller(rc, out, "kube_master", "kube_control_plane")


def test_site_stops_before_any_host_on_a_bad_version(tmp_path):
    """site.yml as a whole: the version check comes before pki, artifacts or any host play."""
    rc, out = run_playbook(
        ROOT / "site.yml", inventory(tmp_path), "-e", "cluster_kube_version=1.9.11"
    )
    assert_stopped_on_controller(rc, out, "cluster_kube_version")
    for layer in ("artifacts", "pki", "etcd", "kube_control_plane"):
        assert f"kubebin.cluster.{layer} :" not in out, layer
