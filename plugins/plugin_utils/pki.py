# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PKI plan: every certificate of the cluster, what a run must make in pki_dir, and each
host's share of it. Pure Python, no Ansible import: ``plugins/filter/pki.py`` reads the files
and hands this module what it found (role ``pki``).

Every error is a :class:`PkiError` naming the value and the fix.
"""

from __future__ import annotations

import base64
import binascii
import posixpath

import yaml  # PyYAML ships with ansible-core

from ansible_collections.kubebin.cluster.plugins.plugin_utils.cluster_model import san

__all__ = ["PkiError", "certificates", "host_share", "plan", "san"]


class PkiError(ValueError):
    """A PKI input that cannot be planned."""


# The apiserver's encryption provider config: holds the Secrets' key, copied 0600 like a key.
ENCRYPTION_CONFIG = "encryption-config.yaml"


def encryption_config(key, release):
    """The apiserver's encryption provider config for Secrets: aescbc with KEY (base64 of 32
    random bytes, made once in pki_dir), then identity, so Secrets written before encryption
    was on stay readable until they are rewritten. RELEASE is the cluster model's
    kube.release (its api.encryption_config and api.encryption_config_kind)."""
    secret = str(key).strip()
    try:
        raw = base64.b64decode(secret, validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 32:
        raise PkiError(
            "the Secrets encryption key (pki_dir/encryption.key) must be base64 of 32 bytes;"
            " delete the file to have a new one made (only on a cluster with no encrypted Secret)"
        )
    api = release["api"]
    config = {
        "apiVersion": api["encryption_config"],
        "kind": api["encryption_config_kind"],
        "resources": [
            {
                "resources": ["secrets"],
                "providers": [
                    {"aescbc": {"keys": [{"name": "key1", "secret": secret}]}},
                    {"identity": {}},
                ],
            }
        ],
    }
    return yaml.safe_dump(config, default_flow_style=False, sort_keys=False)


def _unique(values):
    return list(dict.fromkeys(values))


def certificates(model, groups, ca_cn, etcd_ca_cn, extra_sans=()):
    """Every certificate as data, the CAs first (the plan reads them before what they sign).

    Entries: name (file stem in pki_dir), profile (ca | server | client | server_client), ca
    (the signing CA, leaves only), cn, o (optional), sans. The SANs come from the cluster model
    (``certificate_sans``); ``extra_sans`` (pki_apiserver_extra_sans) are added to the
    apiserver's. README.md's "Files" table documents the same list.
    """
    if not isinstance(model, dict) or "certificate_sans" not in model:
        raise PkiError("model: not the cluster model (run playbooks/cluster_model.yml first)")
    sans = model["certificate_sans"]
    certs = [
        {"name": "ca", "profile": "ca", "cn": ca_cn, "sans": []},
        {"name": "etcd-ca", "profile": "ca", "cn": etcd_ca_cn, "sans": []},
    ]
    # The etcd group's members the model places (a host being removed has no SANs there).
    for host in [h for h in groups.get("etcd") or [] if h in sans["etcd"]]:
        for kind in ("server", "peer"):
            certs.append(
                {
                    "name": "etcd-%s-%s" % (kind, host),
                    "profile": "server_client",
                    "ca": "etcd-ca",
                    "cn": host,
                    "sans": sans["etcd"][host],
                }
            )
    for name, cn in (
        ("etcdctl", "etcdctl"),
        ("apiserver-etcd-client", "kube-apiserver-etcd-client"),
        ("flanneld", "flanneld"),
    ):
        certs.append({"name": name, "profile": "client", "ca": "etcd-ca", "cn": cn, "sans": []})
    certs.append(
        {
            "name": "apiserver",
            "profile": "server",
            "ca": "ca",
            "cn": "kube-apiserver",
            "sans": _unique(list(sans["apiserver"]) + [san(v) for v in extra_sans or []]),
        }
    )
    for name, cn, org in (
        # Not in system:masters: kube_addons binds it to the kubelet API only.
        ("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ""),
        ("admin", "admin", "system:masters"),
        ("controller-manager", "system:kube-controller-manager", ""),
        ("scheduler", "system:kube-scheduler", ""),
        ("kube-proxy", "system:kube-proxy", ""),
    ):
        certs.append(
            {"name": name, "profile": "client", "ca": "ca", "cn": cn, "o": org, "sans": []}
        )
    # Each team's client certificate: the team's rights go to its group (plugin_utils/teams.py).
    for team, spec in sorted((model.get("teams") or {}).items()):
        certs.append(
            {
                "name": "team-" + team,
                "profile": "client",
                "ca": "ca",
                "cn": spec["cn"],
                "o": spec["group"],
                "sans": [],
            }
        )
    for host in groups.get("k8s_cluster") or []:
        if host not in model["nodes"]:
            continue  # a node being removed keeps its certificate, gets no new one
        certs.append(
            {
                "name": "kubelet-" + host,
                "profile": "server_client",
                "ca": "ca",
                "cn": "system:node:" + host,
                "o": "system:nodes",
                "sans": sans["kubelet"][host],
            }
        )
    return certs


def _layout(host, dirs):
    """(group, file in pki_dir, destination) of every file of the host layout."""
    etcd, kube, flannel = dirs["etcd"], dirs["kube"], dirs["flannel"]
    rows = [
        ("etcd", "etcd-ca.crt", etcd + "/ca.crt"),
        ("etcd", "etcd-server-%s.crt" % host, etcd + "/server.crt"),
        ("etcd", "etcd-server-%s.key" % host, etcd + "/server.key"),
        ("etcd", "etcd-peer-%s.crt" % host, etcd + "/peer.crt"),
        ("etcd", "etcd-peer-%s.key" % host, etcd + "/peer.key"),
        ("etcd", "etcdctl.crt", etcd + "/etcdctl.crt"),
        ("etcd", "etcdctl.key", etcd + "/etcdctl.key"),
        ("control_plane", "ca.crt", kube + "/ca.crt"),
        ("ca_key", "ca.key", kube + "/ca.key"),
    ]
    for name in (
        "apiserver",
        "apiserver-kubelet-client",
        "apiserver-etcd-client",
    ):
        rows += [
            ("control_plane", name + ext, "%s/%s%s" % (kube, name, ext)) for ext in (".crt", ".key")
        ]
    rows += [
        ("control_plane", "etcd-ca.crt", kube + "/etcd-ca.crt"),
        ("control_plane", "sa.key", kube + "/sa.key"),
        ("control_plane", "sa.pub", kube + "/sa.pub"),
        ("control_plane", ENCRYPTION_CONFIG, kube + "/" + ENCRYPTION_CONFIG),
    ]
    for name in ("admin", "controller-manager", "scheduler"):
        rows += [
            ("control_plane", name + ext, "%s/%s%s" % (kube, name, ext)) for ext in (".crt", ".key")
        ]
    rows += [
        ("node", "ca.crt", kube + "/ca.crt"),
        ("node", "kubelet-%s.crt" % host, kube + "/kubelet.crt"),
        ("node", "kubelet-%s.key" % host, kube + "/kubelet.key"),
        ("node", "kube-proxy.crt", kube + "/kube-proxy.crt"),
        ("node", "kube-proxy.key", kube + "/kube-proxy.key"),
        ("node", "etcd-ca.crt", flannel + "/etcd-ca.crt"),
        ("node", "flanneld.crt", flannel + "/flanneld.crt"),
        ("node", "flanneld.key", flannel + "/flanneld.key"),
    ]
    return rows


def _root_owned(have, mode):
    return (
        have.get("mode") == mode and have.get("pw_name") == "root" and have.get("gr_name") == "root"
    )


def host_share(
    host, group_names, dirs, found, checksums, *, ca_key_on_masters=False, check_mode=False
):
    """This host's share of pki_dir, compared with what it has.

    ``found`` is what ansible.builtin.find reported (``[{path, checksum, mode, pw_name,
    gr_name, isdir}]``), ``checksums`` pki_dir's files (name -> sha1). Returns ``files``
    (``[{src, dest, mode, secret}]`` to copy: missing, different, or another mode or owner;
    in check mode only files that exist already), ``dirs`` (to create or fix), ``stale``
    (files of the layout this host must not have, e.g. ca.key once pki_ca_key_on_masters is
    off) and ``wanted`` (every destination this host should have). The layout is the contract
    other roles read (README "Files on the hosts").
    """
    groups = set(group_names or [])
    member = {
        "etcd": "etcd" in groups,
        "control_plane": "kube_control_plane" in groups,
        "ca_key": "kube_control_plane" in groups and bool(ca_key_on_masters),
        "node": "k8s_cluster" in groups,
    }
    have = {f["path"]: f for f in found or []}
    out = {"files": [], "dirs": [], "stale": [], "wanted": []}
    layout = _layout(host, dirs)
    for group, src, dest in layout:
        if not member[group] or dest in out["wanted"]:
            continue
        out["wanted"].append(dest)
        secret = dest.endswith(".key") or posixpath.basename(dest) == ENCRYPTION_CONFIG
        mode = "0600" if secret else "0644"
        mine = have.get(dest, {})
        current = mine.get("checksum") == checksums.get(src, "absent") and _root_owned(mine, mode)
        if not current and (src in checksums or not check_mode):
            out["files"].append({"src": src, "dest": dest, "mode": mode, "secret": secret})
    for directory in _unique(posixpath.dirname(d) for d in out["wanted"]):
        mine = have.get(directory, {})
        if not (mine.get("isdir") and _root_owned(mine, "0755")):
            out["dirs"].append(directory)
    for _group, _src, dest in layout:
        if dest in have and dest not in out["wanted"] and dest not in out["stale"]:
            out["stale"].append(dest)
    return out


def _leaf_reasons(cert, state, cas, want):
    """Why a leaf certificate must go to community.crypto ([] when it is current)."""
    info = state.get("info") or {}
    if not state.get("has_crt"):
        return ["new"]
    reasons = []
    if not state.get("has_key"):
        reasons.append("its key is missing: a new key is made")
    elif info.get("public_key_fingerprints", {}).get("sha256") != state.get("key_fp"):
        reasons.append("it does not match its key")
    ca = cas.get(cert["ca"], {"new": True})
    if ca["new"]:
        reasons.append("its CA %s is new" % cert["ca"])
    elif (
        info.get("issuer_ordered") != ca["subject"]
        or info.get("authority_key_identifier") != ca["ski"]
    ):
        reasons.append("it was not signed by the current %s" % cert["ca"])
    subject = ([["organizationName", cert["o"]]] if cert.get("o") else []) + [
        ["commonName", cert["cn"]]
    ]
    if _as_lists(info.get("subject_ordered")) != subject:
        reasons.append("subject differs")
    have_sans = info.get("subject_alt_name") or []
    if sorted(have_sans) != sorted(cert["sans"]):
        added = [s for s in cert["sans"] if s not in have_sans]
        removed = [s for s in have_sans if s not in cert["sans"]]
        reasons.append(
            "SANs differ (added: %s; removed: %s)"
            % (", ".join(added) or "none", ", ".join(removed) or "none")
        )
    if (
        sorted(info.get("key_usage") or []) != sorted(want["key_usage"])
        or not info.get("key_usage_critical")
        or sorted(info.get("extended_key_usage") or []) != sorted(want["extended_key_usage"])
        or info.get("extended_key_usage_critical")
        or list(info.get("basic_constraints") or []) != list(want["basic_constraints"])
        or not info.get("basic_constraints_critical")
    ):
        reasons.append("key usages differ")
    return reasons


def _flag(value):
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


def _as_lists(pairs):
    return [list(p) for p in pairs or []]


def _ca_entry(cert, state, pki_dir, valid_days, *, out, cas):
    crt = "%s/%s.crt" % (pki_dir, cert["name"])
    key = "%s/%s.key" % (pki_dir, cert["name"])
    info = state.get("info") or {}
    if state.get("has_crt") and not state.get("has_key"):
        out["errors"].append(
            "%s exists but %s is missing: restore the key from a backup, or remove %s too to start"
            " a new CA (every certificate it signed is then re-issued and must be redistributed)."
            % (crt, key, crt)
        )
    elif state.get("has_crt") and info.get("public_key_fingerprints", {}).get(
        "sha256"
    ) != state.get("key_fp"):
        out["errors"].append(
            "%s does not belong to %s: restore the pair from a backup." % (crt, key)
        )
    elif state.get("has_crt"):
        cas[cert["name"]] = {
            "new": False,
            "subject": info.get("subject_ordered"),
            "ski": info.get("subject_key_identifier"),
        }
        days = state.get("days_left", 0)
        if days < valid_days:
            out["warnings"].append(
                "%s.crt expires on %s (in %d days), before a certificate issued today would: plan a"
                " CA rotation." % (cert["name"], info.get("not_after"), int(days))
            )
    else:
        cas[cert["name"]] = {"new": True}
        out["new_cas"].append(dict(cert, ready=bool(state.get("has_key"))))


def plan(certs, states, profiles, settings):
    """What this run has to do in pki_dir.

    ``states`` is, per certificate name, what is there: ``has_key``, ``has_crt``, ``info``
    (community.crypto's x509_certificate_info of the certificate), ``key_fp`` (its key's
    public key sha256 fingerprint), ``days_left``; and under ``sa``: ``has_key``, ``has_pub``,
    ``matches``. ``settings``: pki_dir, key (the key parameters), sa_key_size, renew_before_days,
    valid_days, full_check.

    Returns new_keys (missing keys; an existing key is never replaced), new_cas (missing CA
    certificates; an existing CA is never re-issued), leaves (certificates for community.crypto,
    each with its reason; force only for expiry; ready when its key and CA exist already),
    sa_pub (sa.pub must be written from sa.key), errors (stop the run) and warnings.
    """
    out = {
        "new_keys": [],
        "new_cas": [],
        "leaves": [],
        "sa_pub": False,
        "errors": [],
        "warnings": [],
    }
    cas = {}
    for cert in certs:
        state = states.get(cert["name"], {})
        if not state.get("has_key"):
            out["new_keys"].append(dict(settings["key"], name=cert["name"]))
        if cert["profile"] == "ca":
            _ca_entry(
                cert, state, settings["pki_dir"], int(settings["valid_days"]), out=out, cas=cas
            )
            continue
        if cert["profile"] not in profiles:
            raise PkiError("certificate %s: unknown profile %r" % (cert["name"], cert["profile"]))
        reasons = _leaf_reasons(cert, state, cas, profiles[cert["profile"]]["info"])
        renew = int(settings["renew_before_days"])
        expiring = bool(state.get("has_crt")) and state.get("days_left", 0) < renew
        if expiring:
            reasons.append(
                "expires on %s, within %d days"
                % ((state.get("info") or {}).get("not_after"), renew)
            )
        if reasons or _flag(settings.get("full_check")):
            out["leaves"].append(
                dict(
                    cert,
                    force=expiring,
                    reason="; ".join(reasons) or "full check",
                    ready=bool(state.get("has_key"))
                    and not cas.get(cert["ca"], {"new": True})["new"],
                )
            )
    sa = states.get("sa", {})
    if not sa.get("has_key"):
        out["new_keys"].append({"name": "sa", "type": "RSA", "size": int(settings["sa_key_size"])})
        out["sa_pub"] = True
    else:
        out["sa_pub"] = not sa.get("has_pub") or not sa.get("matches")
    return out
