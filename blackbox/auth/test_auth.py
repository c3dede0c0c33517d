#!/usr/bin/env python3
"""Authentication tests: real `sca serve --demo` processes over HTTP (docs/AUTH-API.md).

One check per "must not" of the one-time-token protocol: a code used twice under a race,
PIN guessing spread over parallel sessions, an approval replayed for another request, a
token used before it is approved or after it expired, two factors of one category, a
revoked factor, exemptions and dynamic linking, WebAuthn assertions with one flaw each,
and secrets kept out of the database files and the logs.

    .venv-interop/bin/python blackbox/auth/test_auth.py     # SCA_TEST_BIN defaults to .build/debug/sca

Needs the interop venv (cryptography, fido2, soft-webauthn, pyotp; scripts/test.sh makes
it); run with another python3 it re-executes itself with .venv-interop/bin/python when that
exists. Without the dependencies or the binary the tests are skipped with a printed reason,
except under CI=true, where that is a failure.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ROOT, Server, check, failures, note  # noqa: E402

REASON = harness.ensure_dependencies(["cryptography", "fido2", "pyotp", "soft_webauthn"], __file__)
if not REASON:
    from client import APIError, b64url, unb64url  # noqa: E402

BUDGET = float(os.environ.get("SCA_TEST_AUTH_TIMEOUT", "1500"))  # seconds for the whole run

JAN = ("Jan Kowalski", "PL61109010140000071219812874")
ANNA = ("Anna Nowak", "PL67102040270000110201234567")
EVE = ("Ewa Mallory", "PL91116022020000000123456789")


# Helpers

REJECTIONS = []  # (label, response, used token): their fresh tokens are checked once, at the end


def rejected(response, used_token=None, label=""):
    """A refused repeat: 403, REJECTED, approval_invalid. (The fresh token the doc promises
    with it is checked separately, once for all of them: fresh_tokens().)"""
    REJECTIONS.append((label or response.path, response, used_token))
    return (response.status == 403 and response.header("x-2fa-approval-result") == "REJECTED"
            and response.error_code == "approval_invalid")


def fresh_tokens():
    """docs/AUTH-API.md: a refused repeat changes nothing and hands out no token (the
    client starts over without the header)."""
    refused = [(label, r, used) for label, r, used in REJECTIONS if r.error_code == "approval_invalid"]
    leaked = [f"{label}: {r!r}" for label, r, used in refused if r.header("x-2fa-approval")]
    check("approval_invalid answers carry no token", refused and not leaked,
          f"{len(leaked)} of {len(refused)} with one, e.g. {leaked[:1]}")


def failed_verification(response):
    return (response.status == 422 and response.error_code == "verification_failed"
            and response.json["error"].get("message") == "the verification was not accepted")


def state(api, token):
    response = api.status(token)
    return response.json.get("state") if response.status == 200 and response.json else f"HTTP {response.status}"


def challenge_types(status):
    types = set()
    for challenge in status.get("challenges", []):
        types.add(challenge["primary_challenge"]["type"])
        types.update(a["type"] for a in challenge.get("alternatives", []))
    return types


def bank_user(api, pin="2468", with_jan=False):
    """A registered user with PIN + device key, logged in. Returns a dict."""
    user = api.register(pin=pin)
    key = api.enrol_device_key(user)
    approve = [api.pin_step(pin), api.device_key_step(key)]
    session = api.login(user.username, approve)
    out = {"user": user, "key": key, "approve": approve, "session": session,
           "account": api.accounts(session)[0]}
    if with_jan:
        out["jan"] = api.add_beneficiary(session, approve, *JAN)
    return out


def parallel(count, function):
    """Runs function(index) on `count` threads released together."""
    barrier = threading.Barrier(count, timeout=30)

    def run(index):
        barrier.wait()
        return function(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count), timeout=120))


def audit_events(api):
    events, after = [], 0
    for _ in range(100):
        response = api.call("GET", f"/v1/audit?after={after}&limit=1000", session=api.operator_key)
        if response.status != 200:
            raise APIError("audit", response)
        events.extend(response.json["events"])
        after = response.json.get("next_after")
        if not after:
            break
    return events


def histogram(values):
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


# Scenarios

def totp_race(server):
    api = server.client()
    user = api.register()
    totp = api.enrol_totp(user)
    check("totp: the answer's secret is the provisioning URI's secret (base32)",
          totp.secret == totp.uri_secret, f"secret {totp.secret!r}, URI {totp.provisioning_uri!r}")
    token = api.login_token(user.username)
    code = totp.next_code()
    results = parallel(100, lambda _: api.ott("POST", "/v1/one-time-token/totp/verify", token, {"code": code}))
    statuses = histogram(r.status for r in results)
    check("totp: one code sent by 100 concurrent requests passes exactly once",
          statuses.get(200) == 1 and statuses.get(422) == 99
          and all(failed_verification(r) for r in results if r.status != 200), f"statuses {statuses}")
    status = api.status(token).json
    passed_types = [c["category"] for c in status["challenges"] if c["passed"]]
    check("totp: the token shows possession passed", passed_types == ["possession"], json.dumps(status))


def sms_race(server):
    api = server.client()
    user = api.register()
    phone = "+48600" + str(uuid.uuid4().int)[:6]
    api.enrol_sms(user, phone)
    token = api.login_token(user.username)
    before = len(api.dev_messages(phone))
    trigger = api.sms_trigger(token)
    check("sms: trigger answers 202 with a masked number",
          trigger.status == 202 and trigger.json.get("sent_to", "").startswith("+48") and phone not in trigger.body.decode(),
          repr(trigger))
    code = api.last_sms_code(phone, before)
    results = parallel(100, lambda _: api.ott("POST", "/v1/one-time-token/sms/verify", token, {"code": code}))
    statuses = histogram(r.status for r in results)
    check("sms: one code sent by 100 concurrent requests passes exactly once",
          statuses.get(200) == 1 and statuses.get(422) == 99
          and all(failed_verification(r) for r in results if r.status != 200), f"statuses {statuses}")


def pin_guessing(server):
    api = server.client()
    user = api.register(pin="2468")
    key = api.enrol_device_key(user)
    pin_factor = next(f for f in api.factors(user) if f["kind"] == "pin")
    tokens = [api.login_token(user.username) for _ in range(10)]
    check("pin: ten login attempts give ten different tokens", len(set(tokens)) == 10, str(tokens))
    results = parallel(10, lambda i: api.ott("POST", "/v1/one-time-token/pin/verify", tokens[i], {"pin": "1357"}))
    statuses = histogram(r.status for r in results)
    check("pin: ten parallel wrong PINs all fail alike (422 verification_failed)",
          statuses == {422: 10} and all(failed_verification(r) for r in results), f"statuses {statuses}")
    factor = next(f for f in api.factors(user) if f["id"] == pin_factor["id"])
    # The doc does not say whether failed_attempts still reads 5 once the block starts or
    # restarts from 0 for the next round; either is accepted, the value is reported.
    check("pin: the factor list's failed_attempts is 5, or 0 restarted by the block",
          factor.get("failed_attempts") == 5 or (factor.get("failed_attempts") == 0 and factor.get("blocked")),
          json.dumps(factor))
    note(f"failed_attempts after five failures and the block: {factor.get('failed_attempts')}")
    check("pin: the factor list shows the PIN blocked for 15 minutes",
          factor.get("blocked") is True and factor.get("blocked_until") and factor.get("permanently_blocked") is False,
          json.dumps(factor))
    if factor.get("blocked_until"):
        from datetime import datetime
        until = datetime.fromisoformat(factor["blocked_until"].replace("Z", "+00:00")).timestamp()
        check("pin: blocked_until is about 15 minutes away", 13 * 60 < until - time.time() <= 15 * 60 + 5,
              f"{factor['blocked_until']} is {until - time.time():.0f} s away")
    counting = api.register(pin="2468")
    api.enrol_device_key(counting)
    for _ in range(3):
        api.ott("POST", "/v1/one-time-token/pin/verify", api.login_token(counting.username), {"pin": "1357"})
    shown = next(f for f in api.factors(counting) if f["kind"] == "pin")
    check("pin: before a block the factor list counts the failures (3 wrong PINs: failed_attempts 3)",
          shown.get("failed_attempts") == 3 and shown.get("blocked") is False, json.dumps(shown))
    fresh = api.login_token(user.username)
    right = api.ott("POST", "/v1/one-time-token/pin/verify", fresh, {"pin": "2468"})
    check("pin: once blocked, even the right PIN is refused", failed_verification(right), repr(right))
    device = api.device_key_step(key)(fresh)
    check("pin: the device key still works (only the PIN is blocked)", device.status == 200, repr(device))
    events = audit_events(api)
    mine = [e for e in events if pin_factor["id"] in e["payload"] or user.user_id in e["payload"]]
    kinds = histogram(e["kind"] for e in mine)
    note(f"audit kinds for one user's PIN guessing: {kinds}; all kinds in the trail: "
         f"{histogram(e['kind'] for e in events)}")
    failure_events = [e for e in mine if "fail" in e["kind"] and pin_factor["id"] in e["payload"]]
    check("pin: the audit trail has exactly five failure events for the PIN", len(failure_events) == 5,
          f"{len(failure_events)} events whose kind contains 'fail' and which name the PIN factor; kinds {kinds}")
    blocked_events = [e for e in mine if "block" in e["kind"]]
    check("pin: the audit trail records the block", len(blocked_events) >= 1, f"kinds {kinds}")


def replays(server):
    api = server.client()
    a = bank_user(api, with_jan=True)
    anna = api.add_beneficiary(a["session"], a["approve"], *ANNA)
    account = a["account"]
    base = {"account_id": account["id"], "beneficiary_id": a["jan"]["id"], "amount": "2200.00",
            "currency": "PLN", "reference": "rent"}

    def approved(path, body, session):
        payload = json.dumps(body).encode()
        first = api.call("POST", path, payload, session)
        token = first.header("x-2fa-approval")
        if first.status != 403 or not token:
            raise APIError("expected a 403 with a token", first)
        after = api.solve(token, a["approve"])
        if after.json["state"] != "approved":
            raise APIError("the token was not approved", after)
        return token

    def repeat(path, body, session, token):
        return api.call("POST", path, json.dumps(body).encode(), session, {"x-2fa-approval": token})

    for label, changed in [("a changed amount", {"amount": "2300.00"}), ("a changed payee", {"beneficiary_id": anna["id"]}),
                           ("a changed reference", {"reference": "x"})]:
        token = approved("/v1/transfers", base, a["session"])
        response = repeat("/v1/transfers", dict(base, **changed), a["session"], token)
        check(f"replay: an approval used for {label} is refused", rejected(response, token, label), repr(response))
    # The only account is in PLN: a EUR transfer from it is invalid whatever the approval,
    # and the server may say so before it looks at the approval (docs do not order them).
    token = approved("/v1/transfers", base, a["session"])
    response = repeat("/v1/transfers", dict(base, currency="EUR"), a["session"], token)
    check("replay: an approval used for a changed currency is refused",
          rejected(response, token, "a changed currency") or (response.status == 422 and response.error_code == "invalid_value"),
          repr(response))
    if response.status != 403:
        note(f"a changed currency is refused before the approval is looked at: {response!r}")
    token = approved("/v1/transfers", base, a["session"])
    response = repeat("/v1/beneficiaries", {"name": EVE[0], "iban": EVE[1]}, a["session"], token)
    check("replay: an approval used for another request (path) is refused", rejected(response, token, "path"),
          repr(response))
    response = api.call("POST", "/v1/transfers?x=1", json.dumps(base).encode(), a["session"], {"x-2fa-approval": token})
    check("replay: an approval used with another query is refused", rejected(response, token, "query"), repr(response))

    b = bank_user(api)
    body = {"name": EVE[0], "iban": EVE[1]}
    token = approved("/v1/beneficiaries", body, a["session"])
    response = repeat("/v1/beneficiaries", body, b["session"], token)
    check("replay: an approval used by another user is refused", rejected(response, token, "other user"), repr(response))
    check("replay: nothing was added for the other user", all(x["iban"] != EVE[1] for x in api.beneficiaries(b["session"])),
          json.dumps(api.beneficiaries(b["session"])))

    token = approved("/v1/transfers", base, a["session"])
    first = repeat("/v1/transfers", base, a["session"], token)
    check("replay: the approved request succeeds once (201, APPROVED)",
          first.status == 201 and first.header("x-2fa-approval-result") == "APPROVED"
          and first.json.get("status") == "executed", repr(first))
    second = repeat("/v1/transfers", base, a["session"], token)
    check("replay: a second use of the approved token is refused", rejected(second, token), repr(second))
    check("replay: the token's state is consumed", state(api, token) == "consumed", state(api, token))
    transfers = api.transfers(a["session"])
    balance = next(x for x in api.accounts(a["session"]) if x["id"] == account["id"])["balance"]
    check("replay: only the one approved transfer executed", len(transfers) == 1 and balance == "7800.00",
          f"{len(transfers)} transfers, balance {balance}")


def expired(workdir):
    # The doc's key, auth.code_lifetime_seconds, read from its environment variable.
    server = Server(workdir, "doc-lifetime", {"SCA_AUTH_CODE_LIFETIME_SECONDS": "2"}).start()
    try:
        api = server.client()
        user = api.register()
        api.enrol_device_key(user)
        status = api.status(api.login_token(user.username)).json
        check("expiry: SCA_AUTH_CODE_LIFETIME_SECONDS=2 (auth.code_lifetime_seconds) sets the lifetime",
              status and status.get("validity_seconds", 99) <= 2, json.dumps(status))
    finally:
        server.stop()
    # The behaviour, whichever name the server reads (SCA_AUTH_CODE_LIFETIME_SECONDS is
    # what this server's configuration keys call it).
    server = Server(workdir, "short-lifetime", {"SCA_AUTH_CODE_LIFETIME_SECONDS": "2"}).start()
    try:
        api = server.client()
        user = api.register()
        key = api.enrol_device_key(user)
        token = api.login_token(user.username)
        status = api.status(token).json
        check("expiry: the token says it lives 2 seconds", status and status.get("validity_seconds", 99) <= 2,
              json.dumps(status))
        api.solve(token, [api.pin_step(user.pin), api.device_key_step(key)])
        approved_state = state(api, token)
        time.sleep(3)
        expired_state = state(api, token)
        response = api.call("POST", "/v1/sessions", {"username": user.username}, headers={"x-2fa-approval": token})
        check("expiry: an approved token used after its lifetime is refused", approved_state == "approved"
              and rejected(response, token), f"state before {approved_state}; {response!r}")
        check("expiry: its status says expired", expired_state == "expired", expired_state)
        late = api.login_token(user.username)
        time.sleep(3)
        response = api.ott("POST", "/v1/one-time-token/pin/verify", late, {"pin": user.pin})
        check("expiry: a verification on an expired token fails", failed_verification(response), repr(response))
    finally:
        server.stop()


def before_approval(server):
    api = server.client()
    user = api.register()
    api.enrol_device_key(user)  # a second category, so the user can log in
    token = api.login_token(user.username)
    response = api.call("POST", "/v1/sessions", {"username": user.username}, headers={"x-2fa-approval": token})
    check("early: the repeat with no factor passed is refused", rejected(response, token), repr(response))
    token = api.login_token(user.username)
    pin = api.pin_step(user.pin)(token)
    now = state(api, token)
    response = api.call("POST", "/v1/sessions", {"username": user.username}, headers={"x-2fa-approval": token})
    check("early: the repeat with one factor passed (partly_passed) is refused",
          pin.status == 200 and now == "partly_passed" and rejected(response, token), f"state {now}; {response!r}")
    again = api.pin_step(user.pin)(token)
    check("early: a factor already passed cannot be verified again", failed_verification(again), repr(again))

    # Factors the token did not offer: this user has PIN + device key only.
    other = api.register()
    other_key = api.enrol_device_key(other)
    token = api.login_token(user.username)
    offered = challenge_types(api.status(token).json)
    check("not offered: the token offers only the user's factor kinds", offered == {"pin", "device_key"}, str(offered))
    totp = api.ott("POST", "/v1/one-time-token/totp/verify", token, {"code": "123456"})
    sms = api.ott("POST", "/v1/one-time-token/sms/verify", token, {"code": "123456"})
    webauthn = api.ott("POST", "/v1/one-time-token/webauthn/verify", token, {
        "credential_id": b64url(os.urandom(32)), "client_data_json": b64url(b"{}"),
        "authenticator_data": b64url(os.urandom(37)), "signature": b64url(os.urandom(70))})
    challenge = api.ott("POST", "/v1/one-time-token/device-key/challenge", token)
    data = unb64url(challenge.json["challenge"]) if challenge.status == 200 else os.urandom(32)
    foreign = api.ott("POST", "/v1/one-time-token/device-key/verify", token,
                      {"factor_id": other_key.factor["id"], "signature": b64url(other_key.sign(data))})
    for label, response in [("TOTP", totp), ("SMS", sms), ("WebAuthn", webauthn),
                            ("another user's device key (correctly signed)", foreign)]:
        check(f"not offered: verifying {label} on a token that did not offer it fails", failed_verification(response),
              repr(response))
    trigger = api.sms_trigger(token)
    note(f"sms/trigger on a token without an SMS factor: {trigger!r}")
    check("not offered: the token is still not approved", state(api, token) in ("created", "partly_passed"),
          state(api, token))


def same_category(server):
    api = server.client()
    user = api.register()
    key = api.enrol_device_key(user)
    totp = api.enrol_totp(user, solve=[api.pin_step(user.pin), api.device_key_step(key)])
    token = api.login_token(user.username)
    first = api.totp_step(totp)(token)
    second = api.device_key_step(key)(token)
    now = state(api, token)
    response = api.call("POST", "/v1/sessions", {"username": user.username}, headers={"x-2fa-approval": token})
    note(f"second possession factor after TOTP: {second.status} {second.error_code or ''}")
    check("category: TOTP + device key (both possession) do not approve",
          first.status == 200 and now == "partly_passed" and rejected(response, token),
          f"totp {first.status}, device key {second.status}, state {now}; {response!r}")
    pin = api.pin_step(user.pin)(token)
    check("category: adding the PIN (knowledge) then approves", pin.status == 200 and state(api, token) == "approved",
          f"{pin!r}")


def revoked(server):
    api = server.client()
    user = api.register()
    key = api.enrol_device_key(user)
    totp = api.enrol_totp(user, solve=[api.pin_step(user.pin), api.device_key_step(key)])
    response, info = api.protected("DELETE", f"/v1/users/{user.user_id}/factors/{key.factor['id']}", None,
                                   user.enrolment_session, [api.pin_step(user.pin), api.totp_step(totp)])
    factor = response.json or {}
    check("revoked: revoking with two active factors needs SCA (a token for revoke_factor)",
          info["token"] is not None and (info["status"] or {}).get("action_type") == "revoke_factor",
          f"first {info['first']!r}; status {info['status']}")
    check("revoked: DELETE answers the factor with status revoked", factor.get("status") == "revoked", json.dumps(factor))
    listed = api.factor(user, key.factor["id"])
    check("revoked: the factor list shows it revoked", listed is None or listed["status"] == "revoked", json.dumps(listed))
    token = api.login_token(user.username)
    offered = challenge_types(api.status(token).json)
    check("revoked: the token no longer offers a device key", "device_key" not in offered, str(offered))
    api.pin_step(user.pin)(token)
    challenge = api.ott("POST", "/v1/one-time-token/device-key/challenge", token)
    data = unb64url(challenge.json["challenge"]) if challenge.status == 200 else os.urandom(32)
    response = api.ott("POST", "/v1/one-time-token/device-key/verify", token,
                       {"factor_id": key.factor["id"], "signature": b64url(key.sign(data))})
    check("revoked: a revoked device key cannot be used", failed_verification(response) and state(api, token) != "approved",
          f"challenge {challenge.status}; {response!r}")


def statement_and_trusted_list(server):
    """Statements are account information (RTS Art. 10): SCA when first accessed, then
    exempt within the window; the SCA of the login that opened the session is that first
    SCA, so a statement right after it needs none. Trusting a beneficiary needs SCA
    (Art. 13); the engine's trusted list then exempts transfers to it."""
    api = server.client()
    a = bank_user(api, with_jan=True)
    path = f"/v1/accounts/{a['account']['id']}/statement"
    response, info = api.protected("GET", path, None, a["session"], a["approve"])
    check("statement: right after an SCA login it needs none (the login's SCA, RTS Art. 10)",
          info["token"] is None and response.status == 200 and response.json.get("entries") == [], repr(info["first"]))
    again = api.call("GET", path, None, a["session"])
    check("statement: the next one within the window needs none (RTS Art. 10)",
          again.status == 200 and again.header("x-2fa-approval") is None, repr(again))
    response, info = api.protected("POST", f"/v1/beneficiaries/{a['jan']['id']}/trust", b"", a["session"], a["approve"])
    check("trusted list: trusting a beneficiary needs SCA (trust_beneficiary)",
          info["token"] is not None and (info["status"] or {}).get("action_type") == "trust_beneficiary"
          and response.status == 200 and response.json.get("trusted") is True, repr(info["first"]))
    listed = api.call("GET", "/v1/beneficiaries", None, a["session"]).json["beneficiaries"]
    check("trusted list: the beneficiary shows as trusted", any(b["id"] == a["jan"]["id"] and b["trusted"] for b in listed),
          json.dumps(listed))
    response, info = api.transfer(a["session"], None, a["account"]["id"], a["jan"]["id"], "2200.00", reference="rent")
    check("trusted list: a 2,200.00 PLN transfer to it executes without a token (trusted_beneficiary)",
          response.status == 201 and info["token"] is None
          and (response.json.get("decision") or {}).get("reason") == "trusted_beneficiary", repr(response))


