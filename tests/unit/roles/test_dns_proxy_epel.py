"""dns_proxy (nginx_stream) adds EPEL before nginx on RedHat/CentOS 7, and only there.

What the role installs first is the variable dns_proxy_nginx_repo_packages of its OS family's
vars file (vars/RedHat.yml, vars/Debian.yml), from the host's facts and dns_proxy_epel. The
role's own vars files are evaluated here by ansible-playbook on localhost, one play per case
with that case's facts (no host is contacted and no package manager is asked: this machine is
Debian); the task file is read to check the step comes before nginx, through the collection's
packages module.
"""

import json

import pytest
import yaml

from ..playbook_runner import ROOT, run_playbook

ROLE = ROOT / "roles" / "dns_proxy"

# (os_family, distribution_major_version, dns_proxy_epel): what is installed before nginx.
CASES = {
    ("RedHat", "7", True): ["epel-release"],
    ("RedHat", "7", False): [],
    ("RedHat", "8", True): [],
    ("RedHat", "9", True): [],
    ("Debian", "12", True): [],
}


def case_play(index, family, major, epel, out):
    return {
        "name": f"case {index}: {family} {major}, dns_proxy_epel={epel}",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {
            # The facts a gathered host would have; dns_proxy_epel as the inventory sets it.
            "ansible_facts": {"os_family": family, "distribution_major_version": major},
            "dns_proxy_epel": epel,
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        },
        "tasks": [
            {
                "name": "Load the OS family's package names (as tasks/nginx_stream.yml does)",
                "ansible.builtin.include_vars": str(ROLE / "vars")
                + "/{{ ansible_facts['os_family'] }}.yml",
            },
            {
                "name": "Save what comes before nginx, and nginx",
                "ansible.builtin.copy": {
                    "content": "{{ {'repo': dns_proxy_nginx_repo_packages,"
                    " 'nginx': dns_proxy_nginx_packages} | to_json }}",
                    "dest": str(out),
                    "mode": "0644",
                },
            },
        ],
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    base = tmp_path_factory.mktemp("dns-proxy-epel")
    plays, outs = [], {}
    for i, case in enumerate(CASES):
        outs[case] = base / f"case-{i}.json"
        plays.append(case_play(i, *case, outs[case]))
    book = base / "play.yml"
    book.write_text(yaml.safe_dump(plays, sort_keys=False))
    rc, out = run_playbook(book, "localhost,")
    assert rc == 0, out
    return {case: json.loads(path.read_text()) for case, path in outs.items()}


@pytest.mark.parametrize("case", sorted(CASES), ids=lambda c: "-".join(map(str, c)))
def test_what_comes_before_nginx(results, case):
    assert results[case]["repo"] == CASES[case]
    family = case[0]
    want = ["nginx", "nginx-mod-stream"] if family == "RedHat" else ["nginx", "libnginx-mod-stream"]
    assert results[case]["nginx"] == want


def test_epel_is_on_by_default():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults["dns_proxy_epel"] is True
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    option = spec["argument_specs"]["main"]["options"]["dns_proxy_epel"]
    assert option["type"] == "bool" and option["default"] is True


def test_the_repository_step_comes_before_nginx_through_the_packages_module():
    tasks = yaml.safe_load((ROLE / "tasks" / "nginx_stream.yml").read_text())
    names = [t["name"] for t in tasks]
    repo = names.index("Add the repository nginx comes from")
    nginx = names.index("Install nginx and its stream module")
    load = names.index("Load the OS family's package names and paths")
    assert load < repo < nginx
    step = tasks[repo]
    assert step["when"] == "dns_proxy_nginx_repo_packages | length > 0"
    install = step["block"][0]["kubebin.cluster.packages"]
    assert install["names"] == "{{ dns_proxy_nginx_repo_packages }}"
    # A failure names the variable that turns EPEL off.
    assert "dns_proxy_epel: false" in step["rescue"][0]["ansible.builtin.fail"]["msg"]
