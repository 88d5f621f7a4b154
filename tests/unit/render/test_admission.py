"""The rendered admission configuration as the real v1.10.13 kube-apiserver reads it: with the
rendered plugin list and admission config (EventRateLimit's limits in their own file), the
binary initialises every admission plugin and gets as far as connecting to storage (no etcd
here: it stops there); a broken limit is refused at admission (the control)."""

import socket
import subprocess

import yaml

from .conftest import exec_start

MASTER = "master1"
APISERVER = "kube-apiserver.service"


def rendered_admission(render, tmp_path):
    """(the rendered --enable-admission-plugins value, the admission config copied to
    TMP_PATH with its files' paths pointing at their copies there)."""
    argv = exec_start(render.host(MASTER) / "etc/systemd/system" / APISERVER)
    flags = dict(a.removeprefix("--").split("=", 1) for a in argv[1:])
    config_path = flags["admission-control-config-file"]
    config = yaml.safe_load((render.host(MASTER) / config_path.lstrip("/")).read_text())
    for plugin in config["plugins"]:
        copy = tmp_path / plugin["path"].rsplit("/", 1)[1]
        copy.write_text((render.host(MASTER) / plugin["path"].lstrip("/")).read_text())
        plugin["path"] = str(copy)
    out = tmp_path / "admission-config.yaml"
    out.write_text(yaml.safe_dump(config))
    return flags["enable-admission-plugins"], out


def start_apiserver(k8s_bin, plugins, config, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run(
        [
            str(k8s_bin / "kube-apiserver"),
            "--etcd-servers=http://127.0.0.1:1",
            f"--enable-admission-plugins={plugins}",
            f"--admission-control-config-file={config}",
            "--insecure-port=0",
            f"--secure-port={port}",
            "--bind-address=127.0.0.1",
            f"--cert-dir={tmp_path / 'certs'}",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--authorization-mode=RBAC",
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace")


def test_the_real_apiserver_initialises_the_rendered_admission(render_110, k8s_bin, tmp_path):
    plugins, config = rendered_admission(render_110, tmp_path)
    assert {"PodSecurityPolicy", "EventRateLimit", "NodeRestriction"} <= set(plugins.split(","))
    rc, out = start_apiserver(k8s_bin, plugins, config, tmp_path)
    assert rc != 0  # no etcd
    assert "failed to initialize admission" not in out, out[-2000:]
    assert "Unable to create storage backend" in out, out[-2000:]


def test_a_broken_limit_is_refused_at_admission(render_110, k8s_bin, tmp_path):
    plugins, config = rendered_admission(render_110, tmp_path)
    limits = tmp_path / "event-rate-limit.yaml"
    limits.write_text(limits.read_text().replace("qps: 500", "qps: not-a-number"))
    rc, out = start_apiserver(k8s_bin, plugins, config, tmp_path)
    assert rc != 0
    assert 'Couldn\'t init admission plugin "EventRateLimit"' in out, out[-2000:]
