#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: etcd_v2
short_description: Read and write etcd v2 keys over TLS (flannel's network config and leases)
version_added: "0.1.0"
description:
  - Talks to etcd's v2 HTTP API with a client certificate, from the host the module runs on
    (normally an etcd member, against C(https://127.0.0.1:2379)).
  - C(read) returns every key under O(prefix) with its value, TTL and expiration.
  - C(write) makes O(keys) hold the given values, each either permanent (no TTL) or with a TTL,
    touching only the keys that differ; a value that is JSON compares as JSON, so key order
    and spacing do not count as changes. Writing a lease's own value without a TTL turns it
    into a flannel reservation (the C(etcdctl set -ttl 0) of flannel's documentation).
  - flannel 0.10 speaks only the v2 API; its keys are invisible to v3 clients and snapshots.
options:
  action:
    description: What to do.
    type: str
    choices: [read, write]
    default: read
  prefix:
    description:
      - For O(action=read), the key (directory) to list recursively, or a list of them (their
        keys are returned together; a prefix that does not exist yields nothing).
    type: list
    elements: str
    default: [/coreos.com/network]
  keys:
    description:
      - For O(action=write), key to C({value, ttl}). C(value) is a string, or a dict/list written as
        JSON; C(ttl) omitted or null makes the key permanent.
    type: dict
    default: {}
  absent:
    description:
      - For O(action=write), keys to delete (after O(keys) are written); a key already absent
        is no change.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - kubebin.cluster.etcd_client
notes:
  - Supports check mode and diff mode.
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Flannel's subnet keys
  kubebin.cluster.etcd_v2:
    action: read
    prefix: /coreos.com/network/subnets
    ca_file: /etc/etcd/pki/ca.crt
    cert_file: /etc/etcd/pki/etcdctl.crt
    key_file: /etc/etcd/pki/etcdctl.key
  register: subnets

- name: A permanent reservation for node1
  kubebin.cluster.etcd_v2:
    action: write
    ca_file: /etc/etcd/pki/ca.crt
    cert_file: /etc/etcd/pki/etcdctl.crt
    key_file: /etc/etcd/pki/etcdctl.key
    keys:
      /coreos.com/network/subnets/172.20.1.0-24:
        value: {PublicIP: 192.168.1.94, BackendType: host-gw}
"""

RETURN = r"""
keys:
  description: For read, every (non-directory) key under the prefixes, sorted by key.
  returned: action=read
  type: list
  elements: dict
  contains:
    key:
      description: The key.
      type: str
    value:
      description: The value as stored.
      type: str
    ttl:
      description: Seconds left; null for a permanent key.
      type: int
    expiration:
      description: When it expires; null for a permanent key.
      type: str
changes:
  description:
    - For write, the keys written or deleted (or, in check mode, that would be), with
      before/after (after null for a deleted key).
  returned: action=write
  type: list
  elements: dict
"""

import json
import ssl
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import ConnectionError as UrlConnectionError
from ansible.module_utils.urls import open_url

from ansible_collections.kubebin.cluster.plugins.module_utils.etcd import CLIENT_ARGS, tls_args


class Etcd:
    def __init__(self, module):
        params = module.params
        self.module = module
        self.base = params["endpoint"].rstrip("/") + "/v2/keys"
        self.timeout = params["timeout"]
        self.tls = tls_args(module)

    def _url(self, key):
        return self.base + quote("/" + key.lstrip("/"))

    def request(self, method, key, data=None, query=None):
        url = self._url(key) + ("?" + urlencode(query) if query else "")
        body = urlencode(data) if data is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else None
        try:
            resp = open_url(
                url, data=body, headers=headers, method=method, timeout=self.timeout, **self.tls
            )
            return json.loads(resp.read().decode())
        except HTTPError as exc:
            payload = exc.read().decode(errors="replace")
            try:
                doc = json.loads(payload)
            except ValueError:
                doc = {"message": payload}
            if exc.code == 404 and doc.get("errorCode") == 100:
                return None
            self.module.fail_json(
                msg="etcd v2 %s %s failed: HTTP %s %s"
                % (method, key, exc.code, doc.get("message")),
                response=doc,
            )
        except (URLError, OSError, ssl.SSLError, UrlConnectionError) as exc:
            self.module.fail_json(
                msg="cannot reach etcd at %s: %s (is the v2 API on? etcd 3.4+ needs --enable-v2)"
                % (self.base, exc)
            )

    def get(self, key):
        doc = self.request("GET", key)
        return doc["node"] if doc else None

    def walk(self, prefix):
        doc = self.request("GET", prefix, query={"recursive": "true", "sorted": "true"})
        found = []

        def visit(node):
            if node.get("dir"):
                for child in node.get("nodes", []):
                    visit(child)
            else:
                found.append(
                    {
                        "key": node["key"],
                        "value": node.get("value"),
                        "ttl": node.get("ttl"),
                        "expiration": node.get("expiration"),
                    }
                )

        if doc:
            visit(doc["node"])
        return sorted(found, key=lambda item: item["key"])

    def put(self, key, value, ttl):
        data = {"value": value}
        if ttl is not None:
            data["ttl"] = str(ttl)
        return self.request("PUT", key, data=data)

    def delete(self, key):
        return self.request("DELETE", key)


def normalise(value):
    """(comparable form, text to store) of a value: JSON compares as JSON."""
    if isinstance(value, (dict, list)):
        return value, json.dumps(value, sort_keys=True, separators=(",", ":"))
    text = "" if value is None else str(value)
    try:
        return json.loads(text), text
    except ValueError:
        return text, text


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", choices=["read", "write"], default="read"),
            **CLIENT_ARGS,
            prefix=dict(type="list", elements="str", default=["/coreos.com/network"]),
            keys=dict(type="dict", default={}, no_log=False),
            absent=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    etcd = Etcd(module)
    if module.params["action"] == "read":
        found = {}
        for prefix in module.params["prefix"]:
            for item in etcd.walk(prefix):
                found[item["key"]] = item
        module.exit_json(changed=False, keys=[found[k] for k in sorted(found)])

    changes = []
    before_lines, after_lines = [], []
    for key in sorted(module.params["keys"]):
        spec = module.params["keys"][key]
        if not isinstance(spec, dict) or "value" not in spec:
            module.fail_json(msg="keys.%s must be a dict with 'value' (and optional 'ttl')" % key)
        want, text = normalise(spec["value"])
        ttl = spec.get("ttl")
        node = etcd.get(key)
        have = normalise(node.get("value"))[0] if node else None
        has_ttl = node.get("ttl") if node else None
        if node is not None and have == want and (has_ttl is None) == (ttl is None):
            continue
        change = {
            "key": key,
            "before": node.get("value") if node else None,
            "before_ttl": has_ttl,
            "after": text,
            "after_ttl": ttl,
        }
        changes.append(change)
        before_lines.append(
            "%s = %s%s" % (key, change["before"], " (ttl %s)" % has_ttl if has_ttl else "")
            if node
            else "%s (absent)" % key
        )
        after_lines.append("%s = %s%s" % (key, text, " (ttl %s)" % ttl if ttl else ""))
        if not module.check_mode:
            etcd.put(key, text, ttl)

    for key in sorted(set(module.params["absent"])):
        node = etcd.get(key)
        if node is None:
            continue
        has_ttl = node.get("ttl")
        changes.append(
            {
                "key": key,
                "before": node.get("value"),
                "before_ttl": has_ttl,
                "after": None,
                "after_ttl": None,
            }
        )
        before_lines.append(
            "%s = %s%s" % (key, node.get("value"), " (ttl %s)" % has_ttl if has_ttl else "")
        )
        after_lines.append("%s (absent)" % key)
        if not module.check_mode:
            etcd.delete(key)

    result = dict(changed=bool(changes), changes=changes)
    if module._diff:
        result["diff"] = dict(
            before="\n".join(before_lines) + ("\n" if before_lines else ""),
            after="\n".join(after_lines) + ("\n" if after_lines else ""),
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
