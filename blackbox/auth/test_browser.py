#!/usr/bin/env python3
"""Browser tests: the demo bank's pages (/app/) in headless Chromium, driven by Selenium,
with a virtual WebAuthn authenticator (CTAP2, internal, resident keys, user verified).

1. The bank app: register, add a passkey, leave the enrolment, log in with PIN + passkey,
   see the balance, add a beneficiary (PIN + passkey), send 2,200.00 PLN — the challenge
   shows "Pay 2,200.00 PLN to Jan Kowalski" before the passkey step — and see the transfer
   executed and the balance lower; log out.
2. The partner page (partner.html?token=…) for a token obtained through the API, approved
   with PIN + TOTP (pyotp) from the keyboard only: the path without a smartphone.

    .venv-interop/bin/python blackbox/auth/test_browser.py   # SCA_TEST_BIN defaults to .build/debug/sca

Needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver) and
selenium in the interop venv. Without them the tests are skipped with a printed reason,
except under CI=true, where that is a failure.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402
from harness import check  # noqa: E402

BUDGET = float(os.environ.get("SCA_TEST_BROWSER_TIMEOUT", "600"))

JAN = ("Jan Kowalski", "PL61109010140000071219812874")
PAY_TEXT = "Pay 2,200.00 PLN to Jan Kowalski"


REASON = browser.reason(["cryptography", "pyotp", "selenium"], __file__)
if not REASON:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.common.virtual_authenticator import VirtualAuthenticatorOptions
    from selenium.webdriver.support.ui import Select

    from client import APIError

drivers = []


def new_driver():
    return browser.new_driver(drivers)


def add_authenticator(driver):
    driver.add_virtual_authenticator(VirtualAuthenticatorOptions(
        protocol=VirtualAuthenticatorOptions.Protocol.CTAP2,
        transport=VirtualAuthenticatorOptions.Transport.INTERNAL,
        has_resident_key=True, has_user_verification=True, is_user_verified=True))


class Page(browser.BasePage):
    """The bank app and its <sca-challenge> dialog."""

    def css(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def wait_css(self, what, selector):
        return self.until(what, lambda: (self.css(selector) or [None])[0])

    def dialog_open(self):
        return self.driver.execute_script("const d = document.getElementById('sca-dialog'); return !!(d && d.open);")

    def challenge_state(self):
        return self.driver.execute_script(
            "const c = document.querySelector('sca-challenge'); return c ? (c.dataset.state || '') : null;")

    def message(self):
        return self.text("sca-message")

    def approve_with_pin_and_passkey(self, pin, before_passkey=None):
        """In the open #sca-dialog: the PIN, then the passkey (the virtual authenticator)."""
        self.until("the confirmation dialog", self.dialog_open)
        self.until("the challenge to load", lambda: self.challenge_state() in ("created", "partly_passed"))
        self.type("sca-pin", pin)
        self.click("sca-pin-submit")
        self.wait_css("the PIN to be accepted", '[data-testid="sca-category-knowledge"][data-passed="true"]')
        if before_passkey:
            before_passkey()
        self.click("sca-webauthn")
        self.until(f"the dialog to close after the passkey (message: {self.message()!r})",
                   lambda: not self.dialog_open())

    def keys(self, *keys):
        ActionChains(self.driver).send_keys(*keys).perform()


def balance_text(page):
    found = page.css("#accounts li.account .balance")
    return found[0].text.strip() if found else None