def exemption_and_linking(server):
    api = server.client()
    a = bank_user(api, with_jan=True)
    response, info = api.transfer(a["session"], None, a["account"]["id"], a["jan"]["id"], "10.00", reference="coffee")
    body = response.json or {}
    check("exempt: a 10.00 PLN transfer executes without a token (201, sca exempt)",
          response.status == 201 and info["token"] is None and body.get("sca") == "exempt"
          and body.get("status") == "executed", repr(response))
    decision = body.get("decision") or {}
    ids = [v for v in decision.values() if isinstance(v, str) and v.startswith("dec_")]
    events = audit_events(api)
    logged = [e for e in events if any(i in e["payload"] for i in ids)]
    check("exempt: its decision is in the audit log", ids and logged and "exempt" in logged[0]["payload"],
          f"decision {json.dumps(decision)}; {len(logged)} events")
    if logged:
        note(f"exempt transfer's audit events: {[(e['kind'], e['payload'][:300]) for e in logged]}")

    shown = {}

    def approve(token, status):
        shown["status"] = status
        api.solve(token, a["approve"])

    response, info = api.transfer(a["session"], approve, a["account"]["id"], a["jan"]["id"], "2200.00", reference="rent")
    first = info["first"]
    text = "Pay 2,200.00 PLN to Jan Kowalski"
    check("linking: a 2,200.00 PLN transfer needs a token (403 sca_required)",
          first.status == 403 and first.error_code == "sca_required" and first.header("x-2fa-approval-result") == "REJECTED"
          and first.json.get("one_time_token") == first.header("x-2fa-approval"), repr(first))
    check("linking: the 403 names the action (action_type transfer) and its decision",
          first.json.get("action_type") == "transfer" and str(first.json.get("decision_id", "")).startswith("dec_"),
          repr(first))
    check("linking: the status names the action (action_type transfer)",
          shown.get("status", {}).get("action_type") == "transfer", json.dumps(shown.get("status")))
    check("linking: the 403 and the status show 'Pay 2,200.00 PLN to Jan Kowalski'",
          first.json.get("display_text") == text and shown.get("status", {}).get("display_text") == text,
          f"{first.json.get('display_text')!r} / {shown.get('status', {}).get('display_text')!r}")
    check("linking: the approved repeat executes it",
          response.status == 201 and response.json.get("status") == "executed" and response.json.get("amount") == "2200.00",
          repr(response))
    balance = api.accounts(a["session"])[0]["balance"]
    check("linking: the balance dropped by 2,210.00", balance == "7790.00", balance)


