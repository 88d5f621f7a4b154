#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: etcd_auth
short_description: etcd's v2 and v3 authorization for clients known by their certificate's CN
version_added: "0.4.0"
description:
  - With C(--client-cert-auth), etcd 3.3 takes a client certificate's common name as the user
    of a request, in both of its separate user stores (checked on the real v3.3.27 binary,
    docs/security.md). This module makes both stores hold the users and roles given, creates
    the C(root) user they need, enables authorization, and revokes the v2 C(guest) role's
    default read and write on C(/*) - touching only what differs.
  - v2 through its HTTP API (C(/v2/auth)), v3 through C(etcdctl) (the gRPC API has no Python
    client in the standard library). Run it on an etcd member with a certificate whose CN is
    (or becomes) a root user.
  - Why a module - a missing builtin. No Ansible module manages etcd users and roles.
options:
  etcdctl:
    description: The etcdctl binary (v3 API).
    type: path
    default: etcdctl
  root_password:
    description: The password of the C(root) user both stores require (made once, kept secret).
    type: str
    required: true
  v2_roles:
    description: v2 role to C({read, write}) key patterns (e.g. C(/coreos.com/network/*)).
    type: dict
    default: {}
  v2_users:
    description: v2 user (a certificate CN) to its roles (C(root) for full access).
    type: dict
    default: {}
  v3_users:
    description: v3 user (a certificate CN) to its roles (C(root) for full access).
    type: dict
    default: {}
extends_documentation_fragment:
  - kubebin.cluster.etcd_client
notes:
  - Supports check mode (reports what it would change).
  - O(cert_file)'s CN must be among O(v2_users) and O(v3_users) with the root role.
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Authorization for the cluster's etcd clients
  kubebin.cluster.etcd_auth:
    ca_file: /etc/etcd/pki/ca.crt
    cert_file: /etc/etcd/pki/etcdctl.crt
    key_file: /etc/etcd/pki/etcdctl.key
    root_password: "{{ etcd_root_password }}"
    v2_roles:
      flannel: {read: [/coreos.com/network/*], write: [/coreos.com/network/*]}
    v2_users: {etcdctl: [root], flanneld: [flannel]}
    v3_users: {etcdctl: [root], kube-apiserver-etcd-client: [root]}
  no_log: true
"""

RETURN = r"""
changes:
  description: What was (or, in check mode, would be) changed, one line each.
  returned: always
  type: list
  elements: str
"""

import json
import secrets
import ssl
from urllib.error import HTTPError, URLError
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import ConnectionError as UrlConnectionError
from ansible.module_utils.urls import open_url

from ansible_collections.kubebin.cluster.plugins.module_utils.etcd import CLIENT_ARGS, tls_args

ROOT = "root"
GUEST = "guest"


class V2:
    def __init__(self, module):
        p = module.params
        self.module = module
        self.base = p["endpoint"].rstrip("/") + "/v2/auth"
        self.timeout = p["timeout"]
        self.tls = tls_args(module)

    def call(self, method, path, body=None):
        """(status, document); 404 gives (404, None)."""
        url = self.base + quote(path)
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data else None
        try:
            resp = open_url(
                url, data=data, headers=headers, method=method, timeout=self.timeout, **self.tls
            )
            text = resp.read().decode()
            return resp.status, json.loads(text) if text.strip() else {}
        except HTTPError as exc:
            if exc.code == 404:
                return 404, None
            payload = exc.read().decode(errors="replace")
            self.module.fail_json(
                msg="etcd v2 %s %s failed: HTTP %s %s" % (method, path, exc.code, payload)
            )
        except (URLError, OSError, ssl.SSLError, UrlConnectionError) as exc:
            self.module.fail_json(msg="cannot reach etcd at %s: %s" % (self.base, exc))

    def enabled(self):
        return bool(self.call("GET", "/enable")[1].get("enabled"))


def _perms(doc):
    kv = ((doc or {}).get("permissions") or {}).get("kv") or {}
    return {"read": sorted(kv.get("read") or []), "write": sorted(kv.get("write") or [])}


def _v2_roles(v2, roles, check, changes):
    for role, spec in sorted(roles.items()):
        want = {"read": sorted(spec.get("read") or []), "write": sorted(spec.get("write") or [])}
        _code, doc = v2.call("GET", "/roles/" + role)
        have = _perms(doc) if doc else None
        if have == want:
            continue
        changes.append("v2 role %s: %s" % (role, want))
        if check:
            continue
        if doc is None:
            v2.call("PUT", "/roles/" + role, {"role": role, "permissions": {"kv": want}})
            continue
        body = {"role": role}
        grant = {k: sorted(set(want[k]) - set(have[k])) for k in want}
        revoke = {k: sorted(set(have[k]) - set(want[k])) for k in have}
        if any(grant.values()):
            body["grant"] = {"kv": grant}
        if any(revoke.values()):
            body["revoke"] = {"kv": revoke}
        v2.call("PUT", "/roles/" + role, body)


def _v2_users(v2, users, root_password, check, changes):
    for user, roles in sorted(users.items()):
        _code, doc = v2.call("GET", "/users/" + user)
        listed = (doc or {}).get("roles") or []
        have = sorted(r["role"] if isinstance(r, dict) else r for r in listed)
        want = sorted(set(roles))
        if doc is not None and have == want:
            continue
        changes.append("v2 user %s: roles %s" % (user, want))
        if check:
            continue
        if doc is None:
            password = root_password if user == ROOT else secrets.token_urlsafe(24)
            v2.call("PUT", "/users/" + user, {"user": user, "password": password})
            have = [ROOT] if user == ROOT else []
        grant, revoke = sorted(set(want) - set(have)), sorted(set(have) - set(want))
        if grant:
            v2.call("PUT", "/users/" + user, {"user": user, "grant": grant})
        if revoke:
            v2.call("PUT", "/users/" + user, {"user": user, "revoke": revoke})


def converge_v2(module, v2, changes):
    """Roles, users (root among them), authorization on, guest's default access revoked."""
    p, check = module.params, module.check_mode
    _v2_roles(v2, p["v2_roles"], check, changes)
    users = dict(p["v2_users"])
    users.setdefault(ROOT, [ROOT])
    _v2_users(v2, users, p["root_password"], check, changes)
    if not v2.enabled():
        changes.append("v2 authorization enabled")
        if check:
            changes.append("v2 role guest: read and write on /* revoked")
            return
        v2.call("PUT", "/enable")
    # Enabling gives the built-in guest role read and write on /*: every certificate the CA
    # signed would keep full access.
    _code, guest = v2.call("GET", "/roles/" + GUEST)
    left = _perms(guest)
    if guest is not None and (left["read"] or left["write"]):
        changes.append("v2 role guest: revoked %s" % left)
        if not check:
            v2.call("PUT", "/roles/" + GUEST, {"role": GUEST, "revoke": {"kv": left}})


class V3:
    def __init__(self, module):
        p = module.params
        self.module = module
        self.base = [
            module.get_bin_path(p["etcdctl"], required=True),
            "--endpoints=" + p["endpoint"],
            "--cacert=" + p["ca_file"],
            "--cert=" + p["cert_file"],
            "--key=" + p["key_file"],
            "--command-timeout=%ds" % p["timeout"],
        ]

    def run(self, *args, ok=(0,)):
        rc, out, err = self.module.run_command(
            [*self.base, *args], environ_update={"ETCDCTL_API": "3"}
        )
        if ok is not None and rc not in ok:
            self.module.fail_json(msg="etcdctl %s failed: %s" % (args[0:2], (err or out).strip()))
        return rc, out, err

    def enabled(self):
        """Whether v3 authorization is on. etcd 3.3 has no status call; its client ignores
        credentials while authorization is off, so a wrong password succeeds then, and is
        refused once it is on."""
        wrong = "%s:%s" % (ROOT, secrets.token_urlsafe(16))
        rc, out, err = self.run("--user=" + wrong, "get", "/", "--keys-only", "--limit=1", ok=None)
        if rc == 0:
            return False
        text = (err or "") + (out or "")
        if "authentication failed" in text or "invalid user ID or password" in text:
            return True
        self.module.fail_json(
            msg="cannot tell whether etcd v3 authorization is on: %s" % text.strip()
        )
        return True

    def roles_of(self, user):
        rc, out, _err = self.run("user", "get", user, ok=(0, 1))
        if rc != 0:
            return None
        for line in out.splitlines():
            if line.startswith("Roles:"):
                return sorted(line.split(":", 1)[1].split())
        return []


def converge_v3(module, v3, changes):
    p, check = module.params, module.check_mode
    users = dict(p["v3_users"])
    users.setdefault(ROOT, [ROOT])
    if v3.run("role", "get", ROOT, ok=(0, 1))[0] != 0:
        changes.append("v3 role root")
        if not check:
            v3.run("role", "add", ROOT)
    for user, roles in sorted(users.items()):
        have = v3.roles_of(user)
        want = sorted(set(roles))
        if have == want:
            continue
        changes.append("v3 user %s: roles %s" % (user, want))
        if check:
            continue
        if have is None:
            password = p["root_password"] if user == ROOT else secrets.token_urlsafe(24)
            v3.run("user", "add", "%s:%s" % (user, password), "--interactive=false")
            have = []
        for role in sorted(set(want) - set(have)):
            v3.run("user", "grant-role", user, role)
        for role in sorted(set(have) - set(want)):
            v3.run("user", "revoke-role", user, role)
    if not v3.enabled():
        changes.append("v3 authorization enabled")
        if not check:
            v3.run("auth", "enable")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **CLIENT_ARGS,
            etcdctl=dict(type="path", default="etcdctl"),
            root_password=dict(type="str", required=True, no_log=True),
            v2_roles=dict(type="dict", default={}),
            v2_users=dict(type="dict", default={}),
            v3_users=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    changes = []
    converge_v3(module, V3(module), changes)
    converge_v2(module, V2(module), changes)
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == "__main__":
    main()