def bank_app(server):
    driver = new_driver()
    add_authenticator(driver)
    page = Page(driver)
    username = "web" + str(int(time.time() * 1000))[-9:]
    pin = "583920"
    try:
        driver.get(f"{server.base}/app/")
        page.shown("register-form")
        page.type("register-username", username)
        page.type("register-name", "Web Customer")
        page.type("register-pin", pin)
        page.click("register-submit")
        page.shown("view-enrol")
        check("web: registering opens the enrolment view", "Welcome" in (page.text("enrol-welcome") or ""),
              page.text("enrol-welcome"))

        page.click("add-passkey")
        page.until("the passkey enrolment to finish",
                   lambda: page.by_id("enrol-result").get_attribute("data-kind") in ("ok", "error"))
        check("web: a passkey is added with the virtual authenticator",
              page.by_id("enrol-result").get_attribute("data-kind") == "ok", page.text("enrol-result"))
        credentials = driver.get_credentials()
        check("web: the authenticator holds one credential for rp localhost",
              len(credentials) == 1 and credentials[0].rp_id == "localhost", str([c.to_dict() for c in credentials]))

        page.click("enrol-done")  # leaves the enrolment session: back to the login view
        page.shown("view-welcome")
        page.type("login-username", username)
        page.click("login-submit")
        page.approve_with_pin_and_passkey(pin)
        page.shown("view-home")
        page.until("the balance", lambda: balance_text(page))
        check("web: logged in with PIN + passkey", page.text("whoami") == username, page.text("whoami"))
        before = balance_text(page)
        check("web: the funded account shows 10000.00", before in ("10000.00", "10,000.00"), before)

        page.type("beneficiary-name", JAN[0])
        page.type("beneficiary-iban", JAN[1])
        page.click("beneficiary-submit")
        page.approve_with_pin_and_passkey(pin)
        item = page.wait_css("the new beneficiary in the list", "#beneficiaries li.beneficiary[data-beneficiary-id]")
        check("web: Jan Kowalski added after PIN + passkey",
              item.find_element(By.CSS_SELECTOR, ".beneficiary-name").text == JAN[0], item.text)
        beneficiary_id = item.get_attribute("data-beneficiary-id")

        page.until("the beneficiary in the transfer form", lambda: any(
            o.get_attribute("value") == beneficiary_id for o in page.css("#transfer-beneficiary option")))
        Select(page.by_id("transfer-beneficiary")).select_by_value(beneficiary_id)
        page.type("transfer-amount", "2200.00")
        page.type("transfer-reference", "rent")
        page.click("transfer-submit")
        page.until("the dialog", page.dialog_open)
        page.until("the challenge to show what is approved", lambda: page.text("sca-display-text") not in (None, "", "…"))
        shown_first = page.text("sca-display-text")
        seen = {}

        def before_passkey():
            seen["text"] = page.text("sca-display-text")
            seen["webauthn"] = bool(page.css('[data-testid="sca-method-webauthn"] #sca-webauthn'))

        page.approve_with_pin_and_passkey(pin, before_passkey)
        check("web: the challenge shows 'Pay 2,200.00 PLN to Jan Kowalski' before any factor and before the passkey",
              shown_first == PAY_TEXT and seen.get("text") == PAY_TEXT and seen.get("webauthn"),
              f"first {shown_first!r}, before the passkey {seen}")
        page.until("the transfer result", lambda: page.by_id("transfer-result").get_attribute("data-status"))
        status = page.by_id("transfer-result").get_attribute("data-status")
        check("web: the transfer executed", status == "executed" and page.text("transfer-status") == "executed",
              page.text("transfer-result"))
        check("web: the result says it was confirmed with SCA",
              "strong customer authentication" in (page.text("transfer-sca") or ""), page.text("transfer-sca"))
        after = balance_text(page)
        check("web: the balance dropped to 7800.00", after in ("7800.00", "7,800.00")
              and (page.text("transfer-new-balance") or "").startswith(after), f"{after}; {page.text('transfer-result')}")

        page.click("logout")
        page.shown("view-welcome")
        stored = driver.execute_script("return sessionStorage.getItem('demo-bank.session');")
        check("web: logging out shows the login view and forgets the session",
              stored is None and not page.by_id("session-bar").is_displayed(), f"stored {stored!r}")
    except Exception:
        page.evidence("bank-app")
        raise
    finally:
        driver.quit()
        drivers.remove(driver)


def partner_page(server):
    api = server.client()
    user = api.register(pin="4071")
    key = api.enrol_device_key(user)
    approve = [api.pin_step(user.pin), api.device_key_step(key)]
    totp = api.enrol_totp(user, solve=approve)
    session = api.login(user.username, approve)
    account = api.accounts(session)[0]
    jan = api.add_beneficiary(session, approve, *JAN)
    body = {"account_id": account["id"], "beneficiary_id": jan["id"], "amount": "2200.00", "currency": "PLN",
            "reference": "partner"}
    import json
    payload = json.dumps(body).encode()
    first = api.call("POST", "/v1/transfers", payload, session)
    token = first.header("x-2fa-approval")
    if first.status != 403 or not token:
        raise APIError("the transfer did not ask for SCA", first)

    driver = new_driver()  # no authenticator: nothing but a keyboard
    page = Page(driver)
    try:
        driver.get(f"{server.base}/app/partner.html?token={token}")
        page.until("the challenge to load", lambda: page.challenge_state() in ("created", "partly_passed"))
        check("partner: the page shows 'Pay 2,200.00 PLN to Jan Kowalski'", page.text("sca-display-text") == PAY_TEXT,
              page.text("sca-display-text"))
        offered = [e.get_attribute("data-type") for e in page.css("[data-testid^='sca-method-']")]
        check("partner: PIN and TOTP are offered", "pin" in offered and "totp" in offered, str(offered))

        page.keyboard_to("sca-pin")
        page.keys(user.pin, Keys.ENTER)
        page.wait_css("the PIN to be accepted", '[data-testid="sca-category-knowledge"][data-passed="true"]')
        page.keyboard_to("sca-totp")
        page.keys(totp.next_code(), Keys.ENTER)
        page.until(f"the approval (message: {page.message()!r})",
                   lambda: page.by_id("partner-result").get_attribute("data-outcome"))
        check("partner: PIN + TOTP typed on the keyboard approve the token",
              page.by_id("partner-result").get_attribute("data-outcome") == "approved"
              and page.text("sca-state") == "approved", f"{page.text('partner-result')}; state {page.text('sca-state')}")
        final = api.call("POST", "/v1/transfers", payload, session, {"x-2fa-approval": token})
        check("partner: the partner's repeated request executes (APPROVED)",
              final.status == 201 and final.header("x-2fa-approval-result") == "APPROVED", repr(final))
        balance = api.accounts(session)[0]["balance"]
        check("partner: the balance is 7800.00", balance == "7800.00", balance)
    except Exception:
        page.evidence("partner")
        raise
    finally:
        driver.quit()
        drivers.remove(driver)


def main():
    scenarios = [("the bank app with a passkey", bank_app), ("the partner page, keyboard only", partner_page)]
    return browser.run_suite("browser", __file__, REASON, BUDGET, scenarios, drivers)


if __name__ == "__main__":
    sys.exit(main())
