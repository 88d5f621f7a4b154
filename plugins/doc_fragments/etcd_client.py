# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options every module that talks to etcd over TLS takes (module_utils/etcd.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  endpoint:
    description: The etcd client URL.
    type: str
    default: https://127.0.0.1:2379
  ca_file:
    description: CA certificate that signed the etcd server certificate.
    type: path
    required: true
  cert_file:
    description: Client certificate.
    type: path
    required: true
  key_file:
    description: Client key.
    type: path
    required: true
  timeout:
    description: Seconds to wait for etcd.
    type: int
    default: 10
"""
