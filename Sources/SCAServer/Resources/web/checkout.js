/*
 * Demo Shop checkout (/app/checkout.html): a card payment with the simulated 3-D Secure 2,
 * through the shop's own server-side step (/demo-shop/…, which pays as the demo merchant:
 * no API key reaches the browser; docs/CLIENTS.md). A Pending payment opens
 * _links.redirect in #challenge-frame; the frame posts {type: "sca-3ds-complete",
 * payment_id} when done, and the page also polls GET /demo-shop/payments/{id} every 2 s.
 * Server data only ever goes through textContent.
 *
 * Ids (stable, for tests): the form fields named in checkout.html, #pay, #error (role=alert);
 * #challenge, #challenge-frame; #result[data-status] (role=status) with #result-status,
 * #result-code, #result-path, #result-exemption, #result-eci, #result-liability,
 * #result-sca, #result-id, #result-trace.
 */
(() => {
  'use strict';

  const POLL_MS = 2000;
  const MINOR_DIGITS = { EUR: 2, GBP: 2, PLN: 2 };
  const PATH_TEXT = {
    frictionless: 'frictionless', challenge: 'challenge', exemption: 'exemption granted',
    out_of_scope: 'out of scope', '3ds1_fallback': '3DS1 fallback', no_3ds: 'no 3DS', declined: 'declined',
  };
  const NEXT_TEXT = { complete_challenge: 'complete the challenge', customer_must_authenticate: 'the customer must authenticate' };

  const $ = (id) => document.getElementById(id);

  let cards = [];
  let pending = null; // {id, timer} while a payment waits for its challenge

  async function request(method, path, body, headers = {}) {
    const init = { method, headers: { Accept: 'application/json', ...headers }, cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const data = await response.json().catch(() => null);
    return { status: response.status, ok: response.ok, data };
  }

  function failureText(response) {
    const error = response.data && response.data.error;
    return (error && error.message) || `The payment service answered with status ${response.status}.`;
  }

  function showError(text) {
    $('error').textContent = text;
  }

  // Only links to this server are followed or framed.
  function sameOriginHref(href) {
    if (typeof href !== 'string') return null;
    try {
      const url = new URL(href, window.location.origin);
      return url.origin === window.location.origin ? url.pathname + url.search : null;
    } catch {
      return null;
    }
  }

  function randomKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  }

  // "25", "25.5", "25.50" or "25,50" in major units -> integer minor units, or null.
  function minorUnits(text, currency) {
    const digits = MINOR_DIGITS[currency];
    const match = /^(\d+)(?:[.,](\d*))?$/.exec(text.replace(/\s+/g, ''));
    if (!match || (match[2] || '').length > digits) return null;
    const minor = Number(match[1] + (match[2] || '').padEnd(digits, '0'));
    return Number.isSafeInteger(minor) && minor > 0 ? minor : null;
  }

  // ---- the sandbox cards ------------------------------------------------------------

  function describeCard() {
    const number = $('card-number').value.replace(/\s+/g, '');
    const card = cards.find((candidate) => candidate.number === number);
    if (card) $('card').value = card.number;
    $('card-behaviour').textContent = card
      ? `${card.scheme}, ${card.issuer} (${card.issuer_country}): ${card.behaviour}`
      : 'This number is not one of the sandbox cards.';
  }

  async function loadCards() {
    const response = await request('GET', '/demo-shop/sandbox-cards');
    if (!response.ok || !response.data || !Array.isArray(response.data.cards)) {
      showError(`Could not load the sandbox cards. ${failureText(response)}`);
      return;
    }
    cards = response.data.cards;
    $('card').replaceChildren(...cards.map((card) => {
      const option = document.createElement('option');
      option.value = card.number;
      option.textContent = `${card.label} (${card.number})`;
      return option;
    }));
    if (cards.length) {
      $('card-number').value = cards[0].number;
      describeCard();
    }
  }

  // ---- paying -----------------------------------------------------------------------

  // The request body, or {problem: [field id, message]} for what the page refuses itself.
  function paymentBody() {
    const currency = $('currency').value;
    const amount = minorUnits($('amount').value, currency);
    const month = Number($('expiry-month').value);
    const year = Number($('expiry-year').value);
    const number = $('card-number').value.replace(/\s+/g, '');
    const cvv = $('cvv').value.trim();
    const problem = [
      ['card-number', /^\d{12,19}$/.test(number), 'Enter a card number of 12 to 19 digits.'],
      ['expiry-month', Number.isInteger(month) && month >= 1 && month <= 12, 'Enter the expiry month, 1 to 12.'],
      ['expiry-year', Number.isInteger(year) && year >= 2000 && year <= 2099, 'Enter the expiry year, such as 2030.'],
      ['cvv', /^\d{3,4}$/.test(cvv), 'Enter the 3 or 4 digit CVV.'],
      ['amount', amount !== null, `Enter an amount such as 25.00, with at most ${MINOR_DIGITS[currency]} decimals.`],
    ].find(([, ok]) => !ok);
    if (problem) return { problem };
    const threeDS = { enabled: $('three-ds-enabled').checked, challenge_indicator: $('challenge-indicator').value };
    if ($('exemption').value) threeDS.exemption = $('exemption').value;
    return {
      body: {
        source: { type: 'card', number, expiry_month: month, expiry_year: year, cvv },
        amount,
        currency,
        reference: 'checkout-demo',
        payment_type: $('payment-type').value,
        store_for_future_use: $('store-card').checked,
        '3ds': threeDS,
      },
    };
  }

  async function pay() {
    showError('');
    stopWaiting();
    const { body, problem } = paymentBody();
    if (problem) {
      showError(problem[2]);
      $(problem[0]).focus();
      return;
    }
    const response = await request('POST', '/demo-shop/payments', body, { 'Idempotency-Key': randomKey() });
    if (!response.ok || !response.data) {
      showError(failureText(response));
      return;
    }
    showResult(response.data);
    if (response.data.status === 'Pending') startChallenge(response.data);
  }

  // ---- the challenge frame ----------------------------------------------------------

  function startChallenge(payment) {
    const links = payment._links || {};
    const src = sameOriginHref(links.redirect && links.redirect.href);
    if (!src) {
      showError('The bank asked for a verification, but gave no page for it.');
      return;
    }
    pending = { id: payment.id, timer: window.setInterval(() => refresh(payment.id), POLL_MS) };
    $('challenge-frame').src = src;
    $('challenge').hidden = false;
    $('challenge-frame').focus();
  }

  function stopWaiting() {
    if (!pending) return;
    window.clearInterval(pending.timer);
    pending = null;
    $('challenge').hidden = true;
    $('challenge-frame').removeAttribute('src');
  }

  async function refresh(id) {
    try {
      const response = await request('GET', `/demo-shop/payments/${encodeURIComponent(id)}`);
      if (!pending || pending.id !== id) return; // a newer payment took over
      if (!response.ok || !response.data) {
        showError(failureText(response));
        return;
      }
      if (response.data.status === 'Pending') return;
      stopWaiting();
      showResult(response.data);
      $('result-title').focus();
    } catch {
      showError('Could not reach the payment service. Check your connection.');
    }
  }

  window.addEventListener('message', (event) => {
    if (event.origin !== window.location.origin) return;
    const data = event.data;
    if (!data || data.type !== 'sca-3ds-complete' || !pending || data.payment_id !== pending.id) return;
    $('challenge').hidden = true;
    refresh(pending.id);
  });

  // ---- the result -------------------------------------------------------------------

  function pathText(payment, threeDS) {
    if (payment.path === 'soft_decline_retry') {
      const reason = threeDS.upgrade_reason ? ` (${threeDS.upgrade_reason})` : '';
      return `soft decline 20154, then retried with 3DS${reason}`;
    }
    return PATH_TEXT[payment.path] || payment.path || '—';
  }

  function exemptionText(threeDS) {
    if (!threeDS.exemption_requested) return 'none requested';
    const applied = threeDS.exemption_applied
      ? `applied ${threeDS.exemption_applied}${threeDS.exemption_stage ? ` at ${threeDS.exemption_stage}` : ''}`
      : `not applied${threeDS.exemption_fallback ? ` (${threeDS.exemption_fallback})` : ''}`;
    return `requested ${threeDS.exemption_requested}, ${applied}`;
  }

  /** The acquirer's rules-engine decision, and what the issuer did with it: an exemption
   *  the acquirer's engine allows may still end in the issuer's challenge. */
  function scaText(payment, threeDS) {
    const sca = payment.sca;
    if (!sca) return '—';
    const head = [sca.regime, sca.outcome].filter(Boolean).join(': ');
    const reason = [sca.reason, sca.citation && `(${sca.citation})`].filter(Boolean).join(' ');
    const decision = `acquirer's engine: ${[head, reason].filter(Boolean).join(' — ') || '—'}`;
    if (sca.outcome === 'exempt' && (threeDS.challenged || payment.path === 'challenge')) {
      return `${decision}; the issuer asked for a challenge instead`;
    }
    return decision;
  }

  function showResult(payment) {
    const threeDS = payment['3ds'] || {};
    const links = payment._links || {};
    $('result').dataset.status = payment.status || '';
    $('result-empty').hidden = true;
    $('result-details').hidden = false;
    $('result-status').textContent = payment.status || '—';
    const code = [payment.response_code, payment.response_summary].filter(Boolean).join(' ');
    const next = payment.next_action && `next: ${NEXT_TEXT[payment.next_action] || payment.next_action}`;
    $('result-code').textContent = [code, next].filter(Boolean).join('; ') || '—';
    $('result-path').textContent = pathText(payment, threeDS);
    $('result-exemption').textContent = payment['3ds'] ? exemptionText(threeDS) : 'no 3DS run';
    $('result-eci').textContent = threeDS.eci || '—';
    $('result-liability').textContent = payment.liability === 'issuer'
      ? `issuer${payment.liability_shift ? ' (liability shift)' : ''}`
      : (payment.liability || '—');
    $('result-sca').textContent = scaText(payment, threeDS);
    $('result-id').textContent = payment.id || '';
    // The shop's own copy of the trace: the API's (links.trace) needs the merchant's key.
    const trace = links.trace && payment.id ? `/demo-shop/payments/${encodeURIComponent(payment.id)}/trace` : null;
    $('result-trace').hidden = !trace;
    if (trace) $('result-trace').href = trace;
  }

  // ---- start ------------------------------------------------------------------------

  $('card').addEventListener('change', () => {
    $('card-number').value = $('card').value;
    describeCard();
  });
  $('card-number').addEventListener('input', describeCard);
  $('checkout-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = $('checkout-form');
    if (form.getAttribute('aria-busy') === 'true') return;
    form.setAttribute('aria-busy', 'true');
    try {
      await pay();
    } catch {
      showError('Could not reach the payment service. Check your connection and try again.');
    } finally {
      form.removeAttribute('aria-busy');
    }
  });

  loadCards().catch(() => showError('Could not reach the payment service to load the sandbox cards.'));
})();
