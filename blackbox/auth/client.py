"""A small client for the authentication API of `sca serve` (docs/AUTH-API.md).

Standard library for HTTP; the factor helpers import `cryptography`, `pyotp` and
`soft_webauthn` (the pinned interop venv, `.venv-interop`) only when used.

    api = Client("http://localhost:8080")
    user = api.register("alice", "2468")
    key = api.enrol_device_key(user)
    session = api.login("alice", [api.pin_step("2468"), api.device_key_step(key)])
    answer = api.protected("POST", "/v1/beneficiaries", {...}, session,
                           [api.pin_step("2468"), api.device_key_step(key)])

A "step" is a function of the one-time token that makes the verify calls for one factor
and returns the last response; `protected` runs the steps between the 403 and the repeat.
"""
import base64
import http.client
import json
import re
import struct
import time
import urllib.parse
import uuid

TIMEOUT = 30


def b64url(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class APIError(Exception):
    def __init__(self, message, response=None):
        super().__init__(message if response is None else f"{message}: {response}")
        self.response = response


class Response:
    def __init__(self, method, path, status, headers, body):
        self.method = method
        self.path = path
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def header(self, name):
        return self.headers.get(name.lower())

    @property
    def error_code(self):
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"].get("code")
        return None

    def __repr__(self):
        interesting = {k: v for k, v in self.headers.items() if k.startswith("x-2fa")}
        text = self.body.decode("utf-8", "replace")
        if len(text) > 600:
            text = text[:600] + "..."
        return f"{self.method} {self.path} -> {self.status} {interesting} {text}"


class User:
    """What registration returned, plus the factors enrolled through this client."""

    def __init__(self, username, pin, user_id, enrolment_session):
        self.username = username
        self.pin = pin
        self.user_id = user_id
        self.enrolment_session = enrolment_session
        self.factors = {}  # kind -> Factor document (the last one enrolled of each kind)

    def __repr__(self):
        return f"User({self.username}, {self.user_id})"


class Totp:
    """A TOTP factor seen from an authenticator app (pyotp), handing out each step's code once:
    the server accepts a code for the current step and one either side, and only for a
    step later than the last one it accepted."""

    def __init__(self, factor, secret, provisioning_uri):
        import pyotp

        self.factor = factor
        self.secret = secret
        self.provisioning_uri = provisioning_uri
        # An authenticator app scans the URI: that is what the customer's phone computes.
        self.otp = pyotp.parse_uri(provisioning_uri) if provisioning_uri else pyotp.TOTP(secret)
        self.uri_secret = self.otp.secret
        self.last_step = None

    def next_code(self):
        now = int(time.time()) // 30
        step = now if self.last_step is None else max(now, self.last_step + 1)
        if step > now + 1:  # wait until the step after next is the current one's neighbour
            time.sleep((step - 1) * 30 - time.time() + 0.5)
        self.last_step = step
        return self.otp.at(step * 30)


class DeviceKey:
    """A P-256 key held by the customer's registered device."""

    def __init__(self, private_key=None):
        from cryptography.hazmat.primitives.asymmetric import ec

        self.private_key = private_key or ec.generate_private_key(ec.SECP256R1())
        self.factor = None

    def public_key_b64(self):
        from cryptography.hazmat.primitives import serialization

        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return b64url(raw)

    def sign(self, data):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def make_passkey():
    """A soft-webauthn authenticator that can also assert with user verification (UP|UV)
    and build assertions with chosen flaws (for negative tests)."""
    import soft_webauthn

    class Passkey(soft_webauthn.SoftWebauthnDevice):
        factor = None

        def assertion(self, challenge, origin, flags=0x05, rp_id=None, sign_count=None,
                      client_data=None, authenticator_data=None, tamper=None):
            """An assertion over `challenge` (bytes), signed with the credential's key.
            `client_data`/`authenticator_data` replace the built parts (then signed as
            given); `tamper(parts)` may change the finished parts without re-signing."""
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec
            from fido2.utils import sha256

            if sign_count is None:
                self.sign_count += 1
                sign_count = self.sign_count
            if client_data is None:
                client_data = json.dumps({
                    "type": "webauthn.get", "challenge": b64url(challenge), "origin": origin,
                }).encode("utf-8")
            if authenticator_data is None:
                authenticator_data = (sha256((rp_id or self.rp_id).encode("ascii")) + bytes([flags])
                                      + struct.pack(">I", sign_count))
            signature = self.private_key.sign(authenticator_data + sha256(client_data), ec.ECDSA(hashes.SHA256()))
            parts = {"credential_id": b64url(self.credential_id), "client_data_json": b64url(client_data),
                     "authenticator_data": b64url(authenticator_data), "signature": b64url(signature)}
            if tamper:
                parts = tamper(parts)
            return parts

    return Passkey()


def creation_options(public_key):
    """The API's PublicKeyCredentialCreationOptions (snake_case, base64url) as soft-webauthn
    wants them (camelCase under 'publicKey', bytes)."""
    def get(name, camel):
        return public_key.get(name, public_key.get(camel))

    params = [{"alg": p["alg"], "type": p["type"]} for p in get("pub_key_cred_params", "pubKeyCredParams") or []]
    user = dict(public_key["user"])
    user["id"] = unb64url(user["id"])
    options = {
        "challenge": unb64url(public_key["challenge"]),
        "rp": public_key["rp"],
        "user": user,
        "pubKeyCredParams": params,
    }
    attestation = public_key.get("attestation")
    if attestation is not None:
        options["attestation"] = attestation
    return {"publicKey": options}


def request_options(public_key):
    """The API's PublicKeyCredentialRequestOptions as soft-webauthn wants them."""
    return {"publicKey": {
        "challenge": unb64url(public_key["challenge"]),
        "rpId": public_key.get("rp_id", public_key.get("rpId")),
        "allowCredentials": [{"type": c.get("type", "public-key"), "id": unb64url(c["id"])}
                             for c in public_key.get("allow_credentials", public_key.get("allowCredentials")) or []],
        "userVerification": public_key.get("user_verification", public_key.get("userVerification")),
    }}


class Client:
    def __init__(self, base, origin=None, timeout=TIMEOUT):
        parts = urllib.parse.urlsplit(base)
        self.base = base.rstrip("/")
        self.host = parts.hostname
        # localhost may resolve to ::1 first; the server listens on 127.0.0.1.
        self.connect_host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname
        self.port = parts.port or 80
        self.origin = origin or f"{parts.scheme}://{parts.hostname}:{self.port}"
        self.timeout = timeout
        self.log = None  # a list to append every Response to, if set
        self.operator_key = None  # for the operator's routes: the audit trail, the development SMS

    # HTTP

    def call(self, method, path, body=None, session=None, headers=None, timeout=None):
        """One request; `body` is a dict (sent as JSON) or bytes (sent as they are)."""
        all_headers = {"Accept": "application/json"}
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        if session:
            all_headers["Authorization"] = f"Bearer {session}"
        all_headers.update(headers or {})
        connection = http.client.HTTPConnection(self.connect_host, self.port, timeout=timeout or self.timeout)
        try:
            connection.request(method, path, body=body, headers=all_headers)
            raw = connection.getresponse()
            response = Response(method, path, raw.status, raw.getheaders(), raw.read())
        finally:
            connection.close()
        if self.log is not None:
            self.log.append(response)
        return response

    def expect(self, status, method, path, body=None, session=None, headers=None):
        response = self.call(method, path, body, session, headers)
        if response.status != status:
            raise APIError(f"expected {status}", response)
        return response.json

    def ott(self, method, path, token, body=None):
        return self.call(method, path, body, headers={"One-Time-Token": token})

    def status(self, token):
        return self.ott("GET", "/v1/one-time-token/status", token)

    # Users and factors

    def register(self, username=None, pin="2468", name=None):
        username = username or "u" + uuid.uuid4().hex[:12]
        answer = self.expect(201, "POST", "/v1/users",
                             {"username": username, "name": name or f"Test {username}", "pin": pin})
        return User(username, pin, answer["user_id"], answer["session"])

    def factors(self, user, session=None):
        return self.expect(200, "GET", f"/v1/users/{user.user_id}/factors",
                           session=session or user.enrolment_session)["factors"]

    def factor(self, user, factor_id, session=None):
        for factor in self.factors(user, session):
            if factor["id"] == factor_id:
                return factor
        return None

    def enrol(self, user, body, solve=None, session=None):
        """POST a factor; protected once the user has two active factors (`solve` then
        passes the token's challenges)."""
        response, _ = self.protected("POST", f"/v1/users/{user.user_id}/factors", body,
                                     session or user.enrolment_session, solve)
        if response.status != 201:
            raise APIError("enrolment refused", response)
        user.factors[body["kind"]] = response.json
        return response.json

    def revoke(self, user, factor_id, solve=None, session=None):
        response, _ = self.protected("DELETE", f"/v1/users/{user.user_id}/factors/{factor_id}", None,
                                     session or user.enrolment_session, solve)
        if response.status != 200:
            raise APIError("revocation refused", response)
        return response.json

    def enrol_totp(self, user, label="Authenticator", solve=None, session=None):
        factor = self.enrol(user, {"kind": "totp", "label": label}, solve, session)
        totp = Totp(factor, factor.get("secret"), factor.get("provisioning_uri"))
        return totp

    def enrol_device_key(self, user, label="Phone", solve=None, session=None, key=None):
        key = key or DeviceKey()
        key.factor = self.enrol(user, {"kind": "device_key", "label": label, "public_key": key.public_key_b64()},
                                solve, session)
        return key

    def enrol_sms(self, user, phone="+48600100200", channel="sms", solve=None, session=None):
        return self.enrol(user, {"kind": "sms", "phone": phone, "channel": channel}, solve, session)

    def registration_options(self, user, session=None):
        return self.expect(200, "POST", f"/v1/users/{user.user_id}/webauthn/registration-options",
                           session=session or user.enrolment_session)["public_key"]

    def enrol_passkey(self, user, label="Laptop", solve=None, session=None, user_verified=True):
        """A soft-webauthn credential, made with the server's registration options. soft-webauthn
        sets only UP; a platform authenticator that verified the user sets UV too ("none"
        attestation signs nothing, so the flag may be set afterwards)."""
        from fido2 import cbor

        passkey = make_passkey()
        options = creation_options(self.registration_options(user, session))
        created = passkey.create(options, self.origin)["response"]
        attestation_object = created["attestationObject"]
        if user_verified:
            attestation = cbor.decode(attestation_object)
            auth_data = bytearray(attestation["authData"])
            auth_data[32] |= 0x04
            attestation["authData"] = bytes(auth_data)
            attestation_object = cbor.encode(attestation)
        passkey.factor = self.enrol(user, {
            "kind": "webauthn", "label": label,
            "client_data_json": b64url(created["clientDataJSON"]),
            "attestation_object": b64url(attestation_object),
        }, solve, session)
        return passkey

    # Verify steps: each is token -> the last Response

    def pin_step(self, pin):
        return lambda token: self.ott("POST", "/v1/one-time-token/pin/verify", token, {"pin": pin})

    def totp_step(self, totp, code=None):
        return lambda token: self.ott("POST", "/v1/one-time-token/totp/verify", token,
                                      {"code": code or totp.next_code()})

    def device_key_step(self, key, factor_id=None):
        def step(token):
            response = self.ott("POST", "/v1/one-time-token/device-key/challenge", token)
            if response.status != 200:
                return response
            signature = key.sign(unb64url(response.json["challenge"]))
            return self.ott("POST", "/v1/one-time-token/device-key/verify", token,
                            {"factor_id": factor_id or key.factor["id"], "signature": b64url(signature)})
        return step

    def webauthn_options(self, token):
        response = self.ott("POST", "/v1/one-time-token/webauthn/options", token)
        if response.status != 200:
            raise APIError("webauthn options refused", response)
        return response.json["public_key"]

    def webauthn_step(self, passkey, origin=None, **flaws):
        def step(token):
            options = request_options(self.webauthn_options(token))
            parts = passkey.assertion(options["publicKey"]["challenge"], origin or self.origin, **flaws)
            return self.ott("POST", "/v1/one-time-token/webauthn/verify", token, parts)
        return step

    def dev_messages(self, phone, session=None):
        path = "/v1/dev/messages?to=" + urllib.parse.quote(phone, safe="")
        response = self.call("GET", path, session=session or self.operator_key)
        if response.status != 200:
            raise APIError("dev messages", response)
        return response.json["messages"]

    def last_sms_code(self, phone, after_count=0, wait=10.0):
        """The code in the newest message to `phone` (waits for message number after_count+1)."""
        deadline = time.time() + wait
        while True:
            messages = self.dev_messages(phone)
            if len(messages) > after_count:
                text = messages[-1]["text"]
                match = re.search(r"(?<!\d)(\d{6,8})(?!\d)", text)
                if not match:
                    raise APIError(f"no code in message {text!r}")
                return match.group(1)
            if time.time() > deadline:
                raise APIError(f"no message to {phone}")
            time.sleep(0.1)

    def sms_trigger(self, token, channel="sms"):
        return self.ott("POST", "/v1/one-time-token/sms/trigger", token, {"channel": channel})

    def sms_step(self, phone):
        def step(token):
            before = len(self.dev_messages(phone))
            response = self.sms_trigger(token)
            if response.status != 202:
                return response
            code = self.last_sms_code(phone, before)
            return self.ott("POST", "/v1/one-time-token/sms/verify", token, {"code": code})
        return step

    # The one-time-token dance

    def solve(self, token, steps):
        for step in steps:
            response = step(token)
            if response.status != 200:
                raise APIError("a verification was refused", response)
        return self.status(token)

    def protected(self, method, path, body=None, session=None, solve=None, headers=None):
        """Sends the call; when it answers 403 with `x-2fa-approval`, reads the token's status,
        runs `solve` (a list of steps, or a function token, status -> None), and repeats the
        identical request (same bytes) with `x-2fa-approval`. Returns (final response,
        info) where info has 'first', 'token', 'status' (the document before solving) and
        'approved' (the status after)."""
        payload = json.dumps(body).encode("utf-8") if isinstance(body, (dict, list)) else body
        first = self.call(method, path, payload, session, headers)
        info = {"first": first, "token": None, "status": None, "approved": None}
        token = first.header("x-2fa-approval")
        if first.status != 403 or not token:
            return first, info
        if solve is None:
            raise APIError("the call needs SCA and no solver was given", first)
        info["token"] = token
        status = self.status(token)
        if status.status != 200:
            raise APIError("one-time-token status", status)
        info["status"] = status.json
        if callable(solve):
            solve(token, status.json)
        else:
            for step in solve:
                response = step(token)
                if response.status != 200:
                    raise APIError("a verification was refused", response)
        after = self.status(token)
        info["approved"] = after.json
        repeat_headers = dict(headers or {})
        repeat_headers["x-2fa-approval"] = token
        final = self.call(method, path, payload, session, repeat_headers)
        if final.header("x-2fa-approval-result") != "APPROVED":
            raise APIError(f"the repeated call was not approved (token state {after.json and after.json.get('state')})",
                           final)
        return final, info

    # The demo bank

    def login(self, username, solve):
        """Opens an SCA session; returns the session token."""
        response, _ = self.protected("POST", "/v1/sessions", {"username": username}, None, solve)
        if response.status != 201:
            raise APIError("login refused", response)
        return response.json["session"]

    def login_token(self, username):
        """Starts a login and returns its one-time token (without solving it)."""
        response = self.call("POST", "/v1/sessions", {"username": username})
        token = response.header("x-2fa-approval")
        if response.status != 403 or not token:
            raise APIError("login did not ask for SCA", response)
        return token

    def logout(self, session):
        return self.call("DELETE", "/v1/sessions/current", session=session)

    def accounts(self, session):
        return self.expect(200, "GET", "/v1/accounts", session=session)["accounts"]

    def beneficiaries(self, session):
        return self.expect(200, "GET", "/v1/beneficiaries", session=session)["beneficiaries"]

    def add_beneficiary(self, session, solve, name="Jan Kowalski", iban="PL61109010140000071219812874"):
        response, _ = self.protected("POST", "/v1/beneficiaries", {"name": name, "iban": iban}, session, solve)
        if response.status != 201:
            raise APIError("adding the beneficiary was refused", response)
        return response.json

    def transfer(self, session, solve, account_id, beneficiary_id, amount, currency="PLN", reference="test"):
        """(final response, info) as `protected` returns them."""
        return self.protected("POST", "/v1/transfers", {
            "account_id": account_id, "beneficiary_id": beneficiary_id, "amount": amount,
            "currency": currency, "reference": reference}, session, solve)

    def transfers(self, session):
        return self.expect(200, "GET", "/v1/transfers", session=session)["transfers"]