def outside_sca(server):
    """Issue 27's attack, step by step as an attacker with a customer's session tried it: a
    transfer refused with 403 sca_required; an SCA result for its decision, a
    trust_beneficiary decision and a counter-resetting payment "passed" from outside,
    with no key and with a key of every kind; the transfer again must still need SCA."""
    api = server.client()
    bearers = {"no key": None, **server.api_keys()}
    check("outside SCA: the demo printed a key of each kind",
          sorted(bearers) == ["decider", "merchant", "no key", "operator", "partner"], sorted(bearers))
    a = bank_user(api, with_jan=True)
    account, jan = a["account"]["id"], a["jan"]["id"]
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    payer = {"id": a["user"].user_id, "psp_country": "PL", "instrument": account, "consumer": True}
    payee = {"id": jan, "psp_country": "PL"}

    def transfer(amount):
        return api.call("POST", "/v1/transfers", {"account_id": account, "beneficiary_id": jan, "amount": amount,
                                                  "currency": "PLN", "reference": "attack"}, a["session"])

    first = transfer("2200.00")
    decision = (first.json or {}).get("decision_id") or ""
    check("outside SCA: a 2,200.00 PLN transfer is refused (403 sca_required, with its decision)",
          first.status == 403 and first.error_code == "sca_required" and decision.startswith("dec_"), repr(first))
    answers = {}
    for label, key in bearers.items():
        report = api.call("POST", f"/v1/decisions/{decision}/sca-result", {"result": "passed"}, key)
        trust = api.call("POST", "/v1/decisions", {"id": f"trust-{label}", "at": now, "action": "trust_beneficiary",
                                                   "payer": payer, "payee": payee, "sca": "passed"}, key)
        reset = api.call("POST", "/v1/decisions", {
            "id": f"reset-{label}", "at": now, "action": "payment", "payer": payer, "payee": payee,
            "amount": {"value": "2200.00", "currency": "PLN"}, "sca": "passed",
            "payment": {"method": "credit_transfer", "channel": "remote", "initiator": "payer"}}, key)
        answers[label] = (report.status, trust.status, reset.status)
    expected = {label: (404, 201, 201) if label == "decider" else (401, 401, 401) if label == "no key" else (403, 403, 403)
                for label in bearers}
    check("outside SCA: the gate's decision takes no SCA result from any key (401, 403, or 404 for a decider)",
          answers == expected, f"{answers} (expected {expected})")
    for amount in ("2200.00", "7000.00"):
        again = transfer(amount)
        check(f"outside SCA: a {amount} PLN transfer still answers 403 sca_required",
              again.status == 403 and again.error_code == "sca_required", repr(again))
    listed = api.call("GET", "/v1/beneficiaries", None, a["session"]).json["beneficiaries"]
    check("outside SCA: the beneficiary is not trusted", not any(b["trusted"] for b in listed), json.dumps(listed))

    # The low-value counters: the sixth 10.00 PLN transfer needs SCA (RTS Art. 16); an
    # outside "passed" payment does not reset them.
    b = bank_user(api, with_jan=True)
    account, jan = b["account"]["id"], b["jan"]["id"]
    a = b
    payer = {"id": b["user"].user_id, "psp_country": "PL", "instrument": account, "consumer": True}
    statuses = [transfer("10.00").status for _ in range(6)]
    check("outside SCA: five 10.00 PLN transfers execute, the sixth needs SCA",
          statuses == [201] * 5 + [403], statuses)
    for label, key in bearers.items():
        api.call("POST", "/v1/decisions", {
            "id": f"counters-{label}", "at": now, "action": "payment", "payer": payer,
            "payee": {"id": jan, "psp_country": "PL"}, "amount": {"value": "10.00", "currency": "PLN"}, "sca": "passed",
            "payment": {"method": "credit_transfer", "channel": "remote", "initiator": "payer"}}, key)
    again = transfer("10.00")
    check("outside SCA: after outside 'passed' payments the next 10.00 PLN transfer still needs SCA",
          again.status == 403 and again.error_code == "sca_required", repr(again))


