# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files every Kubernetes component needs, as text (no Ansible import).

A component's systemd unit (every flag visible, one per line, sorted), a kubeconfig (paths to
the certificates, or the certificates embedded) and a component's config file (YAML, keys
sorted). ``kubebin.cluster.template_files`` writes an entry that has ``unit``, ``kubeconfig``
or ``config`` instead of a template with these; the filter ``kubebin.cluster.kubeconfig``
gives the controller's admin kubeconfig the same text.
"""

from __future__ import annotations

import base64

import yaml  # PyYAML ships with ansible-core

__all__ = ["KINDS", "FilesError", "config_file", "kubeconfig", "render", "systemd_unit"]

# Entry keys this module renders, in the order they are looked for.
KINDS = ("unit", "kubeconfig", "config")
BIN_DIR = "/usr/local/bin"


class FilesError(ValueError):
    """An entry that does not describe a file of this module."""


def _header(managed):
    return "# %s\n" % managed if managed else ""


def _plain(data):
    """DATA with every value of a subclass (e.g. a templating engine's tagged str) as the
    builtin type, which a safe YAML dumper represents."""
    if isinstance(data, dict):
        return {_plain(k): _plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    for kind in (bool, int, float, str):
        if isinstance(data, kind):
            return kind(data)
    return data


def _yaml(data):
    return yaml.dump(
        _plain(data), Dumper=yaml.SafeDumper, indent=2, allow_unicode=True, default_flow_style=False
    )


# The YAML of DATA as every file of the collection writes it (keys sorted, block style).
yaml_text = _yaml


def _need(entry, keys, what):
    """Fail naming WHAT and the missing keys, never the values (a kubeconfig holds a key)."""
    missing = [k for k in keys if entry.get(k) in (None, "")]
    if missing:
        named = entry.get("user") or entry.get("name") or ""
        raise FilesError(
            "%s%s needs %s" % (what, " for %s" % named if named else "", ", ".join(missing))
        )


def systemd_unit(unit, *, host, managed=""):
    """The unit of component UNIT (``{name, version, role, description, flags, after,
    requires, bin_dir}``) on HOST: ``--flag=value`` lines sorted by name."""
    _need(unit, ("name", "description"), "unit")
    name = str(unit["name"])
    flags = unit.get("flags") or {}
    lines = [
        "# %s %s on %s (role %s)" % (name, unit.get("version", ""), host, unit.get("role", "")),
        "[Unit]",
        "Description=%s (%s)" % (unit["description"], host),
        "Documentation=https://kubernetes.io/docs/reference/command-line-tools-reference/%s/"
        % name,
    ]
    lines += ["After=%s" % u for u in unit.get("after") or []]
    lines += ["Requires=%s" % u for u in unit.get("requires") or []]
    lines += [
        "",
        "[Service]",
        "ExecStart=%s/%s%s" % (unit.get("bin_dir") or BIN_DIR, name, " \\" if flags else ""),
    ]
    names = sorted(flags)
    lines += [
        "  --%s=%s%s" % (flag, flags[flag], "" if i == len(names) - 1 else " \\")
        for i, flag in enumerate(names)
    ]
    lines += [
        "Restart=always",
        "RestartSec=5",
        "LimitNOFILE=65536",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return _header(managed) + "\n".join(lines) + "\n"


def kubeconfig(kc, *, managed=""):
    """A kubeconfig for user ``kc.user`` of cluster ``kc.cluster`` (default kubernetes) at
    ``kc.server``: the certificates by path (``ca``, ``cert``, ``key``), or embedded when
    ``ca_data``, ``cert_data`` and ``key_data`` (their PEM text) are given. With
    ``kc.namespaces``, one context per namespace (named after it, the first current)."""
    _need(kc, ("server", "user"), "kubeconfig")
    name = str(kc.get("cluster") or "kubernetes")
    user = str(kc["user"])
    if any(kc.get(k) for k in ("ca_data", "cert_data", "key_data")):
        _need(kc, ("ca_data", "cert_data", "key_data"), "kubeconfig (embedded)")

        def b64(key):
            return base64.b64encode(str(kc[key]).encode("utf-8")).decode("ascii")

        cluster = {"server": str(kc["server"]), "certificate-authority-data": b64("ca_data")}
        creds = {"client-certificate-data": b64("cert_data"), "client-key-data": b64("key_data")}
    else:
        _need(kc, ("ca", "cert", "key"), "kubeconfig")
        cluster = {"server": str(kc["server"]), "certificate-authority": str(kc["ca"])}
        creds = {"client-certificate": str(kc["cert"]), "client-key": str(kc["key"])}
    namespaces = [str(ns) for ns in kc.get("namespaces") or []]
    if namespaces:  # one context per namespace, named after it; the first is current
        contexts = [
            {"name": ns, "context": {"cluster": name, "user": user, "namespace": ns}}
            for ns in namespaces
        ]
    else:
        contexts = [{"name": "%s@%s" % (user, name), "context": {"cluster": name, "user": user}}]
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": user, "user": creds}],
        "contexts": contexts,
        "current-context": contexts[0]["name"],
    }
    return _header(managed) + _yaml(data)


def config_file(config, *, managed=""):
    """A component's config file: CONFIG as YAML, keys sorted."""
    if not isinstance(config, dict):
        raise FilesError("config must be a dictionary, not %s" % type(config).__name__)
    return _header(managed) + _yaml(config)


def render(entry, *, host, managed=""):
    """The text of ENTRY (a template_files entry with one of KINDS), or None without one."""
    if entry.get("unit"):
        return systemd_unit(entry["unit"], host=host, managed=managed)
    if entry.get("kubeconfig"):
        return kubeconfig(entry["kubeconfig"], managed=managed)
    if entry.get("config"):
        return config_file(entry["config"], managed=managed)
    return None
