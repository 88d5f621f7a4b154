#!/usr/bin/python
# Copyright: kubebin.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/template_files.py)
# and the module kubebin.cluster.write_files; this file holds the documentation.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: template_files
short_description: Write a role's file list from its templates in one step (install or render mode)
version_added: "0.2.0"
description:
  - Renders each entry of O(files) from the calling role's C(templates/) (or an absolute path)
    on the controller, with C(item) set to the entry, and writes them all with one run of
    M(kubebin.cluster.write_files), rewriting only what differs.
  - Install - on the host, at each O(files[].dest), after O(dirs) are made; O(files[].validate)
    must accept a file before it replaces the live one.
  - Render mode (O(render_dir) set, the task delegated to C(localhost)) - the same files under
    C(<render_dir>/<render_into>/<dest>) on the controller, contacting no host; validators
    (host tools) and O(dirs) are skipped. Both modes render each file through the same code
    with the same list, so render mode writes every file the install writes.
  - Render mode of many hosts (O(hosts), what C(playbooks/render.yml) uses) - one task on the
    controller renders the role's list O(files_from) for each host of O(hosts), with that host's
    variables as a task of the role sees them there (inventory, group and host vars, the role's
    defaults and vars; what the controller's play loaded with include_vars or set_fact, such as
    the version table, is shared), after checking the host's settings against the role's
    argument spec O(check_spec). Compiled templates and filter lookups are reused between hosts
    (plugin_utils/jinja_cache.py). Needs ansible-core 2.19's variable manager.
  - Returns which files changed and the services (O(files[].service)) whose files changed, so a
    role restarts only those.
  - Why a plugin, not a builtin - M(ansible.builtin.template) costs two module runs per file and
    cannot write a list in one step; measured in docs/design.md section 8 (one module run per
    role step). Render mode of many hosts in one task is what made render mode scale - the
    C(make bench) ratio of a 110-host render to the 9-host one fell from 8.3x to under 2x.
options:
  files:
    description: The role's files (not with O(hosts)).
    type: list
    elements: dict
    suboptions:
      src:
        description:
          - The template, relative to the role's C(templates/) or absolute. An entry without
            one has exactly one of O(files[].unit), O(files[].kubeconfig), O(files[].config).
        type: str
      unit:
        description:
          - A Kubernetes component's systemd unit, rendered by C(plugin_utils/kube_files.py) -
            C({name, version, role, description, flags, after, requires, bin_dir}); every
            flag on a line of its own, sorted (C(bin_dir) defaults to C(/usr/local/bin)).
        type: dict
      kubeconfig:
        description:
          - A kubeconfig - C({server, user, cluster, ca, cert, key}) (certificates by path) or
            C({server, user, cluster, ca_data, cert_data, key_data}) (embedded).
        type: dict
      config:
        description: A component's config file - the dictionary as YAML, keys sorted.
        type: dict
      dest:
        description: The file's path on the host (under O(root)).
        type: str
        required: true
      mode:
        description: Octal permissions.
        type: str
        default: "0644"
      validate:
        description: A command that must accept the new content first (C(%s) its path); install.
        type: str
      validate_if_exists:
        description: Validate only when this path exists (the validator, until it is installed).
        type: path
      service:
        description:
          - The service that reads this file (in RV(services) when the file changed); with
            O(units), it restarts when the file is written.
        type: str
  dirs:
    description: Directories to create or correct first (install only), C([{path, mode}]).
    type: list
    elements: dict
    default: []
  root:
    description:
      - Install - the directory O(files[].dest) and O(dirs) are relative to (manifests kept under
        a directory of their own); render mode ignores it.
    type: path
    default: /
  render_dir:
    description: Render mode - the directory on the controller the files go under.
    type: path
  render_into:
    description: Render mode - the subdirectory of O(render_dir) (C(hosts/<inventory_hostname>)).
    type: str
  units:
    description:
      - Install - the component's systemd units to keep running after the files are written,
        in the same module run (write_files'
        O(kubebin.cluster.write_files#module:units) - C(names), C(restart), C(enabled),
        C(requires), C(watch)) - daemon-reload when a unit file or
        drop-in was written, enable, start what does not run, restart what runs and had a file
        written or is in C(restart) or had a C(watch) file modified since it started. Render
        mode ignores it.
    type: dict
  hosts:
    description:
      - Render mode of many hosts - the inventory hosts whose files to render, each under
        C(<render_dir>/hosts/<host>) (or O(render_into)). Needs O(render_dir) and O(files_from).
    type: list
    elements: str
  files_from:
    description:
      - With O(hosts) - the name of the role's variable that holds the file list (the same list
        the install passes as O(files)), evaluated for each host.
    type: str
  check_spec:
    description:
      - With O(hosts) - the entry point of the role's C(meta/argument_specs.yml) each host's
        settings must pass first; a failure names the host and the variable.
    type: str
author:
  - kubebin.cluster maintainers (@kubebin)
"""

EXAMPLES = r"""
- name: Write kubelet's and kube-proxy's files
  kubebin.cluster.template_files:
    files:
      - {src: kubeconfig.j2, dest: /etc/kubernetes/kubelet.conf, service: kubelet}
    dirs: [{path: /etc/kubernetes, mode: "0755"}]
  register: written

- name: The same list in render mode
  kubebin.cluster.template_files:
    files: "{{ kube_node_files }}"
    render_dir: /tmp/render
  delegate_to: localhost

- name: The list of every node, in one task on the controller
  kubebin.cluster.template_files:
    files_from: kube_node_files
    hosts: "{{ groups['kube_node'] }}"
    check_spec: main
    render_dir: /tmp/render
"""

RETURN = r"""
changed_files:
  description: The absolute paths of the O(files[].dest) written (or that would be).
  returned: success, without O(hosts)
  type: list
  elements: str
  sample: [/etc/kubernetes/kubelet.conf]
services:
  description: The O(files[].service) of the files written, sorted, once each.
  returned: success, without O(hosts)
  type: list
  elements: str
  sample: [kubelet]
written:
  description: The paths relative to the root written (as M(kubebin.cluster.write_files) reports).
  returned: success
  type: list
  elements: str
units:
  description: With O(units) (install), what M(kubebin.cluster.units) returns (started, ...).
  returned: with O(units)
  type: dict
rendered:
  description: With O(hosts) - the number of files rendered for each host.
  returned: success, with O(hosts)
  type: dict
  sample: {node1: 4}
"""
