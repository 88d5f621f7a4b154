"""plugin_utils.restarts: which of a role's services restart after a run's changes."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubebin.cluster.plugins.filter.restarts import (
    services_to_restart as restart_filter,
)
from ansible_collections.kubebin.cluster.plugins.plugin_utils.restarts import (
    RestartsError,
    services_to_restart,
)

SERVICES = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]
CERTS = {
    "kube-apiserver": ["ca.crt", "apiserver.crt", "sa.pub"],
    "kube-controller-manager": ["ca.crt", "sa.key"],
    "kube-scheduler": ["ca.crt", "scheduler.crt"],
}
PKI = "/etc/kubernetes/pki"


def test_nothing_changed_nothing_restarts():
    assert (
        services_to_restart(SERVICES, written=[], cert_files=CERTS, cert_dir=PKI, changed_files=[])
        == []
    )


def test_written_files_restart_their_service_in_service_order():
    got = services_to_restart(
        SERVICES,
        written=["kube-scheduler", "kube-apiserver"],
        cert_files=CERTS,
        cert_dir=PKI,
        changed_files=[],
    )
    assert got == ["kube-apiserver", "kube-scheduler"]


def test_a_changed_certificate_restarts_the_services_reading_it():
    assert services_to_restart(
        SERVICES, written=[], cert_files=CERTS, cert_dir=PKI, changed_files=[PKI + "/sa.key"]
    ) == ["kube-controller-manager"]
    assert (
        services_to_restart(
            SERVICES, written=[], cert_files=CERTS, cert_dir=PKI, changed_files=[PKI + "/ca.crt"]
        )
        == SERVICES
    )
    # a file of the same name elsewhere is not theirs
    assert (
        services_to_restart(
            SERVICES,
            written=[],
            cert_files=CERTS,
            cert_dir=PKI,
            changed_files=["/etc/etcd/pki/ca.crt"],
        )
        == []
    )


def test_a_new_binary_restarts_every_service():
    assert (
        services_to_restart(
            SERVICES, written=[], cert_files=CERTS, cert_dir=PKI, changed_files=[], new_binary=True
        )
        == SERVICES
    )


@pytest.mark.parametrize(
    ("cert_files", "cert_dir", "match"),
    [
        ({"kubelet": ["ca.crt"]}, PKI, "cert_files names kubelet, not among the services"),
        (["ca.crt"], PKI, "cert_files must map each service"),
        (CERTS, "pki", "cert_dir must be an absolute directory"),
    ],
)
def test_bad_inputs_are_named(cert_files, cert_dir, match):
    with pytest.raises(RestartsError, match=match):
        services_to_restart(
            SERVICES, written=[], cert_files=cert_files, cert_dir=cert_dir, changed_files=[]
        )


def test_the_filter_takes_keywords_and_names_itself():
    assert restart_filter(["kubelet"], written=["kubelet"]) == ["kubelet"]
    with pytest.raises(AnsibleFilterError, match=r"kubebin\.cluster\.services_to_restart"):
        restart_filter(SERVICES, cert_files={"x": []}, cert_dir=PKI)
