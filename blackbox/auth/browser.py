"""What the browser suites share: Debian's Chromium and its driver, a headless driver with
the browser console kept, and bounded waits and actions on a page."""
import os
import sys
import tempfile
import time
import traceback

import harness

CHROMIUM = os.environ.get("SCA_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SCA_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 20  # seconds for any one thing to appear on the page
SHOTS = os.environ.get("SCA_TEST_SCREENSHOTS", tempfile.gettempdir())


def missing():
    """Why the browser cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


def reason(modules, script):
    """Why a browser suite needing `modules` cannot run here, or None (see harness)."""
    return harness.ensure_dependencies(modules, script) or missing()


def run_suite(suite, script, why, budget, scenarios, drivers, prepare=lambda server: ((server,), None), env=None):
    """Runs a browser suite: skipped (or failed under CI) with `why`; otherwise one server
    and each of `scenarios` (name, function) whose name contains a word given on the
    command line (all without any), within `budget` seconds. `prepare(server)` gives the
    scenarios' arguments and an evidence function for a failed scenario (or None).
    Returns the exit status."""
    if why:
        return harness.skip_or_fail(suite, why)

    def kill_drivers():
        for driver in list(drivers):
            try:
                driver.service.process.kill()
            except Exception:
                pass

    watchdog = harness.start_watchdog(suite, budget, kill_drivers)
    workdir = tempfile.mkdtemp(prefix=f"sca-{suite}-")
    only = set(sys.argv[1:])
    failures = harness.failures
    try:
        server = harness.Server(workdir, "main", env=env).start()
        arguments, evidence = prepare(server)
        for number, (name, scenario) in enumerate(scenarios, 1):
            if only and not any(o.lower() in name.lower() for o in only):
                continue
            print(f"== {name}", flush=True)
            failed_before = len(failures)
            try:
                scenario(*arguments)
                if evidence and len(failures) > failed_before:
                    evidence(f"scenario-{number}")
            except Exception as error:
                text = str(error).split("Stacktrace:")[0].strip()
                here = os.path.basename(script)
                where = [line for line in traceback.format_exc().splitlines() if here in line][-2:]
                failures.append(f"{name}: {text}")
                print(f"  FAIL  {name}: {text}\n        " + "\n        ".join(w.strip() for w in where), flush=True)
                if evidence:
                    evidence(f"scenario-{number}")
    except Exception as error:
        failures.append(f"error: {error!r}")
        print(f"  FAIL  {error!r}", flush=True)
    finally:
        for driver in list(drivers):
            driver.quit()
        status = harness.finish(suite, workdir, watchdog)
    return status


try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # the suites report the missing dependency themselves
    webdriver = None


def new_driver(drivers):
    """A headless Chromium, remembered in `drivers` so that the suite can always quit it."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1800"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    drivers.append(driver)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


class BasePage:
    """Waits and actions on the page (or the frame switched to), each bounded by WAIT seconds.
    `shot_prefix` names the screenshots a failure leaves."""

    shot_prefix = "sca-browser"

    def __init__(self, driver):
        self.driver = driver

    def until(self, what, condition, timeout=WAIT):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(lambda d: condition())
        except TimeoutException:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None

    def by_id(self, element_id):
        return self.driver.find_element(By.ID, element_id)

    def shown(self, element_id):
        """The element, once it exists and is displayed."""
        def find():
            found = self.driver.find_elements(By.ID, element_id)
            return found[0] if found and found[0].is_displayed() else None
        return self.until(f"#{element_id} to be shown", find)

    def is_shown(self, element_id):
        found = self.driver.find_elements(By.ID, element_id)
        return bool(found) and found[0].is_displayed()

    def text(self, element_id):
        for _ in range(10):
            try:
                found = self.driver.find_elements(By.ID, element_id)
                return found[0].text.strip() if found else None
            except StaleElementReferenceException:
                time.sleep(0.05)
        return None

    def act(self, what, element_id, action):
        """Runs action(element) once #element_id is shown and enabled, again if the page
        re-rendered it in between."""
        def attempt():
            found = self.driver.find_elements(By.ID, element_id)
            if not found:
                return None
            try:
                if not (found[0].is_displayed() and found[0].is_enabled()):
                    return None
                action(found[0])
                return True
            except StaleElementReferenceException:
                return None
        self.until(f"#{element_id} to {what}", attempt)

    def type(self, element_id, value):
        def action(element):
            element.clear()
            element.send_keys(value)
        self.act("take typing", element_id, action)

    def click(self, element_id):
        self.act("be clicked", element_id, lambda element: element.click())

    def keyboard_to(self, element_id, limit=40):
        """Moves the focus with TAB until `element_id` has it (keyboard only)."""
        for _ in range(limit):
            active = self.driver.switch_to.active_element
            if active.get_attribute("id") == element_id:
                return active
            ActionChains(self.driver).send_keys(Keys.TAB).perform()
        raise AssertionError(f"#{element_id} could not be reached with TAB")

    def evidence(self, name):
        """A screenshot and the browser console, for a failure."""
        self.driver.switch_to.default_content()
        path = os.path.join(SHOTS, f"{self.shot_prefix}-{os.getpid()}-{name}.png")
        try:
            self.driver.save_screenshot(path)
            print(f"        screenshot: {path}")
            for entry in self.driver.get_log("browser")[-15:]:
                print(f"        console: {entry.get('level')} {entry.get('message')}"[:400])
        except Exception as error:  # evidence is best effort
            print(f"        (no evidence: {error!r})")
