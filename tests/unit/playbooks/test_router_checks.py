"""Router settings are checked on the controller (playbooks/router.yml's first play), naming
the variable, before any host is touched; the ready-to-paste route files for the prod
inventory are written without contacting any host.

Inventories use docker containers that do not exist (a contact would show as UNREACHABLE);
the prod run replaces ssh with a tripwire that logs and fails.
"""

import shlex

from ..playbook_runner import (
    ROOT,
    ghost_cluster_vars,
    run_playbook,
    write_inventory,
)
from ..playbook_runner import assert_stopped_before_any_host as assert_stopped_on_controller

PLAYBOOK = ROOT / "playbooks" / "router.yml"

GOOD = {
    "all": {
        "vars": ghost_cluster_vars(cluster_office_cidrs=["10.198.0.0/24"]),
        "children": {
            "kube_node": {
                "hosts": {
                    "kb-ghost-n1": {"kubebin_node_ip": "10.199.0.21"},
                    "kb-ghost-n2": {"kubebin_node_ip": "10.199.0.22"},
                }
            },
            "k8s_cluster": {"children": {"kube_node": None}},
            "router": {"hosts": {"kb-ghost-r1": {"kubebin_node_ip": "10.199.0.31"}}},
        },
    }
}


def inventory(tmp_path, mutate=None):
    return write_inventory(tmp_path, GOOD, mutate)


def test_sound_router_settings_pass_the_controller_checks(tmp_path):
    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path), "--tags", "router_inventory")
    assert rc == 0, out
    assert "UNREACHABLE" not in out


def test_office_network_overlapping_the_pod_network(tmp_path):
    def mutate(inv):
        inv["all"]["vars"]["cluster_office_cidrs"] = ["172.16.0.0/12"]

    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "cluster_office_cidrs[0]", "172.16.0.0/12")


def test_office_network_overlapping_the_service_network(tmp_path):
    def mutate(inv):
        inv["all"]["vars"]["cluster_office_cidrs"] = ["172.21.128.0/24"]

    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "cluster_office_cidrs[0]", "172.21.128.0/24")


def test_router_office_cidrs_override_is_checked_too(tmp_path):
    def mutate(inv):
        inv["all"]["vars"]["router_office_cidrs"] = ["172.20.5.0/24"]

    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "router_office_cidrs", "172.20.5.0/24")


def test_router_outside_the_node_segment(tmp_path):
    def mutate(inv):
        inv["all"]["children"]["router"]["hosts"]["kb-ghost-r1"]["kubebin_node_ip"] = "10.198.0.5"

    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "kubebin_node_ip", "cluster_node_cidr", "10.198.0.5")


def test_router_address_from_ansible_host(tmp_path):
    def mutate(inv):
        inv["all"]["children"]["router"]["hosts"]["kb-ghost-r1"] = {"ansible_host": "10.197.0.9"}

    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path, mutate))
    assert_stopped_on_controller(rc, out, "ansible_host", "10.197.0.9")


def test_no_router_group_means_nothing_to_do(tmp_path):
    """A site without office routing: router.yml (and so site.yml) passes, touching nothing."""

    def mutate(inv):
        inv["all"]["children"].pop("router")
        inv["all"]["children"].pop("office_linux", None)

    rc, out = run_playbook(PLAYBOOK, inventory(tmp_path, mutate))
    assert rc == 0, out
    assert "UNREACHABLE" not in out, out
    assert "the router layer has nothing to do" in " ".join(out.split()), out


def test_prod_route_files_without_contacting_any_host(tmp_path):
    """The prod inventory's ready-to-paste files, made on the controller only."""
    log = tmp_path / "ssh-calls.log"
    tripwire = tmp_path / "ssh"
    tripwire.write_text(f'#!/bin/sh\necho "$@" >> {shlex.quote(str(log))}\nexit 255\n')
    tripwire.chmod(0o755)
    out_dir = tmp_path / "routes"
    rc, out = run_playbook(
        PLAYBOOK,
        ROOT / "inventories" / "prod",
        "--tags",
        "router_inventory,route_files",
        "-e",
        f"route_announce_output_dir={out_dir}",
        "-e",
        f"ansible_ssh_executable={tripwire}",
    )
    assert rc == 0, out
    assert not log.exists(), log.read_text()
    assert "UNREACHABLE" not in out
    linux = (out_dir / "linux.sh").read_text().splitlines()
    assert "route add -net 172.20.0.0 netmask 255.255.0.0 gw 192.168.2.71" in linux
    assert "route add -net 172.21.0.0 netmask 255.255.0.0 gw 192.168.2.71" in linux
    windows = (out_dir / "windows.bat").read_bytes()
    assert b"route -p add 172.20.0.0 mask 255.255.0.0 192.168.2.71\r\n" in windows
    assert "ip route 172.21.0.0 255.255.0.0 192.168.2.71" in (out_dir / "cisco.txt").read_text()
    assert "ip route-static 172.20.0.0 16 192.168.2.71" in (out_dir / "h3c.txt").read_text()
