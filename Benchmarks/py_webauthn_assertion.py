"""py_webauthn's rate for the same work as the Swift benchmark "WebAuthn ES256 assertion":
verify_authentication_response on one ES256 assertion (made with soft-webauthn's key),
timed with timeit for about five seconds. Run with the interop environment:
    .venv-interop/bin/python Benchmarks/py_webauthn_assertion.py"""

import json
import struct
import timeit
from base64 import urlsafe_b64encode

import fido2.cbor as cbor
import soft_webauthn
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.utils import sha256
from webauthn import verify_authentication_response
from webauthn.helpers.structs import AuthenticationCredential, AuthenticatorAssertionResponse

device = soft_webauthn.SoftWebauthnDevice()
device.cred_init("localhost", b"u1")
challenge = bytes([42]) * 32
client_data = json.dumps({
    "type": "webauthn.get", "challenge": urlsafe_b64encode(challenge).decode().rstrip("="),
    "origin": "http://localhost:8080",
}).encode()
auth_data = sha256(b"localhost") + bytes([0x05]) + struct.pack(">I", 7)
signature = device.private_key.sign(auth_data + sha256(client_data), ec.ECDSA(hashes.SHA256()))
public_key = cbor.encode(device.cred_as_attested().public_key)
credential = AuthenticationCredential(
    id="AQ", raw_id=b"\x01",
    response=AuthenticatorAssertionResponse(client_data_json=client_data, authenticator_data=auth_data, signature=signature),
)


def verify():
    verify_authentication_response(
        credential=credential, expected_challenge=challenge, expected_origin="http://localhost:8080",
        expected_rp_id="localhost", credential_public_key=public_key, credential_current_sign_count=6,
        require_user_verification=True,
    )


verify()
timer = timeit.Timer(verify)
count, _ = timer.autorange()
runs = [timer.timeit(count) for _ in range(5)]
best = min(runs) / count
print(f"py_webauthn ES256 assertion: {1 / best:,.0f} verifications/s ({best * 1e6:.1f} µs each, best of 5 runs of {count})")
