# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules that talk to etcd over TLS share: their options (documented in
doc_fragments/etcd_client.py) and the TLS arguments of open_url."""

from __future__ import annotations

import os

CLIENT_ARGS = dict(
    endpoint=dict(type="str", default="https://127.0.0.1:2379"),
    ca_file=dict(type="path", required=True),
    cert_file=dict(type="path", required=True),
    key_file=dict(type="path", required=True, no_log=False),
    timeout=dict(type="int", default=10),
)


def tls_args(module):
    """open_url's TLS arguments for the module's client certificate; fails naming any of the
    three files it cannot read."""
    params = module.params
    unreadable = [
        "%s=%s" % (name, params[name])
        for name in ("ca_file", "cert_file", "key_file")
        if not os.access(params[name], os.R_OK)
    ]
    if unreadable:
        module.fail_json(
            msg="cannot load the etcd client TLS files: %s not readable" % ", ".join(unreadable)
        )
    return dict(
        ca_path=params["ca_file"],
        client_cert=params["cert_file"],
        client_key=params["key_file"],
        validate_certs=True,
    )
