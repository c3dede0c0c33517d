"""What the browser suites share: Debian's Chromium and its driver, a headless driver with
the browser console kept, and bounded waits and actions on a page."""
import os
import tempfile
import time

CHROMIUM = os.environ.get("SCA_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SCA_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 20  # seconds for any one thing to appear on the page
SHOTS = os.environ.get("SCA_BROWSER_SCREENSHOTS", tempfile.gettempdir())


def missing():
    """Why the browser cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


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
