"""plugin_utils.kube_files: a component's unit, kubeconfigs and config files as text."""

import base64

import pytest
import yaml

from ansible_collections.kubebin.cluster.plugins.plugin_utils import kube_files

UNIT = {
    "name": "kube-proxy",
    "version": "1.10.13",
    "role": "kubebin.cluster.kube_node",
    "description": "Kubernetes network proxy",
    "after": ["network-online.target"],
    "requires": ["docker.service"],
    "flags": {"v": 2, "proxy-mode": "ipvs", "bind-address": "10.0.0.5"},
}


def test_unit_every_flag_on_its_own_line_sorted():
    text = kube_files.systemd_unit(UNIT, host="node1", managed="Ansible managed")
    lines = text.splitlines()
    assert lines[0] == "# Ansible managed"
    assert lines[1] == "# kube-proxy 1.10.13 on node1 (role kubebin.cluster.kube_node)"
    assert "Description=Kubernetes network proxy (node1)" in lines
    assert "After=network-online.target" in lines and "Requires=docker.service" in lines
    start = lines.index("ExecStart=/usr/local/bin/kube-proxy \\")
    assert lines[start + 1 : start + 4] == [
        "  --bind-address=10.0.0.5 \\",
        "  --proxy-mode=ipvs \\",
        "  --v=2",
    ]
    assert lines[start + 4] == "Restart=always"
    assert text.endswith("WantedBy=multi-user.target\n")


def test_unit_without_flags_has_no_continuation():
    text = kube_files.systemd_unit(dict(UNIT, flags={}, bin_dir="/opt/bin"), host="n")
    assert "ExecStart=/opt/bin/kube-proxy\nRestart=always" in text
    assert not text.startswith("#  ")


def test_kubeconfig_by_path():
    kc = {
        "server": "https://127.0.0.1:6443",
        "user": "system:kube-scheduler",
        "ca": "/p/ca.crt",
        "cert": "/p/s.crt",
        "key": "/p/s.key",
    }
    doc = yaml.safe_load(kube_files.kubeconfig(kc))
    assert doc["current-context"] == "system:kube-scheduler@kubernetes"
    assert doc["clusters"] == [
        {
            "name": "kubernetes",
            "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority": "/p/ca.crt"},
        }
    ]
    assert doc["users"][0]["user"] == {"client-certificate": "/p/s.crt", "client-key": "/p/s.key"}


def test_kubeconfig_embedded_is_base64_of_the_pem():
    kc = {
        "server": "https://10.0.0.1:6443",
        "user": "admin",
        "cluster": "prod",
        "ca_data": "CA PEM",
        "cert_data": "CERT PEM",
        "key_data": "KEY PEM",
    }
    text = kube_files.kubeconfig(kc, managed="m")
    assert text.startswith("# m\n")
    doc = yaml.safe_load(text)
    assert doc["contexts"][0] == {
        "name": "admin@prod",
        "context": {"cluster": "prod", "user": "admin"},
    }
    got = doc["clusters"][0]["cluster"]["certificate-authority-data"]
    assert base64.b64decode(got) == b"CA PEM"
    assert base64.b64decode(doc["users"][0]["user"]["client-key-data"]) == b"KEY PEM"
    assert "/p/" not in text


@pytest.mark.parametrize(
    "kc, match",
    [
        ({"user": "admin", "ca": "a", "cert": "b", "key": "c"}, "needs server"),
        ({"server": "https://x", "user": "admin", "ca": "a", "cert": "b"}, "needs key"),
        (
            {"server": "https://x", "user": "u", "ca_data": "a"},
            r"embedded\) for u needs cert_data, key_data",
        ),
    ],
)
def test_kubeconfig_incomplete_is_refused(kc, match):
    with pytest.raises(kube_files.FilesError, match=match):
        kube_files.kubeconfig(kc)


def test_an_error_never_shows_the_key():
    kc = {"user": "admin", "ca_data": "CA", "cert_data": "CERT", "key_data": "SECRET-KEY"}
    with pytest.raises(kube_files.FilesError) as err:
        kube_files.kubeconfig(kc)
    assert "SECRET-KEY" not in str(err.value) and "needs server" in str(err.value)


class Tagged(str):
    """A str subclass, as a templating engine hands values over."""


def test_config_file_sorted_yaml_of_plain_values():
    text = kube_files.config_file(
        {"kind": Tagged("KubeletConfiguration"), "b": [1, True], "a": {"z": 1}}
    )
    assert text == "a:\n  z: 1\nb:\n- 1\n- true\nkind: KubeletConfiguration\n"


def test_render_picks_the_kind_and_refuses_none():
    assert kube_files.render({"unit": UNIT}, host="h").startswith("# kube-proxy")
    assert kube_files.render({"src": "x.j2"}, host="h") is None
    with pytest.raises(kube_files.FilesError, match="dictionary"):
        kube_files.config_file(["not", "a", "dict"])


def test_kubeconfig_with_namespaces_has_a_context_per_namespace():
    kc = {
        "server": "https://10.0.0.1:6443",
        "user": "team:payments",
        "ca_data": "CA PEM",
        "cert_data": "CERT PEM",
        "key_data": "KEY PEM",
        "namespaces": ["dev", "test"],
    }
    doc = yaml.safe_load(kube_files.kubeconfig(kc))
    assert doc["contexts"] == [
        {
            "name": "dev",
            "context": {"cluster": "kubernetes", "user": "team:payments", "namespace": "dev"},
        },
        {
            "name": "test",
            "context": {"cluster": "kubernetes", "user": "team:payments", "namespace": "test"},
        },
    ]
    assert doc["current-context"] == "dev"
