"""``evault demo`` keeps the vault's seal key in SoftHSM2: the real command serves, a using
department makes a certified copy over the API, our verifier and poppler's pdfsig both
accept it, the seal is the certificate of the key in the token, and the token says that
key is sensitive and never extractable. Without softhsm2-util the demo seals with its key
file and says so once on stderr.

The demo runs in processes of its own: SoftHSM2 reads its configuration once per process,
and this test process may already hold another token (tests.helpers.softhsm)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.conftest import free_ports, require_tool

EVAULT = str(Path(sys.executable).with_name("evault"))
RESIDENCE = "11100000000013338W031"
USE = {"purpose": "住房保障资格审核", "case_no": "DEMO-HSM-1"}


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVAULT_")}
    env.pop("SOFTHSM2_CONF", None)
    return {**env, **extra}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """``evault demo`` serving on a free port, its data directory and base URL."""
    require_tool("softhsm2-util")
    data = tmp_path_factory.mktemp("demo-hsm") / "data"
    port, witness_port = free_ports(2)
    logs = data.parent
    command = [EVAULT, "demo", "--data", str(data), "--port", str(port)]
    command += ["--witness-port", str(witness_port)]
    with (logs / "out.txt").open("wb") as out, (logs / "err.txt").open("wb") as err:
        process = subprocess.Popen(
            command,
            env=_environment(),
            stdout=out,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, base, logs)
        yield data, base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_ready(process: subprocess.Popen[bytes], base: str, logs: Path) -> None:
    give_up = time.monotonic() + 300  # a bound for a stuck start, not a timing assertion
    while time.monotonic() < give_up:
        if process.poll() is not None:
            pytest.fail(f"evault demo exited: {(logs / 'err.txt').read_text()}", pytrace=False)
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail("evault demo did not become ready", pytrace=False)


def _copy(data: Path, base: str) -> bytes:
    """A certified copy of 张三's 居住证, made by 住房和城乡建设局 over the API."""
    credentials = json.loads((data / "demo-credentials.json").read_text())
    housing = next(d for d in credentials["departments"] if "licenses:use" in d["scopes"])
    holder = credentials["holders"][0]["holder_id"]
    with httpx.Client(base_url=base, timeout=120) as client:
        token = client.post(
            "/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": housing["client_id"],
                "client_secret": housing["client_secret"],
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        found = client.post(
            "/v1/licenses/search",
            headers=headers,
            json={"holder_id": holder, "type_code": RESIDENCE, **USE},
        )
        assert found.status_code == 200, found.text
        license_id = found.json()["licenses"][0]["id"]
        made = client.post(f"/v1/licenses/{license_id}/copies", headers=headers, json=USE)
        assert made.status_code == 201, made.text
        pdf = client.get(f"/v1/copies/{made.json()['id']}/pdf", headers=headers)
        assert pdf.status_code == 200
        return pdf.content


def _hsm_certificate(data: Path) -> x509.Certificate:
    chain = (data / "softhsm" / "vault-seal-chain.pem").read_bytes()
    return x509.load_pem_x509_certificates(chain)[0]


def test_the_demo_seals_copies_with_its_key_in_softhsm2(
    demo: tuple[Path, str], tmp_path: Path
) -> None:
    data, base = demo
    assert "The vault's seal key is in SoftHSM2" in (data.parent / "out.txt").read_text()
    assert "not in an HSM" not in (data.parent / "err.txt").read_text()
    pdf = _copy(data, base)
    bundle = TrustBundle.load(data / "trust-bundle.json")
    hsm_seal = _hsm_certificate(data)
    assert bundle.vault_seal == hsm_seal.public_bytes(Encoding.DER)

    report = Verifier(bundle).verify(pdf)
    assert report.indication == "TOTAL_PASSED", report.reasons
    _issuer_seal, vault_seal = report.signatures
    assert vault_seal.indication == "TOTAL_PASSED" and vault_seal.pades_level == "B-LT"
    assert vault_seal.signer_fingerprint == hsm_seal.fingerprint(hashes.SHA256()).hex()

    out = _pdfsig(pdf, bundle.roots[0], tmp_path)
    first, second = out.split("Signature #2:")
    for part in (first, second):
        assert "Signature Validation: Signature is Valid." in part
        assert "Certificate Validation: Certificate is Trusted." in part
    assert "Total document signed" in second


def _pdfsig(pdf: bytes, root_der: bytes, work: Path) -> str:
    """poppler's pdfsig on ``pdf``, with an NSS database trusting only the demo's root."""
    pdfsig, certutil = require_tool("pdfsig"), require_tool("certutil")
    db = work / "nss"
    db.mkdir()
    subprocess.run(
        [certutil, "-N", "-d", f"sql:{db}", "--empty-password"], capture_output=True, check=True
    )
    root = x509.load_der_x509_certificate(root_der).public_bytes(Encoding.PEM)
    (db / "root.pem").write_bytes(root)
    trust = [certutil, "-A", "-d", f"sql:{db}", "-n", "demo-root", "-t", "CT,C,C"]
    subprocess.run([*trust, "-i", str(db / "root.pem")], capture_output=True, check=True)
    (work / "copy.pdf").write_bytes(pdf)
    done = subprocess.run(
        [pdfsig, "-nssdir", f"sql:{db}", str(work / "copy.pdf")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.stdout


_PROTECTION = """
import json, sys
from signing.hsm import open_token, private_key_protection
module, pin = sys.argv[1], open(sys.argv[2]).read().strip()
session = open_token(module=module, token_label="evault-demo", pin=pin)
p = private_key_protection(session, "vault-seal")
import pkcs11
key = session.get_key(label="vault-seal", object_class=pkcs11.ObjectClass.PRIVATE_KEY)
try:
    key[pkcs11.Attribute.VALUE]
    readable = True
except Exception as exc:
    readable = type(exc).__name__
print(json.dumps({"sensitive": p.sensitive, "extractable": p.extractable,
                  "never_extractable": p.never_extractable, "value": readable}))
"""


def test_the_demo_seal_key_cannot_leave_the_token(demo: tuple[Path, str]) -> None:
    from api.demo.hsm import SOFTHSM_MODULES

    data, _base = demo
    module = next(m for m in SOFTHSM_MODULES if Path(m).is_file())
    conf = data / "softhsm" / "softhsm2.conf"
    done = subprocess.run(
        [sys.executable, "-c", _PROTECTION, module, str(data / "keys" / "hsm_pin")],
        env=_environment(SOFTHSM2_CONF=str(conf)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    assert found == {
        "sensitive": True,
        "extractable": False,
        "never_extractable": True,
        "value": "AttributeSensitive",
    }
    leaked = [p for p in data.rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]
    assert all("softhsm" not in str(p) for p in leaked)


def test_without_softhsm2_the_demo_uses_its_key_file_and_says_so_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = subprocess.run(
        [EVAULT, "demo", "--data", str(data), "--no-serve"],
        env=_environment(PATH=str(Path(sys.executable).parent)),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "not in an HSM" in line]
    assert lines == [
        "evault demo: the vault's seal key is a file, not in an HSM: softhsm2-util is not "
        "installed (Debian/Ubuntu: apt-get install softhsm2)"
    ]
    assert not (data / "softhsm").exists()
    from signing.pki import DemoPKI

    password = (data / "keys" / "pki_password.hex").read_text().strip()
    pki = DemoPKI.load(data / "pki", password)
    bundle = TrustBundle.load(data / "trust-bundle.json")
    assert bundle.vault_seal == pki.vault_seal.certificate.public_bytes(Encoding.DER)