def webauthn_negatives(server):
    api = server.client()
    user = api.register()
    passkey = api.enrol_passkey(user)
    check("webauthn: the factor is inherence with a credential id",
          passkey.factor.get("category") == "inherence" and passkey.factor.get("credential_id") == b64url(passkey.credential_id),
          json.dumps(passkey.factor))
    pin = api.pin_step(user.pin)
    session = api.login(user.username, [pin, api.webauthn_step(passkey)])
    check("webauthn: a good assertion logs in", bool(session))
    token = api.login_token(user.username)
    options = api.webauthn_options(token)
    check("webauthn: options require user verification for rp localhost",
          options.get("user_verification") == "required" and options.get("rp_id") == "localhost"
          and [c["id"] for c in options.get("allow_credentials", [])] == [b64url(passkey.credential_id)],
          json.dumps(options))
    other_origin = f"http://127.0.0.1:{server.port}"
    response = api.webauthn_step(passkey, origin=other_origin)(token)
    check("webauthn: the other allowed origin (127.0.0.1) is accepted", response.status == 200, repr(response))

    def with_challenge(challenge_bytes):
        def step(token):
            api.webauthn_options(token)
            return api.ott("POST", "/v1/one-time-token/webauthn/verify", token,
                           passkey.assertion(challenge_bytes, api.origin))
        return step

    def client_data_step(make):
        def step(token):
            challenge_bytes = unb64url(api.webauthn_options(token)["challenge"])
            return api.ott("POST", "/v1/one-time-token/webauthn/verify", token,
                           passkey.assertion(challenge_bytes, api.origin, client_data=make(challenge_bytes)))
        return step

    def auth_data_step(make):
        def step(token):
            challenge_bytes = unb64url(api.webauthn_options(token)["challenge"])
            from fido2.utils import sha256
            passkey.sign_count += 1
            good = sha256(b"localhost") + bytes([0x05]) + passkey.sign_count.to_bytes(4, "big")
            return api.ott("POST", "/v1/one-time-token/webauthn/verify", token,
                           passkey.assertion(challenge_bytes, api.origin, authenticator_data=make(good)))
        return step

    def flip_last(field):
        def tamper(parts):
            raw = bytearray(unb64url(parts[field]))
            raw[-1] ^= 0x01
            return dict(parts, **{field: b64url(bytes(raw))})
        return tamper

    def append(field, extra):
        return lambda parts: dict(parts, **{field: b64url(unb64url(parts[field]) + extra)})

    cases = [
        ("clientDataJSON origin of another site", api.webauthn_step(passkey, origin=f"http://evil.example:{server.port}")),
        ("clientDataJSON origin with another port", api.webauthn_step(passkey, origin=f"http://localhost:{server.port + 1}")),
        ("clientDataJSON challenge of another request", with_challenge(os.urandom(32))),
        ("clientDataJSON type webauthn.create", client_data_step(lambda c: json.dumps(
            {"type": "webauthn.create", "challenge": b64url(c), "origin": api.origin}).encode())),
        ("clientDataJSON altered after signing", api.webauthn_step(passkey, tamper=flip_last("client_data_json"))),
        ("authenticatorData rpIdHash of another rp", api.webauthn_step(passkey, rp_id="evil.example")),
        ("authenticatorData UV flag cleared (re-signed)", api.webauthn_step(passkey, flags=0x01)),
        ("authenticatorData UP and UV cleared (re-signed)", api.webauthn_step(passkey, flags=0x00)),
        ("a bad signature", api.webauthn_step(passkey, tamper=flip_last("signature"))),
        ("a sign count that did not increase",  # the count of the last accepted assertion
         lambda token: api.webauthn_step(passkey, sign_count=passkey.sign_count)(token)),
        ("authenticatorData truncated (re-signed)", auth_data_step(lambda good: good[:36])),
        ("authenticatorData with a trailing byte (re-signed)", auth_data_step(lambda good: good + b"\x00")),
        ("a signature with a trailing byte", api.webauthn_step(passkey, tamper=append("signature", b"\x00"))),
        ("a truncated signature", api.webauthn_step(passkey, tamper=lambda p: dict(
            p, signature=b64url(unb64url(p["signature"])[:-4])))),
        ("an unknown credential id", api.webauthn_step(passkey, tamper=lambda p: dict(
            p, credential_id=b64url(os.urandom(32))))),
    ]
    for label, step in cases:
        token = api.login_token(user.username)
        response = step(token)
        ok = failed_verification(response) and state(api, token) in ("created", "partly_passed")
        # Control: a correct assertion on a fresh token still passes (only the flaw mattered,
        # and the factor is not blocked).
        control_token = api.login_token(user.username)
        control = api.webauthn_step(passkey)(control_token)
        check(f"webauthn: {label} -> 422 verification_failed", ok and control.status == 200,
              f"{response!r}; control {control!r}")
    check("webauthn: the passkey is not blocked after alternating failures",
          not api.factor(user, passkey.factor["id"])["blocked"], json.dumps(api.factor(user, passkey.factor["id"])))


