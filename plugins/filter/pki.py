# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PKI plan filters: plugins/plugin_utils/pki.py does the planning; this file reads what
pki_dir holds (community.crypto's own info filters, so the comparison sees the certificates
exactly as community.crypto does) and hands it over.

Each filter's documentation is in ``<filter name>.yml`` next to this file.
"""

from __future__ import annotations

import datetime
import hashlib
import os

from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.plugin_utils import pki as core

try:  # the collection's dependency; a clear error at use time when it is missing
    from ansible_collections.community.crypto.plugins.filter.openssl_privatekey_info import (
        openssl_privatekey_info_filter,
    )
    from ansible_collections.community.crypto.plugins.filter.openssl_publickey_info import (
        openssl_publickey_info_filter,
    )
    from ansible_collections.community.crypto.plugins.filter.x509_certificate_info import (
        x509_certificate_info_filter,
    )
except ImportError as exc:
    CRYPTO_IMPORT_ERROR = str(exc)
else:
    CRYPTO_IMPORT_ERROR = None


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _infos():
    if CRYPTO_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "kubebin.cluster.pki_plan needs the collection community.crypto on the controller"
            " (ansible-galaxy collection install community.crypto): %s" % CRYPTO_IMPORT_ERROR
        )
    return (
        x509_certificate_info_filter,
        openssl_privatekey_info_filter,
        openssl_publickey_info_filter,
    )


def _key_fp(private_info, path):
    return private_info(_read(path))["public_key_fingerprints"]["sha256"]


def pki_state(certs, pki_dir, now=None):
    """What pki_dir holds for each certificate (and sa.key/sa.pub), read on the controller."""
    cert_info, private_info, public_info = _infos()
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    states = {}
    for cert in certs:
        crt = os.path.join(pki_dir, cert["name"] + ".crt")
        key = os.path.join(pki_dir, cert["name"] + ".key")
        state = {"has_crt": os.path.isfile(crt), "has_key": os.path.isfile(key)}
        if state["has_crt"]:
            info = cert_info(_read(crt))
            not_after = datetime.datetime.strptime(info["not_after"], "%Y%m%d%H%M%SZ")
            state.update(info=info, days_left=(not_after - now).total_seconds() / 86400)
            if state["has_key"]:
                state["key_fp"] = _key_fp(private_info, key)
        states[cert["name"]] = state
    sa_key, sa_pub = os.path.join(pki_dir, "sa.key"), os.path.join(pki_dir, "sa.pub")
    sa = {"has_key": os.path.isfile(sa_key), "has_pub": os.path.isfile(sa_pub)}
    if sa["has_key"] and sa["has_pub"]:
        sa["matches"] = public_info(_read(sa_pub))["fingerprints"]["sha256"] == _key_fp(
            private_info, sa_key
        )
    states["sa"] = sa
    return states


def pki_certificates(model, groups, ca_cn, etcd_ca_cn, extra_sans=None):
    try:
        return core.certificates(model, groups, ca_cn, etcd_ca_cn, extra_sans or [])
    except (core.PkiError, KeyError) as exc:
        raise AnsibleFilterError("kubebin.cluster.pki_certificates: %s" % exc) from exc


def pki_plan(certs, pki_dir, profiles, settings):
    try:
        return core.plan(
            certs, pki_state(certs, pki_dir), profiles, dict(settings, pki_dir=pki_dir)
        )
    except (core.PkiError, OSError, KeyError, ValueError) as exc:
        raise AnsibleFilterError("kubebin.cluster.pki_plan: %s" % exc) from exc


def pki_host_share(
    found, host, group_names, dirs, checksums, *, ca_key_on_masters=False, check_mode=False
):
    try:
        return core.host_share(
            host,
            group_names,
            dirs,
            found,
            checksums,
            ca_key_on_masters=bool(ca_key_on_masters),
            check_mode=bool(check_mode),
        )
    except (core.PkiError, KeyError) as exc:
        raise AnsibleFilterError("kubebin.cluster.pki_host_share: %s" % exc) from exc


def pki_encryption_config(key, release):
    """The apiserver's encryption provider config for Secrets (aescbc with KEY, then
    identity), in the release's format: see plugin_utils/pki.py."""
    try:
        return core.encryption_config(key, release)
    except (core.PkiError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("kubebin.cluster.pki_encryption_config: %s" % exc) from exc


def pki_checksums(pki_dir):
    """sha1 of every file in pki_dir, by name (what the hosts' copies must match); {} when
    the directory is not there yet (check mode on a first run)."""
    if not os.path.isdir(pki_dir):
        return {}
    sums = {}
    for name in sorted(os.listdir(pki_dir)):
        path = os.path.join(pki_dir, name)
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                sums[name] = hashlib.sha1(handle.read()).hexdigest()
    return sums


class FilterModule:
    """The PKI plan: certificates, what a run makes, each host's share."""

    def filters(self):
        return {
            "pki_certificates": pki_certificates,
            "pki_plan": pki_plan,
            "pki_host_share": pki_host_share,
            "pki_checksums": pki_checksums,
            "pki_encryption_config": pki_encryption_config,
        }
