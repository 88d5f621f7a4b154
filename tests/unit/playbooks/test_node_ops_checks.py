"""add_node.yml and remove_node.yml check the names they are given on the controller and stop,
naming the variable and the fix, before any host is contacted (the inventory's hosts are docker
containers that do not exist: a contact would show as UNREACHABLE)."""

import pytest

from ..playbook_runner import (
    ROOT,
    assert_stopped_before_any_host,
    ghost_cluster_vars,
    run_playbook,
    write_inventory,
)

ADD = ROOT / "playbooks" / "ops" / "add_node.yml"
REMOVE = ROOT / "playbooks" / "ops" / "remove_node.yml"
INVENTORY = {
    "all": {
        "vars": ghost_cluster_vars(),
        "children": {
            "etcd": {"hosts": {"kb-ghost-m1": {"kubebin_node_ip": "10.199.0.11"}}},
            "kube_control_plane": {"hosts": {"kb-ghost-m1": None}},
            "kube_node": {
                "hosts": {
                    "kb-ghost-n1": {"kubebin_node_ip": "10.199.0.21"},
                    "kb-ghost-n2": {"kubebin_node_ip": "10.199.0.22"},
                }
            },
            "k8s_cluster": {"children": {"kube_control_plane": None, "kube_node": None}},
            "router": {"hosts": {"kb-ghost-n2": None}},
        },
    }
}


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        ((), ["add_nodes (unset) must name the new worker nodes"]),
        (
            ("-e", "add_nodes=kb-ghost-n9"),
            ["add_nodes (kb-ghost-n9)", "Not in kube_node: kb-ghost-n9"],
        ),
        (("-e", "add_nodes=kb-ghost-m1"), ["in neither etcd nor kube_control_plane"]),
    ],
)
def test_add_node_names_are_checked(tmp_path, extra, needles):
    rc, out = run_playbook(ADD, write_inventory(tmp_path, INVENTORY), *extra)
    assert_stopped_before_any_host(rc, out, *needles)


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        ((), ["remove_nodes (unset) must name worker nodes"]),
        (("-e", "remove_nodes=kb-ghost-x"), ["Not in kube_node: kb-ghost-x"]),
        (("-e", "remove_nodes=kb-ghost-m1"), ["in none of etcd, kube_control_plane, router"]),
        (
            ("-e", "remove_nodes=kb-ghost-n2"),
            ["move the office router or DNS proxy to another host"],
        ),
    ],
)
def test_remove_node_names_are_checked(tmp_path, extra, needles):
    rc, out = run_playbook(REMOVE, write_inventory(tmp_path, INVENTORY), *extra)
    assert_stopped_before_any_host(rc, out, *needles)
