# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for kubebin.cluster.template_files: see the module's documentation.

A role's file list is rendered here, on the controller (the role's templates, with ``item``
set to the entry, as the template lookup does), then written: on the host by one run of
kubebin.cluster.write_files in an install; under ``render_dir`` in render mode, here on the
controller with the module's own file helpers (module_utils/files.py) and no module run.
Both modes render through ``_render``, so render mode writes exactly what the install writes.

Render mode of many hosts (``hosts``) is one task on the controller: each host's variables
come from the run's variable manager as a task of this role would see them on that host, the
role's settings are checked against its argument spec per host, and Jinja's compiled code is
reused between hosts (plugin_utils/jinja_cache.py). What that saves is measured by
``make bench`` (tools/bench/bench_render.py): a task per host costs a process and the task's
own templating per host, and compiling the same expressions again per host cost most of
what was left.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import yaml
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.template import Templar, trust_as_template

from ansible_collections.kubebin.cluster.plugins.module_utils.files import FilesError, write_tree
from ansible_collections.kubebin.cluster.plugins.plugin_utils import kube_files
from ansible_collections.kubebin.cluster.plugins.plugin_utils.jinja_cache import (
    jinja_caches,
)

try:  # the template lookup's own engine calls (ansible-core 2.19)
    from ansible._internal._templating._engine import TemplateOptions, TemplateOverrides
    from ansible._internal._templating._template_vars import generate_ansible_template_vars
except ImportError as exc:  # pragma: no cover - a newer ansible-core moved them
    raise ImportError(
        "kubebin.cluster.template_files needs ansible-core 2.19's templating engine: %s" % exc
    ) from exc

MODULE = "kubebin.cluster.write_files"
OPTIONS = {
    "files",
    "files_from",
    "hosts",
    "check_spec",
    "dirs",
    "root",
    "units",
    "render_dir",
    "render_into",
}
# The template lookup's settings (trim_blocks on), so a file renders as it does through it.
_TEMPLATE_OVERRIDES = TemplateOverrides.from_kwargs(
    dict(
        variable_start_string="{{",
        variable_end_string="}}",
        comment_start_string="{#",
        comment_end_string="#}",
        trim_blocks=True,
    )
)