def enrolment_session_limits(server):
    api = server.client()
    user = api.register()
    response = api.call("GET", "/v1/accounts", session=user.enrolment_session)
    check("sessions: an enrolment session cannot use the bank (401 unauthenticated)",
          response.status == 401 and response.error_code == "unauthenticated", repr(response))
    response = api.call("GET", "/v1/accounts", session="not-a-session")
    check("sessions: an unknown session is 401", response.status == 401 and response.error_code == "unauthenticated",
          repr(response))
    other = api.register()
    taken = api.call("POST", "/v1/users", {"username": other.username, "name": "Someone Else", "pin": "8024"})
    check("sessions: a taken username is 409 username_taken", taken.status == 409 and taken.error_code == "username_taken",
          repr(taken))
    response = api.call("GET", f"/v1/users/{other.user_id}/factors", session=user.enrolment_session)
    check("sessions: another user's factors are 404", response.status == 404, repr(response))
    key = api.enrol_device_key(user)
    response = api.call("POST", f"/v1/users/{user.user_id}/factors",
                        {"kind": "totp", "label": "x"}, session=user.enrolment_session)
    token = response.header("x-2fa-approval")
    status = api.status(token).json if token else None
    check("sessions: a third factor needs SCA (403 sca_required, a token for add_factor)",
          response.status == 403 and response.error_code == "sca_required"
          and (status or {}).get("action_type") == "add_factor", f"{response!r}; status {status}")
    session = api.login(user.username, [api.pin_step(user.pin), api.device_key_step(key)])
    api.logout(session)
    response = api.call("GET", "/v1/accounts", session=session)
    check("sessions: a session ended by DELETE /v1/sessions/current is 401", response.status == 401, repr(response))


