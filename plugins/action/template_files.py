# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for kubebin.cluster.template_files: see the module's documentation.

A role's file list is rendered here, on the controller (the role's templates, with ``item``
set to the entry, as the template lookup does), and written by one run of
kubebin.cluster.write_files: on the host in an install, under ``render_dir`` on the
controller in render mode (the render task runs with ``delegate_to: localhost``). Both modes
go through this one code path, so render mode writes exactly what the install writes.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

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
        module_args = {"root": render_dir or args.get("root") or "/", "files": out, "dirs": dirs}
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
