"""wait_healthy module against a real HTTPS server on 127.0.0.1 (a CA and server certificate
made here), answering 503 before it is "ready"."""

import datetime
import http.server
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.kubebin.cluster.plugins.modules import wait_healthy

from . import moduleutil


def write_pem(path, data):
    path.write_bytes(data)
    return str(path)


def make_certs(tmp_path):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return (
        write_pem(tmp_path / "ca.crt", ca.public_bytes(pem)),
        write_pem(tmp_path / "server.crt", cert.public_bytes(pem)),
        write_pem(
            tmp_path / "server.key",
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        ),
    )


@pytest.fixture
def server(tmp_path):
    ca, cert, key = make_certs(tmp_path)
    state = {"hits": 0, "ready_after": 2}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/healthz":
                state["hits"] += 1
            ready = self.path == "/healthz" and state["hits"] > state["ready_after"]
            body = b"ok" if ready else b"not yet"
            self.send_response(200 if ready else 503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", ca, state
    httpd.shutdown()


def run(args, tmp_path):
    return moduleutil.run_module(wait_healthy.__file__, args, tmp_path)


def test_waits_until_healthy(server, tmp_path):
    base, ca, state = server
    result = run(
        {"checks": [{"name": "apiserver", "url": base + "/healthz"}], "ca_path": ca, "delay": 0.1},
        tmp_path,
    )
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["polls"] == {"apiserver": 3}
    assert state["hits"] == 3


def test_gives_up_naming_each_unhealthy_endpoint(server, tmp_path):
    base, ca = server[:2]
    result = run(
        {
            "checks": [
                {"name": "apiserver", "url": base + "/healthz"},
                {"name": "scheduler", "url": base + "/broken"},
            ],
            "ca_path": ca,
            "retries": 4,
            "delay": 0.05,
        },
        tmp_path,
    )
    assert result["failed"]
    assert "scheduler (%s/broken): HTTP 503" % base in result["msg"]
    assert "apiserver" not in result["msg"]  # healthy after its third poll
    assert result["polls"] == {"apiserver": 3, "scheduler": 4}


def test_an_unknown_ca_is_refused_unless_validation_is_off(server, tmp_path):
    base, state = server[0], server[2]
    state["ready_after"] = 0
    other_ca = make_certs(tmp_path / ".." / tmp_path.name)[0]  # a CA that did not sign it
    check = {"name": "apiserver", "url": base + "/healthz"}
    refused = run({"checks": [check], "ca_path": other_ca, "retries": 1}, tmp_path)
    assert refused["failed"]
    assert (
        "CERTIFICATE_VERIFY_FAILED" in refused["msg"]
        or "certificate verify failed" in refused["msg"]
    )
    unverified = run({"checks": [dict(check, validate_certs=False)], "retries": 1}, tmp_path)
    assert not unverified.get("failed"), unverified
