"""The ingress-nginx DNS proxy manifest (role dns_proxy, render entry point) validates against
the strict 1.10.0 schemas and the current release's, with each release's API versions.

Renders only this role's templates, from inventories/prod, through a two-task playbook; ssh is
the session's tripwire, so no host is contacted.
"""

import os
import subprocess
import sys
import warnings

import pytest
import yaml

from ..playbook_runner import run_playbook
from .conftest import INVENTORY, ROOT, no_contact_args, version_table

PLAY = """\
- name: The cluster model
  ansible.builtin.import_playbook: {root}/playbooks/cluster_model.yml

- name: Render the DNS proxy manifest only
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Render dns_proxy
      ansible.builtin.include_role:
        name: kubebin.cluster.dns_proxy
        tasks_from: render
      vars:
        render_hosts: {hosts}
        dns_proxy_render_manifest_from: "{manifest_from}"
"""
MANIFEST_ONLY = dict(hosts="[]", manifest_from="{{ groups['kube_control_plane'][0] }}")
MINORS = {"1.10": "1.10.13", "1.35": "1.35.0"}


@pytest.fixture(scope="module")
def dns_renders(tmp_path_factory, ssh_tripwire):
    script, log = ssh_tripwire
    base = tmp_path_factory.mktemp("dns-proxy")
    playbook = base / "render-dns-proxy.yml"
    playbook.write_text(PLAY.format(root=ROOT, **MANIFEST_ONLY))
    out = {}
    for minor, version in MINORS.items():
        root = base / minor
        rc, text = run_playbook(
            playbook,
            INVENTORY,
            "-e",
            f"render_dir={root}",
            "-e",
            f"cluster_kube_version={version}",
            *no_contact_args(script),
        )
        assert rc == 0, text
        out[minor] = sorted((root / "manifests").glob("*.yaml"))
        assert out[minor], text
    assert not log.exists(), log.read_text()
    return out


def docs(paths):
    return [d for p in paths for d in yaml.safe_load_all(p.read_text()) if d]


def test_the_seed_mapping_and_pinning(dns_renders):
    found = {(d["kind"], d["metadata"]["name"]): d for d in docs(dns_renders["1.10"])}
    for cm in ("tcp-services", "udp-services"):
        assert found[("ConfigMap", cm)]["data"] == {"53": "kube-system/kube-dns:53"}
    deployment = found[("Deployment", "dns-proxy-dns1")]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": "dns1"}
    args = pod["containers"][0]["args"]
    assert "--udp-services-configmap=$(POD_NAMESPACE)/udp-services" in args
    assert "--tcp-services-configmap=$(POD_NAMESPACE)/tcp-services" in args


@pytest.mark.parametrize("minor", MINORS)
def test_api_versions_follow_the_version_table(dns_renders, minor):
    table = version_table(minor)
    ingress_group = table["api"]["ingress"].split("/")[0]
    for d in docs(dns_renders[minor]):
        if d["kind"] == "Deployment":
            assert d["apiVersion"] == table["api"]["deployment"]
        if d["kind"] == "ClusterRole":
            groups = {g for rule in d["rules"] for g in rule["apiGroups"]}
            assert ingress_group in groups


def test_validates_against_the_1_10_strict_schemas(dns_renders):
    failures = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import kubernetes_validate

        for d in docs(dns_renders["1.10"]):
            try:
                kubernetes_validate.validate(d, "1.10.0", strict=True)
            except kubernetes_validate.ValidationError as e:
                where = "/".join(str(p) for p in e.absolute_path)
                failures.append(f"{d['kind']}/{d['metadata']['name']}: {where}: {e.message}")
    assert not failures, "\n".join(failures)


def test_validates_against_the_1_35_strict_schemas(dns_renders, kv_current):
    proc = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "-k", "1.35.0", "--strict"]
        + [str(p) for p in dns_renders["1.35"]],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(kv_current)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = proc.stdout + proc.stderr
    problems = [line for line in out.splitlines() if line.strip() and not line.startswith("INFO ")]
    assert proc.returncode == 0 and not problems, out
    assert out.count(" passed for resource ") == len(docs(dns_renders["1.35"])), out


def test_nginx_stream_hosts_get_the_install_s_nginx_conf(tmp_path, ssh_tripwire):
    """Render mode writes an nginx_stream host's nginx.conf (the install's file list), with the
    kube-dns IP from the cluster model and the OS family's paths; no manifest is asked for."""
    script, log = ssh_tripwire
    playbook = tmp_path / "render-nginx.yml"
    playbook.write_text(
        PLAY.format(root=ROOT, hosts="\"{{ groups['dns_proxy'] }}\"", manifest_from="")
    )
    for family, user in (("Debian", "www-data"), ("RedHat", "nginx")):
        root = tmp_path / family
        rc, text = run_playbook(
            playbook,
            INVENTORY,
            "-e",
            f"render_dir={root}",
            "-e",
            "dns_proxy_mode=nginx_stream",
            "-e",
            f"render_os_family={family}",
            *no_contact_args(script),
        )
        assert rc == 0, text
        conf = (root / "hosts" / "dns1" / "etc" / "nginx" / "nginx.conf").read_text()
        assert "server 172.21.0.10:53;" in conf
        assert f"user {user};" in conf
        assert not (root / "manifests").exists()
    assert not log.exists(), log.read_text()
