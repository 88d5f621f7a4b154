#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kube_apply
short_description: kubectl apply of manifest files, changed only when an object really changed
version_added: "0.3.0"
description:
  - Runs C(kubectl apply) of O(files) in order with O(kubeconfig), on a host that has kubectl
    (the first control-plane host), and reports C(changed) only if the C(resourceVersion) of
    an object of those files moved. kubectl 1.10 says C(configured) for RBAC objects on every
    apply, so its own output cannot tell.
  - Why a module - a missing builtin. C(kubernetes.core.k8s) needs the Python kubernetes
    client on the host and talks to the API itself; this one drives the host's own kubectl
    of the cluster's release, as the on-call would.
options:
  kubeconfig:
    description: The kubeconfig kubectl uses (the admin kubeconfig on a master).
    type: path
    required: true
  files:
    description: The manifests, applied in this order in one kubectl run.
    type: list
    elements: path
    required: true
  kubectl:
    description: The kubectl binary.
    type: path
    default: kubectl
  prune:
    description:
      - After the apply, delete the objects each entry selects - C(kind) in C(namespace) with
        the label C(selector) - what the inventory no longer has (the selector excludes what
        the files keep). A namespace that does not exist holds nothing to delete.
    type: list
    elements: dict
    default: []
notes:
  - Check mode changes nothing and reports C(changed) as unknown (false).
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Apply the add-on manifests
  kubebin.cluster.kube_apply:
    kubeconfig: /etc/kubernetes/admin.conf
    files: [/etc/kubernetes/addons/10-rbac.yaml, /etc/kubernetes/addons/20-kube-dns.yaml]
"""

RETURN = r"""
stdout:
  description: kubectl apply's output.
  type: str
  returned: when applied
pruned:
  description: The objects O(prune) deleted (kubectl's names, with their namespace).
  type: list
  elements: str
  returned: when applied
"""

from ansible.module_utils.basic import AnsibleModule


def _versions(module, base, file_args):
    """The resourceVersions of the objects of the files, as kubectl prints them."""
    rc, out, err = module.run_command(
        [
            *base,
            "get",
            *file_args,
            "--ignore-not-found",
            "-o",
            "jsonpath={.metadata.resourceVersion}{.items[*].metadata.resourceVersion}",
        ]
    )
    if rc != 0:
        module.fail_json(msg="kubectl get of the manifests failed: %s" % (err or out).strip())
    return out


def main():
    module = AnsibleModule(
        argument_spec={
            "kubeconfig": {"type": "path", "required": True},
            "files": {"type": "list", "elements": "path", "required": True},
            "kubectl": {"type": "path", "default": "kubectl"},
            "prune": {"type": "list", "elements": "dict", "default": []},
        },
        supports_check_mode=True,
    )
    files = module.params["files"]
    if not files:
        module.exit_json(changed=False, stdout="")
    if module.check_mode:
        module.exit_json(changed=False, skipped_reason="check mode")
    kubectl = module.get_bin_path(module.params["kubectl"], required=True)
    base = [kubectl, "--kubeconfig", module.params["kubeconfig"]]
    file_args = []
    for path in files:
        file_args += ["-f", path]
    before = _versions(module, base, file_args)
    rc, out, err = module.run_command([*base, "apply", *file_args])
    if rc != 0:
        module.fail_json(msg="kubectl apply failed: %s" % (err or out).strip(), stdout=out)
    after = _versions(module, base, file_args)
    pruned = _prune(module, base, module.params["prune"])
    module.exit_json(changed=before != after or bool(pruned), stdout=out, pruned=pruned)


def _prune(module, base, entries):
    """Delete what each entry selects; the names deleted."""
    deleted = []
    for entry in entries:
        missing = {"kind", "namespace", "selector"} - set(entry)
        if missing:
            module.fail_json(msg="prune entry %r lacks %s" % (entry, sorted(missing)))
        ns = str(entry["namespace"])
        rc, out, err = module.run_command(
            [*base, "-n", ns, "get", str(entry["kind"]), "-l", str(entry["selector"]), "-o", "name"]
        )
        if rc != 0:
            if "not found" in (err or ""):
                continue  # the namespace is gone: nothing of ours is left in it
            module.fail_json(msg="kubectl get for prune failed: %s" % (err or out).strip())
        names = [line.strip() for line in out.splitlines() if line.strip()]
        if not names:
            continue
        rc, out, err = module.run_command([*base, "-n", ns, "delete", "--ignore-not-found", *names])
        if rc != 0:
            module.fail_json(msg="kubectl delete failed: %s" % (err or out).strip())
        deleted += ["%s/%s" % (ns, name) for name in names]
    return deleted


if __name__ == "__main__":
    main()
