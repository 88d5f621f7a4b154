# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for kubebin.cluster.template_files: see the module's documentation.

A role's file list is rendered here, on the controller (the role's templates, with ``item``
set to the entry, as the template lookup does), then written: on the host by one run of
kubebin.cluster.write_files in an install; under ``render_dir`` in render mode, here on the
controller with the module's own file helpers (module_utils/files.py) and no module run,
which is what a render of a hundred hosts costs per host. Both modes render through this one
code path, so render mode writes exactly what the install writes.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

from ansible_collections.kubebin.cluster.plugins.module_utils.files import differs, read_text, write

MODULE = "kubebin.cluster.write_files"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def _render(self, item, task_vars):
        lookup = lookup_loader.get(
            "ansible.builtin.template", loader=self._loader, templar=self._templar
        )
        try:
            return lookup.run(
                [str(item["src"])], variables=task_vars, template_vars={"item": item}
            )[0]
        except Exception as exc:
            raise AnsibleActionFail(
                "files: rendering %s for %s failed: %s" % (item["src"], item["dest"], exc)
            ) from exc

    def _render_locally(self, root, files):
        """write_files' result for FILES written under ROOT on the controller."""
        written, diffs = [], []
        for entry in files:
            path = os.path.normpath(os.path.join(root, entry["path"].lstrip("/")))
            if not path.startswith(os.path.normpath(root) + os.sep):
                raise AnsibleActionFail(
                    "files: path %r leaves render_dir %s" % (entry["path"], root)
                )
            data = entry["content"].encode("utf-8")
            mode = int(entry["mode"], 8)
            if not differs(path, data, mode):
                continue
            written.append(os.path.relpath(path, root))
            if self._task.diff:
                diffs.append(
                    {
                        "before_header": path,
                        "after_header": path,
                        "before": read_text(path),
                        "after": entry["content"],
                    }
                )
            if not self._task.check_mode:
                write(path, data, mode)
        result = {"changed": bool(written), "written": written, "changed_dirs": []}
        if self._task.diff:
            result["diff"] = diffs
        return result

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        unknown = sorted(set(args) - {"files", "dirs", "root", "render_dir", "render_into"})
        if unknown:
            raise AnsibleActionFail("unknown option(s): %s" % ", ".join(unknown))
        files = args.get("files")
        if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
            raise AnsibleActionFail(
                "files must be a list of dicts (src, dest, mode, validate, service)"
            )
        for item in files:
            if not item.get("src") or not item.get("dest"):
                raise AnsibleActionFail("files: every entry needs src and dest (%r)" % (item,))
        render_dir = args.get("render_dir") or ""
        into = args.get("render_into") or "hosts/%s" % task_vars.get("inventory_hostname", "")
        prefix = "/" + into.strip("/") if render_dir else ""

        out = []
        for item in files:
            entry = {
                "path": prefix + "/" + str(item["dest"]).lstrip("/"),
                "content": self._render(item, task_vars),
                "mode": str(item.get("mode") or "0644"),
            }
            if item.get("validate") and not render_dir:  # validators are the host's tools
                entry["validate"] = item["validate"]
            out.append(entry)
        dirs = [
            {
                "path": prefix + "/" + str(d["path"]).lstrip("/"),
                "mode": str(d.get("mode") or "0755"),
            }
            for d in (args.get("dirs") or [] if not render_dir else [])
        ]
        if render_dir:
            written = self._render_locally(render_dir, out)
        else:
            module_args = {"root": args.get("root") or "/", "files": out, "dirs": dirs}
            written = self._execute_module(MODULE, module_args=module_args, task_vars=task_vars)
        result.update(written)
        if written.get("failed"):
            return result
        done = {"/" + p.lstrip("/") for p in written.get("written", [])}
        changed = [item for item, entry in zip(files, out) if entry["path"] in done]
        base = "" if render_dir else str(args.get("root") or "/").rstrip("/")
        result["changed_files"] = [base + "/" + str(item["dest"]).lstrip("/") for item in changed]
        result["services"] = sorted(
            {str(item["service"]) for item in changed if item.get("service")}
        )
        return result
