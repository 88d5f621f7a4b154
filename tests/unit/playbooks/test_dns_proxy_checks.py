"""DNS proxy settings are checked on the controller (playbooks/office_dns.yml's first play,
and preflight), naming the variable and the fix, before any host is touched.

Inventories use docker containers that do not exist (a contact would show as UNREACHABLE).
"""

from ..playbook_runner import (
    ROOT,
    ghost_cluster_vars,
    run_playbook,
    write_inventory,
)
from ..playbook_runner import assert_stopped_before_any_host as assert_stopped_on_controller

PLAYBOOK = ROOT / "playbooks" / "office_dns.yml"

GOOD = {
    "all": {
        "vars": ghost_cluster_vars(),
        "children": {
            "etcd": {"hosts": {"kb-ghost-m1": {"kubebin_node_ip": "10.199.0.11"}}},
            "kube_control_plane": {"hosts": {"kb-ghost-m1": None}},
            "kube_node": {
                "hosts": {
                    "kb-ghost-n1": {"kubebin_node_ip": "10.199.0.21"},
                    "kb-ghost-dns1": {"kubebin_node_ip": "10.199.0.31"},
                }
            },
            "k8s_cluster": {"children": {"kube_control_plane": None, "kube_node": None}},
            "dns_proxy": {"hosts": {"kb-ghost-dns1": None}},
        },
    }
}


def inventory(tmp_path, mutate=None):
    return write_inventory(tmp_path, GOOD, mutate)


def off_cluster_dns_host(inv):
    """A second DNS host that is not a Kubernetes node."""
    inv["all"]["children"]["dns_proxy"]["hosts"]["kb-ghost-dns2"] = {
        "kubebin_node_ip": "10.199.0.32"
    }


def test_ingress_on_a_node_passes_the_controller_checks(tmp_path):
    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path), "--tags", "dns_proxy_inventory")
    assert rc == 0, out
    assert "UNREACHABLE" not in out


def test_ingress_on_a_host_that_is_not_a_node(tmp_path):
    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path, off_cluster_dns_host))
    assert_stopped_on_controller(
        rc,
        out,
        "dns_proxy_mode is ingress",
        "kb-ghost-dns2 is not in the kube_node group",
        "dns_proxy_mode: nginx_stream",
    )


def test_nginx_stream_may_run_off_the_cluster(tmp_path):
    def mutate(inv):
        off_cluster_dns_host(inv)
        inv["all"]["vars"]["dns_proxy_mode"] = "nginx_stream"

    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path, mutate), "--tags", "dns_proxy_inventory")
    assert rc == 0, out
    assert "UNREACHABLE" not in out


def test_mixed_modes(tmp_path):
    def mutate(inv):
        off_cluster_dns_host(inv)
        inv["all"]["children"]["dns_proxy"]["hosts"]["kb-ghost-dns2"]["dns_proxy_mode"] = (
            "nginx_stream"
        )

    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path, mutate))
    assert_stopped_on_controller(
        rc, out, "mix modes", "kb-ghost-dns1: ingress", "kb-ghost-dns2: nginx_stream"
    )


def test_unknown_mode(tmp_path):
    def mutate(inv):
        inv["all"]["vars"]["dns_proxy_mode"] = "haproxy"

    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path, mutate))
    assert_stopped_on_controller(
        rc, out, "dns_proxy_mode must be ingress or nginx_stream", "kb-ghost-dns1 has haproxy"
    )


def test_preflight_runs_the_same_checks(tmp_path):
    rc, out = run_playbook(
        ROOT / "playbooks" / "preflight.yml",
        inventory(tmp_path, off_cluster_dns_host),
        "--tags",
        "preflight_inventory",
    )
    assert_stopped_on_controller(rc, out, "kb-ghost-dns2 is not in the kube_node group")
