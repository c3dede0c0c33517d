#!/usr/bin/env python3
"""Writes a realistic mix of decision-contract requests as JSON lines.

Usage: generate_requests.py LINES [PAYERS] > requests.jsonl

A fixed seed makes the file the same on every run. Payers are spread over EEA and UK
PSPs; each has a card and an account. The mix: remote card payments (most), contactless,
credit transfers, recurring and merchant-initiated charges, logins, AISP refreshes,
beneficiary and trusted-list changes, with risk scores on about half of the payments.
Time moves forward a few seconds per line, so sessions idle and windows pass.
"""
import json
import random
import sys

lines = int(sys.argv[1])
payers = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
rng = random.Random(20261121)
eea = ["PL", "DE", "FR", "NL", "ES", "IT", "SE", "AT", "IE", "BE"]
currency_of = {"PL": "PLN", "SE": "SEK", "GB": "GBP"}


def stamp(seconds):
    days, rest = divmod(seconds, 86_400)
    # 2026-11-21 plus whole days, without datetime's cost.
    day = 21 + days
    month, year = 11, 2026
    while True:
        length = 30 if month in (4, 6, 9, 11) else 31 if month != 2 else 28
        if day <= length:
            break
        day -= length
        month += 1
        if month == 13:
            month, year = 1, year + 1
    return f"{year}-{month:02d}-{day:02d}T{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}Z"


def country(payer):
    return "GB" if payer % 7 == 0 else eea[payer % len(eea)]


def amount(low, high, ccy):
    value = rng.uniform(low, high)
    if ccy == "PLN":
        value *= 4.26
    elif ccy == "SEK":
        value *= 11.1
    elif ccy == "GBP":
        value *= 0.87
    return {"value": f"{value:.2f}", "currency": ccy}


out = sys.stdout
clock = 0
for n in range(lines):
    clock += rng.randint(0, 3)
    payer = rng.randrange(payers)
    psp = country(payer)
    ccy = currency_of.get(psp, "EUR")
    who = {"id": f"payer-{payer}", "psp_country": psp, "instrument": f"card-{payer}"}
    payee_psp = psp if psp == "GB" else rng.choice(eea)
    request = {"id": f"r{n}", "at": stamp(clock), "payer": who}
    kind = rng.random()
    if kind < 0.50:
        request.update(action="payment", payee={"id": f"shop-{rng.randrange(500)}", "psp_country": payee_psp},
                       amount=amount(1, 120, ccy), payment={"method": "card", "channel": "remote"})
        if rng.random() < 0.5:
            request["risk"] = {"score": round(rng.random() * 0.4, 3), "signals": []}
    elif kind < 0.62:
        request.update(action="payment", payee={"id": f"shop-{rng.randrange(500)}", "psp_country": payee_psp},
                       amount=amount(1, 60, ccy), payment={"method": "card", "channel": "contactless"})
    elif kind < 0.70:
        who["instrument"] = f"account-{payer}"
        request.update(action="payment", payee={"id": f"friend-{rng.randrange(50)}", "psp_country": payee_psp},
                       amount=amount(5, 600, ccy), payment={"method": "credit_transfer", "channel": "remote",
                                                             "same_person": rng.random() < 0.2})
    elif kind < 0.75:
        request.update(action="payment", payee={"id": "streaming", "psp_country": psp},
                       amount={"value": "9.99", "currency": ccy},
                       payment={"method": "card", "channel": "remote", "recurring": True})
    elif kind < 0.78:
        request.update(action="payment", payee={"id": "streaming", "psp_country": psp},
                       amount={"value": "9.99", "currency": ccy},
                       payment={"method": "card", "channel": "remote", "initiator": "merchant",
                                "mandate_ref": f"r{rng.randrange(max(n, 1))}"})
    elif kind < 0.88:
        del who["instrument"]
        request.update(action="login")
    elif kind < 0.95:
        del who["instrument"]
        request.update(action="ais_access", consent={"id": "aggregator"}, customer_present=rng.random() < 0.1)
    elif kind < 0.98:
        request.update(action="trust_beneficiary" if rng.random() < 0.5 else "add_beneficiary",
                       payee={"id": f"shop-{rng.randrange(500)}", "psp_country": payee_psp})
    else:
        request.update(action="sensitive_action")
    if rng.random() < 0.03:
        request["sca"] = "failed"
    out.write(json.dumps(request, separators=(",", ":")))
    out.write("\n")
