"""Render mode renders each role for all its hosts in one task on the controller
(kubebin.cluster.template_files with `hosts`): the files are those a task per host writes,
and a bad setting of one host stops the render naming the host and the variable.

The per-host reference is the install's own task shape: template_files with the role's file
list, on each host (delegated to the controller, render_dir set), contacting no host.
"""

import filecmp
import shutil

import yaml

from ..playbook_runner import run_playbook
from .conftest import INVENTORY, PLAYBOOK, ROOT, no_contact_args

PER_HOST = """\
- name: The cluster model
  ansible.builtin.import_playbook: {root}/playbooks/cluster_model.yml

- name: kubelet's and kube-proxy's files, one task per host (the install's task shape)
  hosts: kube_node
  gather_facts: false
  tasks:
    - name: Render on each host
      ansible.builtin.include_role:
        name: kubebin.cluster.kube_node
        tasks_from: render_one.yml
"""

RENDER_ONE = """\
- name: This minor's flags, as main.yml loads them
  ansible.builtin.include_vars:
    file: k8s-{{ kube_node_k8s.minor }}.yml

- name: The role's files, as main.yml lists them
  kubebin.cluster.template_files:
    files: "{{ kube_node_files }}"
    render_dir: "{{ render_dir }}"
  delegate_to: localhost
"""


def _tree(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_one_task_for_all_hosts_writes_what_a_task_per_host_writes(
    tmp_path, ssh_tripwire, render_110, prod_groups
):
    script, log = ssh_tripwire
    # A copy of the role with one extra task file, so the reference runs the role's own vars.
    collection = tmp_path / "collections" / "ansible_collections" / "kubebin" / "cluster"
    shutil.copytree(
        ROOT,
        collection,
        ignore=shutil.ignore_patterns(
            ".venv", ".state", ".git", ".ansible", "collections", "*.pyc"
        ),
    )
    (collection / "roles" / "kube_node" / "tasks" / "render_one.yml").write_text(RENDER_ONE)
    playbook = tmp_path / "per-host.yml"
    playbook.write_text(PER_HOST.format(root=collection))
    out = tmp_path / "per-host"
    rc, text = run_playbook(
        playbook,
        INVENTORY,
        "-e",
        f"render_dir={out}",
        *no_contact_args(script),
        env_extra={"ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections")},
    )
    assert rc == 0, text
    nodes = sorted(p.name for p in (out / "hosts").iterdir())
    assert nodes == sorted(prod_groups["kube_node"]), nodes
    for node in nodes:
        mine = out / "hosts" / node
        theirs = render_110.host(node)
        files = _tree(mine)
        assert files, node
        for rel in files:
            assert filecmp.cmp(mine / rel, theirs / rel, shallow=False), f"{node}: {rel} differs"
    assert not log.exists(), log.read_text()


def test_a_bad_setting_of_one_host_is_named(tmp_path, ssh_tripwire):
    script, log = ssh_tripwire
    inventory = tmp_path / "inventory"
    shutil.copytree(INVENTORY, inventory)
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    node = next(iter(hosts["all"]["children"]["kube_node"]["hosts"]))
    hosts["all"]["children"]["kube_node"]["hosts"][node]["kube_node_kubelet_extra_flags"] = [
        "--v=4"
    ]
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    rc, text = run_playbook(
        PLAYBOOK, inventory, "-e", f"render_dir={tmp_path / 'out'}", *no_contact_args(script)
    )
    flat = " ".join(text.split())
    assert rc != 0, text
    assert f"{node}: the settings of role kubebin.cluster.kube_node" in flat, text
    assert "kube_node_kubelet_extra_flags" in flat, text
    assert "UNREACHABLE" not in text
    assert not log.exists(), log.read_text()
