"""Every rendered manifest validates against its release's strict schemas; config files parse
and carry the apiVersion/kind of their version table."""

import json
import os
import subprocess
import sys
import warnings

import pytest
import tomllib
import yaml

from .conftest import ROOT

CONFIG_FILES = {
    # path on the host: (version table api key, kind, hosts' group)
    "etc/kubernetes/kubelet-config.yaml": ("kubelet_config", "KubeletConfiguration", "kube_node"),
    "etc/kubernetes/kube-proxy-config.yaml": (
        "kube_proxy_config",
        "KubeProxyConfiguration",
        "kube_node",
    ),
    "etc/kubernetes/kube-scheduler-config.yaml": (
        "scheduler_config",
        "KubeSchedulerConfiguration",
        "kube_control_plane",
    ),
}
KUBECONFIGS = [
    "etc/kubernetes/admin.conf",
    "etc/kubernetes/controller-manager.conf",
    "etc/kubernetes/scheduler.conf",
    "etc/kubernetes/kubelet.conf",
    "etc/kubernetes/kube-proxy.conf",
]


def documents(path):
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kind_name(doc):
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


# --- manifests ------------------------------------------------------------------------------


def test_manifests_validate_against_the_1_10_strict_schemas(render_110):
    failures, count = [], 0
    with warnings.catch_warnings():
        # kubernetes-validate 1.18 uses pkg_resources, distutils and RefResolver (deprecated).
        warnings.simplefilter("ignore", DeprecationWarning)
        import kubernetes_validate

        for path in render_110.manifests():
            for doc in documents(path):
                count += 1
                try:
                    kubernetes_validate.validate(doc, "1.10.0", strict=True)
                except kubernetes_validate.ValidationError as e:
                    where = "/".join(str(p) for p in e.absolute_path)
                    failures.append(f"{path.name}: {kind_name(doc)}: {where}: {e.message}")
                except Exception as e:  # no schema for the kind, a broken $ref...
                    failures.append(f"{path.name}: {kind_name(doc)}: {getattr(e, 'message', e)}")
    assert count, "no documents in the manifests"
    assert not failures, "\n".join(failures)


def test_manifests_validate_against_the_1_35_strict_schemas(render_135, kv_current):
    manifests = render_135.manifests()
    expected = {
        (path.name, kind_name(doc).lower()) for path in manifests for doc in documents(path)
    }
    assert expected, "no documents in the manifests"
    env = dict(os.environ, PYTHONPATH=str(kv_current))
    proc = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "-k", "1.35.0", "--strict"]
        + [str(p) for p in manifests],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = proc.stdout + proc.stderr
    lines = [
        line.replace(str(render_135.root / "manifests") + "/", "") for line in out.splitlines()
    ]
    # Anything but INFO (ERROR: a schema violation, WARN: no schema for the kind/apiVersion,
    # FATAL: the version is not supported) fails; so does a document the tool did not report.
    problems = [line for line in lines if line.strip() and not line.startswith("INFO ")]
    assert proc.returncode == 0 and not problems, "\n".join(problems) or out
    passed = set()
    for line in lines:
        # INFO <file> passed for resource <kind>/<name> against version 1.35
        words = line.split()
        assert words[-1] == "1.35", line
        passed.add((words[1], words[5]))
    assert passed == {(f, kn.lower()) for f, kn in expected}, out


def test_the_1_35_validator_rejects_a_bad_manifest(tmp_path, kv_current):
    """Control: an unknown field fails strict validation, an unknown apiVersion warns."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nbogus: 1\n---\n"
        "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: y}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "-k", "1.35.0", "--strict", str(bad)],
        env=dict(os.environ, PYTHONPATH=str(kv_current)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0, proc.stdout
    assert "ERROR" in proc.stdout and "configmap/x" in proc.stdout, proc.stdout
    assert "WARN" in proc.stdout and "Ingress" in proc.stdout, proc.stdout


# --- config files ---------------------------------------------------------------------------


def test_1_35_component_configs_match_the_version_table(render_135, prod_groups):
    table = render_135.table
    for path, (api_key, kind, group) in CONFIG_FILES.items():
        assert table["api"][api_key], f"kube_releases.yml 1.35 has no api.{api_key}"
        for host in prod_groups[group]:
            doc = yaml.safe_load((render_135.host(host) / path).read_text())
            assert doc["kind"] == kind, f"{host}:/{path}"
            assert doc["apiVersion"] == table["api"][api_key], f"{host}:/{path}"


def test_1_10_renders_no_component_config_files(render_110):
    table = render_110.table
    for path, (api_key, _kind, _version) in CONFIG_FILES.items():
        assert table["api"][api_key] == "", f"kube_releases.yml 1.10 sets api.{api_key}"
        found = sorted(render_110.root.glob(f"hosts/*/{path}"))
        assert not found, f"1.10 takes flags only, yet rendered {found}"


@pytest.mark.parametrize("minor", ["1.10", "1.35"])
def test_audit_policy_matches_the_version_table(renders, prod_groups, minor):
    render = renders[minor]
    assert render.rc == 0, render.out
    for host in prod_groups["kube_control_plane"]:
        doc = yaml.safe_load((render.host(host) / "etc/kubernetes/audit-policy.yaml").read_text())
        assert doc["kind"] == "Policy", host
        assert doc["apiVersion"] == render.table["api"]["audit_policy"], host
        assert doc["rules"], host


@pytest.mark.parametrize("minor", ["1.10", "1.35"])
def test_kubeconfigs_parse(renders, minor):
    render = renders[minor]
    assert render.rc == 0, render.out
    found = 0
    for host in render.hosts():
        for path in KUBECONFIGS:
            file = render.host(host) / path
            if not file.is_file():
                continue
            found += 1
            doc = yaml.safe_load(file.read_text())
            assert doc["kind"] == "Config" and doc["apiVersion"] == "v1", file
            contexts = {c["name"] for c in doc["contexts"]}
            assert doc["current-context"] in contexts, file
            cluster = doc["clusters"][0]["cluster"]
            assert cluster["server"].startswith("https://"), file
    assert found


def test_1_10_docker_daemon_json_parses(render_110, prod_groups):
    for host in prod_groups["kube_node"]:
        daemon = json.loads((render_110.host(host) / "etc/docker/daemon.json").read_text())
        driver = render_110.table["cgroup_driver"]
        # docker and the kubelet must agree on the cgroup driver.
        assert f"native.cgroupdriver={driver}" in daemon["exec-opts"], host
        kubelet = (render_110.host(host) / "etc/systemd/system/kubelet.service").read_text()
        assert f"--cgroup-driver={driver} " in kubelet, host


def test_1_35_containerd_and_cni_configs_parse(render_135, prod_groups):
    table = render_135.table
    for host in prod_groups["kube_node"]:
        node = render_135.host(host)
        conflist = json.loads((node / "etc/cni/net.d/10-kubebin.conflist").read_text())
        assert conflist["plugins"], host
        assert conflist["name"], host
        containerd = tomllib.loads((node / "etc/containerd/config.toml").read_text())
        cri = containerd["plugins"]["io.containerd.grpc.v1.cri"]
        # The runtime and the kubelet must agree on the cgroup driver.
        systemd = cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"]
        assert systemd == (table["cgroup_driver"] == "systemd"), host
        kubelet = yaml.safe_load((node / "etc/kubernetes/kubelet-config.yaml").read_text())
        assert kubelet["cgroupDriver"] == table["cgroup_driver"], host
        assert cri["sandbox_image"] == f"{table['registry']}/{table['pause_image']}", host
