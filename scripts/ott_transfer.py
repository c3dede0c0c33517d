#!/usr/bin/env python3
"""What the bank's web page does, done by a script: the one-time-token protocol end to end.

Registers a customer, enrols a passkey (a software authenticator, soft-webauthn), logs in
with PIN + passkey, adds the beneficiary Jan Kowalski, sends 2,200.00 PLN approved with PIN
+ passkey (showing the text the customer approves), and prints the transfer and the new
balance.

    sca serve --demo --port 8080 &
    .venv-interop/bin/python scripts/ott_transfer.py --base http://localhost:8080

Needs the interop venv (scripts/test.sh makes it): cryptography, fido2, soft-webauthn.
The server's WebAuthn relying party is `localhost`: use http://localhost:PORT.
"""
import argparse
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "blackbox", "auth"))

from client import APIError, Client  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://localhost:8080", help="the server, e.g. http://localhost:8080")
    parser.add_argument("--username", default=None, help="a new username (default: a random one)")
    parser.add_argument("--pin", default="2468")
    parser.add_argument("--amount", default="2200.00")
    args = parser.parse_args()

    api = Client(args.base)
    username = args.username or "script-" + uuid.uuid4().hex[:8]
    try:
        user = api.register(username, args.pin, name="Script Customer")
        print(f"registered {user.username} ({user.user_id})")
        passkey = api.enrol_passkey(user, label="Script passkey")
        print(f"enrolled passkey {passkey.factor['id']} (credential {passkey.factor.get('credential_id')})")

        approve = [api.pin_step(args.pin), api.webauthn_step(passkey)]
        session = api.login(user.username, approve)
        print("logged in with PIN + passkey")

        account = api.accounts(session)[0]
        print(f"account {account['id']}: {account['balance']} {account['currency']}")
        beneficiary = api.add_beneficiary(session, [api.pin_step(args.pin), api.webauthn_step(passkey)])
        print(f"beneficiary {beneficiary['name']} {beneficiary['iban']} ({beneficiary['id']})")

        def show_and_approve(token, status):
            print(f"approve: {status['display_text']}")
            for step in (api.pin_step(args.pin), api.webauthn_step(passkey)):
                response = step(token)
                if response.status != 200:
                    raise APIError("a verification was refused", response)

        response, info = api.transfer(session, show_and_approve, account["id"], beneficiary["id"], args.amount,
                                      reference="rent")
        if response.status != 201:
            raise APIError("the transfer was refused", response)
        print(f"x-2fa-approval-result: {response.header('x-2fa-approval-result')}")
        print("transfer: " + json.dumps(response.json, sort_keys=True))
        balance = next(a for a in api.accounts(session) if a["id"] == account["id"])["balance"]
        print(f"new balance: {balance} {account['currency']}")
        api.logout(session)
    except (APIError, OSError) as error:
        print(f"ott_transfer: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
