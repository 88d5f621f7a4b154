# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: render mode for the prod inventory (9 hosts) and for prod + 100 workers.

Run with the venv's python:  .venv/bin/python tools/bench/bench_render.py

Both renders run playbooks/render.yml side by side in this one run, contacting no host
(ssh replaced by a command that fails), and the result is the ratio of their wall times:
how render mode scales with the size of the cluster. Issue 11's target is at most 2x for a
cluster twelve times larger; the report says whether it is met (exit status 0 either way:
a benchmark, not a timed test). The cluster model itself is also timed for both, in-process.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.kubebin.cluster.plugins.plugin_utils import cluster_model  # noqa: E402

WORKERS = 100


def big_inventory(dest):
    """inventories/prod copied, with WORKERS more kube_node hosts on 192.168.3.0/24."""
    shutil.copytree(ROOT / "inventories" / "prod", dest, ignore=shutil.ignore_patterns(".*"))
    hosts = yaml.safe_load((dest / "hosts.yml").read_text())
    nodes = hosts["all"]["children"]["kube_node"]["hosts"]
    for i in range(1, WORKERS + 1):
        nodes["worker%03d" % i] = {"ansible_host": "192.168.3.%d" % i}
    (dest / "hosts.yml").write_text(yaml.safe_dump(hosts))
    return hosts


def render(inventory, out):
    """Wall seconds of one render.yml run; fails loudly when the render fails."""
    tripwire = out.parent / (out.name + "-ssh")
    tripwire.write_text("#!/bin/sh\necho 'bench: a host was contacted' >&2\nexit 255\n")
    tripwire.chmod(0o755)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    argv = [
        "ansible-playbook",
        str(ROOT / "playbooks" / "render.yml"),
        "-i",
        str(inventory),
        "-e",
        f"render_dir={out}",
        "-e",
        f"ansible_ssh_executable={tripwire}",
    ]
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"render of {inventory} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return took


def groups_of(hosts):
    groups = {}

    def walk(name, body):
        members = list((body or {}).get("hosts") or {})
        for child, child_body in ((body or {}).get("children") or {}).items():
            members += walk(child, child_body)
        groups[name] = list(dict.fromkeys(groups.get(name, []) + members))
        return groups[name]

    walk("all", hosts["all"])
    ips = {}
    for body in hosts["all"]["children"].values():
        for host, hvars in ((body or {}).get("hosts") or {}).items():
            if hvars and "ansible_host" in hvars:
                ips[host] = hvars["ansible_host"]
    return groups, ips


def model_seconds(hosts, settings, repeat=20):
    groups, ips = groups_of(hosts)
    start = time.perf_counter()
    for _round in range(repeat):
        cluster_model.cluster_model(settings, groups, ips)
    return (time.perf_counter() - start) / repeat


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="renders of each (best is kept)")
    args = parser.parse_args()
    settings = yaml.safe_load((ROOT / "inventories/prod/group_vars/all/cluster.yml").read_text())
    settings = {k: v for k, v in settings.items() if k.startswith("cluster_")}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        prod = yaml.safe_load((ROOT / "inventories/prod/hosts.yml").read_text())
        big = big_inventory(tmp / "big")
        small_t, big_t = [], []
        for i in range(args.rounds):
            small_t.append(render(ROOT / "inventories" / "prod", tmp / f"r-small-{i}"))
            big_t.append(render(tmp / "big", tmp / f"r-big-{i}"))
        small, large = min(small_t), min(big_t)
        small_hosts = len(groups_of(copy.deepcopy(prod))[0]["all"])
        big_hosts = small_hosts + WORKERS
        print(f"render mode, {small_hosts} hosts (prod): {small:.1f} s")
        print(f"render mode, {big_hosts} hosts (prod + {WORKERS} workers): {large:.1f} s")
        ratio = large / small
        verdict = "meets" if ratio <= 2 else "misses"
        print(
            f"ratio: {ratio:.2f}x for {big_hosts / small_hosts:.0f}x the hosts"
            f" ({verdict} the 2x target)"
        )
        m_small, m_big = model_seconds(prod, settings), model_seconds(big, settings)
        print(
            f"cluster model alone: {m_small * 1000:.1f} ms / {m_big * 1000:.1f} ms"
            f" ({m_big / m_small:.1f}x)"
        )


if __name__ == "__main__":
    main()