def script(server):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "ott_transfer.py"), "--base", server.base],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    out = result.stdout
    check("script: scripts/ott_transfer.py sends 2,200.00 PLN approved with a passkey",
          result.returncode == 0 and "approve: Pay 2,200.00 PLN to Jan Kowalski" in out
          and "x-2fa-approval-result: APPROVED" in out and "new balance: 7800.00 PLN" in out,
          f"exit {result.returncode}\n{out}\n{result.stderr}")


def secrets_in_clear(workdir):
    server = Server(workdir, "secrets").start()
    needles = {}  # label -> list of bytes/regex
    stopped = False
    try:
        api = server.client()
        pin = "739148"
        phone = "+48512834967"
        user = api.register(pin=pin, name="Secret Keeper")
        totp = api.enrol_totp(user)
        api.enrol_sms(user, phone, solve=[api.pin_step(pin), api.totp_step(totp)])
        tokens, sessions = [], [user.enrolment_session]
        api.log = []
        sessions.append(api.login(user.username, [api.pin_step(pin), api.sms_step(phone)]))
        session = api.login(user.username, [api.pin_step(pin), api.totp_step(totp)])
        sessions.append(session)
        jan = api.add_beneficiary(session, [api.pin_step(pin), api.sms_step(phone)], *JAN)
        response, _ = api.transfer(session, [api.pin_step(pin), api.sms_step(phone)],
                                   api.accounts(session)[0]["id"], jan["id"], "2200.00")
        check("secrets: the run completed (SMS codes, TOTP and PIN accepted)", response.status == 201, repr(response))
        keys = server.api_keys()
        api.call("GET", "/v1/clients", None, keys.get("operator"))
        api.call("GET", "/v1/audit?limit=1000", None, keys.get("operator"))
        api.call("POST", "/v1/decisions", {"id": "k", "at": "2026-11-21T08:00:00Z", "action": "login",
                                           "payer": {"id": "p", "psp_country": "DE"}}, keys.get("decider"))
        answered = b"".join(r.body + repr(r.headers).encode() for r in api.log)
        check("secrets: no answer carries an API key or its secret part (client list, audit, decisions)",
              len(keys) == 4 and not any(k.encode() in answered or k[8:].encode() in answered for k in keys.values()),
              sorted(keys))
        tokens = sorted({r.header("x-2fa-approval") for r in api.log if r.header("x-2fa-approval")})
        messages = api.dev_messages(phone)
        codes = sorted({m for msg in messages for m in re.findall(r"(?<!\d)\d{6,8}(?!\d)", msg["text"])})
        check("secrets: the development sender kept the SMS messages", len(codes) >= 3, json.dumps(messages))
        import base64
        raw_secret = base64.b32decode(totp.uri_secret + "=" * (-len(totp.uri_secret) % 8))
        needles = {
            "the PIN": [pin],
            "the TOTP secret (base32)": [totp.secret, totp.uri_secret],
            "the TOTP secret (raw bytes and their base64/hex)": [raw_secret, base64.b64encode(raw_secret).rstrip(b"="),
                                                                b64url(raw_secret), raw_secret.hex()],
            "the session tokens": sessions,
            "the one-time tokens": tokens,
            "the SMS codes": codes,
            "the phone number": [phone, phone[1:], phone[3:]],
            "the SMS texts": [m["text"] for m in messages],
            "the API keys (and their secret parts)": [part for k in keys.values() for part in (k, k[8:])],
            "control": [user.user_id, JAN[1]],
        }

        def scan(paths):
            found = {}
            for path in paths:
                if not os.path.exists(path):
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                for label, values in needles.items():
                    for value in values:
                        value = value.encode() if isinstance(value, str) else value
                        if value.isdigit():
                            pattern = re.compile(rb"(?<![0-9])" + re.escape(value) + rb"(?![0-9])")
                            hit = pattern.search(data)
                        else:
                            hit = value in data
                        if hit:
                            found.setdefault(label, []).append(os.path.basename(path))
            return found

        files = [server.db, server.db + "-wal", server.db + "-shm"]
        running = scan(files)
        server.stop()
        stopped = True
        after = scan(files)
        # The log, but for the demo banner, printed once to stdout, that shows the demo's keys.
        banner = re.compile(rb"^  (operator|decider|merchant|partner) +sk_test_[A-Za-z0-9_-]+\n", re.M)
        logged = os.path.join(workdir, "secrets-log-without-banner")
        with open(server.log_path, "rb") as source, open(logged, "wb") as target:
            target.write(banner.sub(b"", source.read()))
        for label, where in scan([logged]).items():
            after.setdefault(label, []).extend(["serve.log"] * len(where))
        for label in needles:
            if label.startswith("control"):
                continue
            where = sorted(set(running.get(label, []) + after.get(label, [])))
            check(f"secrets: no trace of {label} in the SQLite files or the server's log", not where,
                  f"found in {where}")
        found = sorted(set(running.get("control", []) + after.get("control", [])))
        check("secrets: the scan does find what is stored in clear (the user id, the beneficiary's IBAN)",
              "sca.sqlite" in found or "sca.sqlite-wal" in found, f"control found in {found}")
        check("secrets: the scan read a non-empty database and log",
              os.path.getsize(server.db) > 0 and os.path.getsize(server.log_path) > 0, "empty files")
    finally:
        if not stopped:
            server.stop()


