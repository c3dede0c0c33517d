"""Produces WebAuthn and TOTP test vectors with libraries nobody on the team wrote
(soft-webauthn for the authenticator, py_webauthn for a second verdict, pyotp for codes)
and prints them as one JSON document for the Swift tests (SCAAuthTests/InteropTests).

Every case carries py_webauthn's verdict ("ok" or the exception's class); the Swift side
checks that its own verdict agrees."""

import base64
import json
import os
import struct
import sys
from base64 import urlsafe_b64encode

import fido2.cbor as cbor
import pyotp
import soft_webauthn
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.utils import sha256
from webauthn import verify_authentication_response, verify_registration_response
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorAssertionResponse,
    AuthenticatorAttestationResponse,
    RegistrationCredential,
)

RP_ID = "localhost"
ORIGIN = "http://localhost:8080"


def b64(data):
    return urlsafe_b64encode(data).decode("ascii").rstrip("=")


class UVDevice(soft_webauthn.SoftWebauthnDevice):
    """soft-webauthn's device, asserting with user verification (flags UP|UV) when asked."""

    def get_with_flags(self, options, origin, flags):
        self.sign_count += 1
        client_data = json.dumps({
            "type": "webauthn.get",
            "challenge": b64(options["publicKey"]["challenge"]),
            "origin": origin,
        }).encode("utf-8")
        auth_data = sha256(self.rp_id.encode("ascii")) + bytes([flags]) + struct.pack(">I", self.sign_count)
        signature = self.private_key.sign(auth_data + sha256(client_data), ec.ECDSA(hashes.SHA256()))
        return {"clientDataJSON": client_data, "authenticatorData": auth_data, "signature": signature}


def py_register(client_data, attestation, challenge, origin, require_uv):
    try:
        verify_registration_response(
            credential=RegistrationCredential(
                id=b64(b"x"), raw_id=b"x",
                response=AuthenticatorAttestationResponse(client_data_json=client_data, attestation_object=attestation),
            ),
            expected_challenge=challenge, expected_origin=origin, expected_rp_id=RP_ID,
            require_user_verification=require_uv,
        )
        return "ok"
    except Exception as error:  # the verdict is the point
        return type(error).__name__


def py_authenticate(parts, challenge, origin, public_key, sign_count, require_uv, credential_id):
    try:
        verify_authentication_response(
            credential=AuthenticationCredential(
                id=b64(credential_id), raw_id=credential_id,
                response=AuthenticatorAssertionResponse(
                    client_data_json=parts["clientDataJSON"], authenticator_data=parts["authenticatorData"],
                    signature=parts["signature"],
                ),
            ),
            expected_challenge=challenge, expected_origin=origin, expected_rp_id=RP_ID,
            credential_public_key=public_key, credential_current_sign_count=sign_count,
            require_user_verification=require_uv,
        )
        return "ok"
    except Exception as error:
        return type(error).__name__


def main():
    out = {"rp_id": RP_ID, "origin": ORIGIN, "registrations": [], "assertions": [], "totp": []}
    device = UVDevice()
    challenge = os.urandom(32)
    options = {"publicKey": {
        "challenge": challenge, "rp": {"id": RP_ID, "name": "Demo"}, "user": {"id": b"u1", "name": "anna"},
        "pubKeyCredParams": [{"alg": -7, "type": "public-key"}],
    }}
    created = device.create(options, ORIGIN)["response"]
    # soft-webauthn sets user presence only; a copy with UV set as well (a "none"
    # attestation signs nothing, so the flag can be changed).
    attestation = cbor.decode(created["attestationObject"])
    auth_data = bytearray(attestation["authData"])
    auth_data[32] |= 0x04
    attestation["authData"] = bytes(auth_data)
    created_uv = cbor.encode(attestation)
    for name, data, object_, require_uv in [
        ("up_only_uv_not_required", created["clientDataJSON"], created["attestationObject"], False),
        ("up_only_uv_required", created["clientDataJSON"], created["attestationObject"], True),
        ("uv", created["clientDataJSON"], created_uv, True),
        ("trailing_byte", created["clientDataJSON"], created_uv + b"\x00", True),
    ]:
        out["registrations"].append({
            "name": name, "client_data_json": b64(data), "attestation_object": b64(object_),
            "challenge": b64(challenge), "require_uv": require_uv,
            "py_webauthn": py_register(data, object_, challenge, ORIGIN, require_uv),
        })

    public_key = cbor.encode(device.cred_as_attested().public_key)
    credential_id = device.credential_id
    login = os.urandom(32)
    get_options = {"publicKey": {"challenge": login, "rpId": RP_ID}}
    first = device.get_with_flags(get_options, ORIGIN, 0x05)
    second = device.get_with_flags(get_options, ORIGIN, 0x05)
    up_only = device.get_with_flags(get_options, ORIGIN, 0x01)
    bad_signature = dict(first)
    bad_signature["signature"] = first["signature"][:-1] + bytes([first["signature"][-1] ^ 1])
    other_origin = device.get_with_flags(get_options, "http://localhost:9999", 0x05)
    cases = [
        ("uv", first, 0, True, login),
        ("next_counter", second, 1, True, login),
        ("replayed_counter", first, 2, True, login),
        ("up_only_uv_required", up_only, 2, True, login),
        ("up_only_uv_not_required", up_only, 2, False, login),
        ("bad_signature", bad_signature, 0, True, login),
        ("other_origin", other_origin, 0, True, login),
        ("other_challenge", first, 0, True, os.urandom(32)),
    ]
    for name, parts, stored_count, require_uv, expected_challenge in cases:
        out["assertions"].append({
            "name": name, "credential_id": b64(credential_id), "public_key": b64(public_key),
            "stored_sign_count": stored_count, "require_uv": require_uv, "challenge": b64(expected_challenge),
            "client_data_json": b64(parts["clientDataJSON"]), "authenticator_data": b64(parts["authenticatorData"]),
            "signature": b64(parts["signature"]),
            "py_webauthn": py_authenticate(parts, expected_challenge, ORIGIN, public_key, stored_count, require_uv, credential_id),
        })

    # pyotp codes for a seed the engine would make (ASCII base32 letters, used as raw key
    # bytes; pyotp takes the base32 encoding of those bytes).
    seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"
    totp = pyotp.TOTP(base64.b32encode(seed.encode("ascii")).decode("ascii"))
    for at in [0, 59, 1111111109, 1234567890, 1800000000, 2000000000]:
        out["totp"].append({"seed": seed, "at": at, "code": totp.at(at)})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
