"""Helpers the default scenario's tests share: its hosts, waiting, the test image."""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import testinfra

IMAGE = "kubebin-test/web:1"
PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[4]))


def get_host(name):
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")


def wait_for(what, probe, timeout=180, delay=3):
    """Call probe() until it returns a truthy value; fail naming `what` after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(delay)
    pytest.fail(f"timed out waiting for {what} (last: {last!r})")


def ensure_test_image(host):
    """IMAGE on this node's docker: busybox-static imported as an image (nothing is pulled)."""
    if host.run(f"docker image inspect {IMAGE}").rc == 0:
        return
    build = host.run(
        "set -e; command -v busybox >/dev/null || "
        "(apt-get install -y -qq busybox-static >/dev/null); "
        "d=$(mktemp -d); cp $(command -v busybox) $d/busybox; "
        f"tar -C $d -c . | docker import -c 'ENTRYPOINT [\"/busybox\"]' - {IMAGE}"
    )
    assert build.rc == 0, build.stderr


def web_container(name="web"):
    """A busybox httpd serving its own hostname on 8080, for pod-to-pod checks."""
    return {
        "name": name,
        "image": IMAGE,
        "imagePullPolicy": "Never",
        "command": [
            "/busybox",
            "sh",
            "-c",
            "mkdir -p /www && /busybox hostname > /www/index.html"
            " && exec /busybox httpd -f -p 8080 -h /www",
        ],
    }


def playbook(name, *extra):
    """Run one of the collection's playbooks against this scenario's inventory, as a user would."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    cfg = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")) / "ansible.cfg"
    if "ANSIBLE_CONFIG" not in env and cfg.is_file():
        env["ANSIBLE_CONFIG"] = str(cfg)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(PROJECT / "collections"))
    proc = subprocess.run(
        [
            "ansible-playbook",
            str(PROJECT / "playbooks" / name),
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    assert proc.returncode == 0, out[-6000:]
    return out