def store_after_all(server):
    """The main server's store after every scenario, its audit chain full of the gate's
    events (tokens, factors, sessions, approvals): the chain verifies, and every decision
    among them is decided again to the same answer."""
    check("store: the server stops on SIGTERM", server.stop() == 0)
    for command, expected in ((["audit", "verify"], '"status":"intact"'), (["store", "check"], '"consistent":true')):
        result = subprocess.run([harness.SCA, *command, "--db", f"sqlite:{server.db}"],
                                capture_output=True, text=True, timeout=120, cwd=ROOT)
        check(f"store: sca {' '.join(command)} on the gate's store", result.returncode == 0 and expected in result.stdout,
              (result.stdout + result.stderr)[-500:])


def main():
    if REASON:
        return harness.skip_or_fail("auth", REASON)

    watchdog = harness.start_watchdog("auth", BUDGET)
    workdir = tempfile.mkdtemp(prefix="sca-auth-")
    only = set(sys.argv[1:])
    try:
        main_server = Server(workdir, "main").start()
        scenarios = [
            ("TOTP and SMS codes under a race", lambda: (totp_race(main_server), sms_race(main_server))),
            ("PIN guessing over parallel sessions", lambda: pin_guessing(main_server)),
            ("approvals replayed", lambda: replays(main_server)),
            ("expired tokens", lambda: expired(workdir)),
            ("tokens used early, factors not offered", lambda: before_approval(main_server)),
            ("two factors of one category", lambda: same_category(main_server)),
            ("revoked factors", lambda: revoked(main_server)),
            ("exemptions and dynamic linking", lambda: exemption_and_linking(main_server)),
            ("statements and the trusted list", lambda: statement_and_trusted_list(main_server)),
            ("an SCA result from outside (issue 27's attack)", lambda: outside_sca(main_server)),
            ("WebAuthn assertions with one flaw", lambda: webauthn_negatives(main_server)),
            ("sessions", lambda: enrolment_session_limits(main_server)),
            ("the script", lambda: script(main_server)),
            ("secrets in clear", lambda: secrets_in_clear(workdir)),
            ("no token with approval_invalid", fresh_tokens),
        ]
        for name, scenario in scenarios:
            if only and not any(o.lower() in name.lower() for o in only):
                continue
            print(f"== {name}", flush=True)
            try:
                scenario()
            except Exception as error:  # a scenario that could not run is a failure
                detail = traceback.format_exc(limit=3).strip().splitlines()[-3:]
                failures.append(f"{name}: {error!r}")
                print(f"  FAIL  {name}: {error!r}\n        " + "\n        ".join(detail), flush=True)
            if main_server.process.poll() is not None:
                failures.append(f"the server died: {main_server.log()[-2000:]}")
                print("  FAIL  the server died", flush=True)
                break
        else:
            if not only:
                print("== the store after it all", flush=True)
                store_after_all(main_server)
    except Exception as error:
        failures.append(f"error: {error!r}")
        print(f"  FAIL  {error!r}", flush=True)
    finally:
        status = harness.finish("auth", workdir, watchdog)
    return status


if __name__ == "__main__":
    sys.exit(main())
