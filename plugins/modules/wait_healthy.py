#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wait_healthy
short_description: Wait until several HTTPS health endpoints answer, in one step
version_added: "0.1.0"
description:
  - Polls each of O(checks) until it answers HTTP 200 with the body O(expect), with a client
    certificate, or fails after O(retries) with each endpoint's last answer or error.
  - One module run for all the components of a host (a looped M(ansible.builtin.uri) with
    C(until) costs a run per component and per retry).
  - Reads only; check mode runs it as well (it changes nothing).
options:
  checks:
    description: The endpoints.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: What answers there (used in messages and the result).
        type: str
        required: true
      url:
        description: The HTTPS URL, e.g. C(https://127.0.0.1:6443/healthz).
        type: str
        required: true
      validate_certs:
        description: Verify the server's certificate against O(ca_path) (and its name).
        type: bool
        default: true
  ca_path:
    description: The CA bundle that signed the servers' certificates.
    type: path
  client_cert:
    description: The client certificate presented to the endpoints.
    type: path
  client_key:
    description: The client certificate's key.
    type: path
  expect:
    description: The body a healthy endpoint returns.
    type: str
    default: ok
  retries:
    description: Polls per endpoint before giving up.
    type: int
    default: 60
  delay:
    description: Seconds between polls.
    type: float
    default: 2
  timeout:
    description: Seconds one request may take.
    type: float
    default: 5
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Wait for the control plane
  kubebin.cluster.wait_healthy:
    ca_path: /etc/kubernetes/pki/ca.crt
    client_cert: /etc/kubernetes/pki/admin.crt
    client_key: /etc/kubernetes/pki/admin.key
    checks:
      - {name: kube-apiserver, url: "https://127.0.0.1:6443/healthz"}
      - {name: kube-scheduler, url: "https://127.0.0.1:10259/healthz", validate_certs: false}
"""

RETURN = r"""
polls:
  description: How many polls each endpoint took to answer healthy.
  returned: success
  type: dict
  sample: {kube-apiserver: 1}
"""

import ssl
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url


def poll(module, check):
    """None when healthy, else a description of what came back."""
    params = module.params
    try:
        response = open_url(
            check["url"],
            method="GET",
            timeout=params["timeout"],
            validate_certs=check["validate_certs"],
            ca_path=params["ca_path"],
            client_cert=params["client_cert"],
            client_key=params["client_key"],
            follow_redirects="none",
        )
        status = response.getcode()
        body = response.read().decode("utf-8", "replace").strip()
    except (OSError, ssl.SSLError, ValueError) as exc:  # URLError and HTTPError are OSErrors
        code = getattr(exc, "code", None)
        return "HTTP %s" % code if code else "%s: %s" % (type(exc).__name__, exc)
    if status == 200 and body == params["expect"]:
        return None
    return "HTTP %s, body %r" % (status, body[:200])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            checks=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    name=dict(type="str", required=True),
                    url=dict(type="str", required=True),
                    validate_certs=dict(type="bool", default=True),
                ),
            ),
            ca_path=dict(type="path"),
            client_cert=dict(type="path"),
            client_key=dict(type="path", no_log=False),
            expect=dict(type="str", default="ok"),
            retries=dict(type="int", default=60),
            delay=dict(type="float", default=2),
            timeout=dict(type="float", default=5),
        ),
        supports_check_mode=True,
    )
    pending = list(module.params["checks"])
    polls = dict((c["name"], 0) for c in pending)
    last = {}
    for attempt in range(max(1, module.params["retries"])):
        still = []
        for check in pending:
            polls[check["name"]] += 1
            problem = poll(module, check)
            if problem:
                last[check["name"]] = problem
                still.append(check)
        pending = still
        if not pending:
            module.exit_json(changed=False, polls=polls)
        if attempt + 1 < module.params["retries"]:
            time.sleep(module.params["delay"])
    module.fail_json(
        msg="not healthy after %d polls: %s"
        % (
            module.params["retries"],
            "; ".join("%s (%s): %s" % (c["name"], c["url"], last[c["name"]]) for c in pending),
        ),
        polls=polls,
    )


if __name__ == "__main__":
    main()
