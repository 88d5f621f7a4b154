"""Render mode's preflight report: facts recorded on hosts (render_host_facts, in the shape
tools/lab/record_host_facts.yml writes) evaluated as a live run would, no host contacted."""

import json
from pathlib import Path

import yaml

from ..playbook_runner import run_playbook
from .conftest import INVENTORY, PLAYBOOK, no_contact_args

FACTSETS = Path(__file__).parents[1] / "plugins" / "plugin_utils" / "factsets"


def recorded(name, address, changes=None):
    """The CentOS 7.3 node of the fact sets, as if recorded on inventory host NAME at ADDRESS."""
    base = yaml.safe_load((FACTSETS / "centos-7.3.yml").read_text())["base"]
    host = dict(base["host"], **(changes or {}))
    host["ipv4_addresses"] = [
        {"iface": "lo", "address": "127.0.0.1", "prefixlen": 8},
        {"iface": "eth0", "address": address, "prefixlen": 22},
    ]
    return {name: {"os": base["os"], "host": host}}


def render(tmp_path, script, sets, *extra):
    facts = tmp_path / "facts"
    facts.mkdir()
    for entry in sets:
        (facts / f"{next(iter(entry))}.yml").write_text(yaml.safe_dump(entry))
    out = tmp_path / "render"
    rc, text = run_playbook(
        PLAYBOOK,
        INVENTORY,
        "-e", f"render_dir={out}",
        "-e", f"render_host_facts={facts}",
        *extra,
        *no_contact_args(script),
    )  # fmt: skip
    return rc, text, out


def test_recorded_facts_give_the_report_and_its_table(tmp_path, ssh_tripwire):
    script, log = ssh_tripwire
    sets = [
        recorded("node1", "192.168.1.94"),
        # the office DNS server: same OS, but no node rule holds it
        recorded("officedns1", "192.168.1.98"),
    ]
    rc, text, out = render(tmp_path, script, sets)
    assert rc == 0, text
    assert not log.exists(), log.read_text()
    rep = json.loads((out / "preflight-report.json").read_text())
    node = rep["hosts"]["node1"]
    ids = {f["id"] for f in node["findings"]}
    assert {"K8S-KMEM-001", "K8S-MNT-002", "K8S-DTYPE-001", "K8S-SELINUX-001"} <= ids
    assert node["fixing_layers"] == ["node_prep", "flanneld", "runtime", "kube_node"]
    assert "K8S-SELINUX-001" in node["fixed"]  # node_prep makes SELinux permissive
    assert "K8S-KMEM-001" in node["blocking"]  # nothing the collection runs fixes the kernel
    assert node["facts"]["node_ip_on_host"] is True
    assert rep["hosts"]["officedns1"]["findings"] == []
    assert "node1" in text and "K8S-KMEM-001" in text and "BLOCKING" in text


def test_a_fact_set_of_a_host_the_inventory_lacks_is_named(tmp_path, ssh_tripwire):
    script, _log = ssh_tripwire
    rc, text, _out = render(tmp_path, script, [recorded("node9", "192.168.1.99")])
    assert rc != 0
    assert "node9" in text and "record the inventory's hosts" in text
