"""Run one of the collection's playbooks for real, from the checkout, as `make` would."""

import copy
import os
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = shutil.which(
    "ansible-playbook", path=str(ROOT / ".venv" / "bin")
) or shutil.which("ansible-playbook")


def run_playbook(playbook, inventory, *extra, timeout=300, env_extra=None):
    """(return code, stdout + stderr) of ansible-playbook PLAYBOOK -i INVENTORY EXTRA...
    (ENV_EXTRA: more environment variables)"""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    env.update(env_extra or {})
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, str(playbook), "-i", str(inventory), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def assert_stopped_on_controller(rc, out, *needles):
    """The run failed, contacted no host, and its output names every needle."""
    assert rc != 0, out
    assert "UNREACHABLE" not in out, out
    for needle in needles:
        assert needle in out, f"{needle!r} not in output:\n{out}"


def assert_stopped_before_any_host(rc, out, *needles):
    """As assert_stopped_on_controller, and no fact gathering began (the checks ran first);
    the needles are matched with the output's line wraps undone."""
    assert_stopped_on_controller(rc, " ".join(out.split()), *needles)
    assert "Gathering Facts" not in out, out


def write_inventory(tmp_path, base, mutate=None):
    """A copy of the inventory dict BASE, changed by MUTATE(inv), as tmp_path/hosts.yml."""
    inv = copy.deepcopy(base)
    if mutate:
        mutate(inv)
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inv))
    return path


def ghost_cluster_vars(**overrides):
    """Cluster settings for throwaway inventories whose hosts are docker containers that do
    not exist (a contact would show as UNREACHABLE); keyword arguments override them."""
    return {
        "ansible_connection": "community.docker.docker",
        "cluster_kube_version": "1.10.13",
        "cluster_pod_cidr": "172.20.0.0/16",
        "cluster_pod_subnet_len": 24,
        "cluster_service_cidr": "172.21.0.0/16",
        "cluster_domain": "cluster.local",
        "cluster_node_cidr": "10.199.0.0/24",
        **overrides,
    }