class _Kept(Mapping):
    """A read-only mapping whose values are read from INNER once and kept; NESTED: a mapping
    value is kept the same way. ``_Kept(hostvars, nested=True)`` is ``hostvars`` for one render
    task over many hosts: nothing changes a host's variables while the task renders, and the
    variable manager otherwise works them out again on every access (a role's files read the
    cluster model, ``hostvars['localhost'][...]``, a dozen times per host)."""

    def __init__(self, inner, nested=False):
        self._inner = inner
        self._nested = nested
        self._values = {}

    def __getitem__(self, key):
        if key not in self._values:
            value = self._inner[key]
            self._values[key] = (
                _Kept(value) if self._nested and isinstance(value, Mapping) else value
            )
        return self._values[key]

    def __contains__(self, item):
        return item in self._inner

    def __iter__(self):
        return iter(self._inner)

    def __len__(self):
        return len(self._inner)

    def __deepcopy__(self, memo):
        return self


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sources = {}  # template path -> its text, read once per task

    def _render(self, item, variables, templar):
        """ITEM's text: a unit, kubeconfig or config file (plugin_utils/kube_files.py), else
        its template rendered with VARIABLES and ``item``, as the template lookup renders it,
        without the lookup's deep copy of every variable for each file."""
        if not item.get("src"):
            managed = variables.get("ansible_managed")
            managed = str(managed) if managed and "{" not in str(managed) else "Ansible managed"
            try:
                return kube_files.render(
                    item, host=str(variables.get("inventory_hostname", "")), managed=managed
                )
            except kube_files.FilesError as exc:
                raise AnsibleActionFail("files: %s: %s" % (item.get("dest"), exc)) from exc
        src = str(item["src"])
        try:
            path = self._find_needle("templates", src)
            if path not in self._sources:
                self._sources[path] = trust_as_template(self._loader.get_text_file_contents(path))
            context = dict(variables)
            context.update(
                generate_ansible_template_vars(
                    path=src,
                    fullpath=path,
                    include_ansible_managed="ansible_managed" not in context,
                )
            )
            context["item"] = item
            searchpath = [os.path.dirname(path)]
            for base in variables.get("ansible_search_path", []):
                searchpath += [os.path.join(base, "templates"), base]
            engine = templar.copy_with_new_env(available_variables=context, searchpath=searchpath)
            return engine._engine.template(
                self._sources[path],
                options=TemplateOptions(escape_backslashes=False, overrides=_TEMPLATE_OVERRIDES),
            )
        except Exception as exc:
            raise AnsibleActionFail(
                "files: rendering %s for %s failed: %s" % (item["src"], item["dest"], exc)
            ) from exc

    def _render_locally(self, root, files):
        """write_files' result for FILES written under ROOT on the controller."""
        try:
            done = write_tree(root, files, check_mode=self._task.check_mode, diff=self._task.diff)
        except FilesError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        done.pop("services")
        return done

    @staticmethod
    def _checked_files(files):
        if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
            raise AnsibleActionFail(
                "files must be a list of dicts (src, dest, mode, validate, service)"
            )
        for item in files:
            kinds = [k for k in kube_files.KINDS if item.get(k)]
            if not item.get("dest") or (not item.get("src")) == (not kinds) or len(kinds) > 1:
                raise AnsibleActionFail(
                    "files: every entry needs dest and one of src, %s (the entry for %s has %s)"
                    % (", ".join(kube_files.KINDS), item.get("dest"), ", ".join(sorted(item)))
                )
        return files

    def _entries(self, files, variables, templar, prefix, on_host):
        """write_files' entries for FILES; ON_HOST: with what only the host uses (validators
        and the service each file restarts)."""
        out = []
        for item in files:
            entry = {
                "path": prefix + "/" + str(item["dest"]).lstrip("/"),
                "content": self._render(item, variables, templar),
                "mode": str(item.get("mode") or "0644"),
            }
            if on_host:
                for key in ("validate", "validate_if_exists", "service"):
                    if item.get(key):
                        entry[key] = str(item[key])
            out.append(entry)
        return out

    # Render mode of many hosts -------------------------------------------------------------

    def _spec(self, entry_point):
        """The options of ENTRY_POINT in the calling role's meta/argument_specs.yml."""
        role = self._task._role
        if role is None:
            raise AnsibleActionFail("check_spec needs the task to be in a role")
        path = os.path.join(role._role_path, "meta", "argument_specs.yml")
        with open(path, encoding="utf-8") as handle:
            specs = (yaml.safe_load(handle) or {}).get("argument_specs") or {}
        if entry_point not in specs:
            raise AnsibleActionFail(
                "check_spec: %s has no entry point %r (%s)" % (path, entry_point, ", ".join(specs))
            )
        return specs[entry_point].get("options") or {}

    def _hosts_variables(self, names, task_vars):
        """(name, variables) for each host of NAMES, as a task of this role sees them there.

        The variable manager gives each host's own; what the controller's play loaded with
        include_vars and set_fact (the version table, the cluster model) is the run's, not a
        host's, and is laid under each host's own."""
        hostvars = task_vars.get("hostvars")
        try:
            manager, inventory = hostvars._variable_manager, hostvars._inventory
            shared_vars = dict(manager._vars_cache.get(task_vars["inventory_hostname"], {}))
            shared_facts = dict(
                manager._nonpersistent_fact_cache.get(task_vars["inventory_hostname"], {})
            )
        except (AttributeError, KeyError) as exc:
            raise AnsibleActionFail(
                "hosts: the run's variable manager is not reachable (%s);"
                " this needs ansible-core 2.19" % exc
            ) from exc
        play = self._task.get_play()
        every = list(task_vars.get("ansible_play_hosts_all") or [])
        task_hostvars = _Kept(hostvars, nested=True)
        for name in names:
            host = inventory.get_host(name)
            if host is None:
                raise AnsibleActionFail("hosts: %r is not in the inventory" % (name,))
            manager._vars_cache[name] = dict(shared_vars, **manager._vars_cache.get(name, {}))
            manager._nonpersistent_fact_cache[name] = dict(
                shared_facts, **manager._nonpersistent_fact_cache.get(name, {})
            )
            variables = manager.get_vars(
                play=play, host=host, task=self._task, _hosts=every, _hosts_all=every
            )
            variables["hostvars"] = task_hostvars
            yield name, variables

    def _check(self, host, options, variables, templar):
        provided = {k: templar.template(variables[k]) for k in options if k in variables}
        errors = ArgumentSpecValidator(options).validate(provided).error_messages
        if errors:
            raise AnsibleActionFail(
                "%s: the settings of role %s do not pass its argument spec: %s"
                % (host, self._task._role.get_name(), "; ".join(errors))
            )

    def _render_hosts(self, args, task_vars):
        name = args.get("files_from")
        if not isinstance(name, str) or not name:
            raise AnsibleActionFail(
                "hosts needs files_from: the name of the variable holding the files"
            )
        if not args.get("render_dir"):
            raise AnsibleActionFail("hosts is for render mode: set render_dir")
        hosts = args["hosts"]
        if not isinstance(hosts, list):
            raise AnsibleActionFail("hosts must be a list of inventory host names (%r)" % (hosts,))
        options = self._spec(args["check_spec"]) if args.get("check_spec") else {}
        written, rendered, diffs = [], {}, []
        for host, variables in self._hosts_variables(hosts, task_vars):
            templar = Templar(loader=self._loader, variables=variables)
            if options:
                self._check(host, options, variables, templar)
            if name not in variables:
                raise AnsibleActionFail("files_from: %s is not defined for %s" % (name, host))
            files = self._checked_files(templar.template(variables[name]))
            prefix = "/" + (args.get("render_into") or "hosts/%s" % host).strip("/")
            done = self._render_locally(
                args["render_dir"], self._entries(files, variables, templar, prefix, False)
            )
            written += done["written"]
            rendered[host] = len(files)
            diffs += done.get("diff", [])
        result = {"changed": bool(written), "written": written, "rendered": rendered}
        if self._task.diff:
            result["diff"] = diffs
        return result

    # ---------------------------------------------------------------------------------------

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        unknown = sorted(set(args) - OPTIONS)
        if unknown:
            raise AnsibleActionFail("unknown option(s): %s" % ", ".join(unknown))
        if args.get("hosts") is not None:
            with jinja_caches():
                result.update(self._render_hosts(args, task_vars))
            return result
        files = self._checked_files(args.get("files"))
        render_dir = args.get("render_dir") or ""
        into = args.get("render_into") or "hosts/%s" % task_vars.get("inventory_hostname", "")
        prefix = "/" + into.strip("/") if render_dir else ""
        out = self._entries(files, task_vars, self._templar, prefix, not render_dir)
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
            if args.get("units"):
                module_args["units"] = args["units"]
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
