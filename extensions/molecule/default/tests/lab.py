"""Helpers the default scenario's tests share: its hosts, waiting, the test image."""

import os
import time

import pytest
import testinfra

IMAGE = "kubebin-test/web:1"


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
