// The simulated issuer's challenge page (served at /v1/3ds/challenges/{id}): sends the
// cardholder's answers (CReq) and, when the challenge ends, tells the checkout that framed it.
(function () {
  "use strict";
  const id = document.body.dataset.acsTransId;
  const form = document.getElementById("challenge-form");
  const message = document.getElementById("message");

  async function send(body) {
    const response = await fetch("/v1/3ds/challenges/" + encodeURIComponent(id), {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) {
      message.textContent = (answer.error && answer.error.message) || "The challenge could not be sent.";
      return;
    }
    if (answer.status === "retry") {
      message.textContent = answer.message;
      document.getElementById("password").value = "";
      document.getElementById("otp").value = "";
      document.getElementById("password").focus();
      return;
    }
    form.hidden = true;
    message.textContent = answer.trans_status === "Y" ? "Verified. Returning to the shop…" : "Not verified. Returning to the shop…";
    const done = { type: "sca-3ds-complete", payment_id: answer.payment_id, trans_status: answer.trans_status };
    if (window.parent !== window) window.parent.postMessage(done, location.origin);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const trust = document.getElementById("trust-merchant");
    send({
      password: document.getElementById("password").value,
      code: document.getElementById("otp").value.trim(),
      trust_merchant: Boolean(trust && trust.checked),
    }).catch(function () { message.textContent = "The network failed; try again."; });
  });
  document.getElementById("cancel").addEventListener("click", function () {
    send({ cancel: true }).catch(function () { message.textContent = "The network failed; try again."; });
  });
  document.getElementById("password").focus();
})();
