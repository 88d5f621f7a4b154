# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for kubebin.cluster.packages: see the module's documentation.

When this run already knows the host's installed packages (the fact
``kubebin_installed_packages``, set by kubebin.cluster.host_facts in preflight and extended
here after each install) and every requested package is among them, the module is not run:
asking the package database again costs a module run per role and host (about 0.25 s each
on the lab, five roles a run). Otherwise the module runs and the fact gains what it installed.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.kubebin.cluster.plugins.module_utils.packages import FACT

MODULE = "kubebin.cluster.packages"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        names = self._task.args.get("names") or []
        known = (task_vars.get("ansible_facts") or {}).get(FACT)
        if (
            isinstance(known, list)
            and isinstance(names, list)
            and all(isinstance(n, str) and n in known for n in names)
        ):
            result.update(changed=False, missing=[], known_installed=True)
            return result
        result.update(
            self._execute_module(MODULE, module_args=dict(self._task.args), task_vars=task_vars)
        )
        if isinstance(known, list) and not result.get("failed") and not self._task.check_mode:
            result["ansible_facts"] = {FACT: sorted(set(known) | set(names))}
        return result
