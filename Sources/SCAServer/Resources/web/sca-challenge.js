/*
 * <sca-challenge token="…"> — walks a customer through the challenges of a one-time
 * token (docs/AUTH-API.md, "The one-time-token protocol").
 *
 * It shows what is being approved (the server's display_text) before asking for
 * anything, then offers per category (knowledge, possession, inherence) the primary
 * method and its alternatives, until `categories_required` categories have passed.
 * PIN and a TOTP code (hardware token) need neither a phone nor a passkey.
 *
 * Light DOM (no shadow root), so the ids below are global: one instance per page.
 * Style it with sca-challenge.css or with your own rules on the `sca-` classes.
 *
 * Attributes / properties
 *   token      the one-time token; setting another one starts over
 *   api-base   optional prefix for the API (default: same origin, "/v1/...")
 *   focus-first  move focus to the first field once the challenges are shown (not
 *              `autofocus`: a <dialog> treats that attribute itself)
 * Events (bubbles, composed)
 *   sca-approved  detail {token}
 *   sca-failed    detail {token, state}; state: expired | failed | consumed | unknown
 *
 * Ids (stable, for tests)
 *   #sca-display-text   what is being approved, e.g. "Pay 2,200.00 PLN to Jan Kowalski"
 *   #sca-state          the token's state as the server names it (created, partly_passed,
 *                       approved, consumed, expired, failed), or loading / unknown / error;
 *                       the host element carries the same value in data-state
 *   #sca-expiry         time left
 *   #sca-progress       "1 of 2 confirmations done"
 *   #sca-message        role=status, aria-live=polite: "Not accepted, try again." etc.
 *   #sca-retry          reload the status after a network error
 *   #sca-pin, #sca-pin-submit                 (form #sca-pin-form)
 *   #sca-totp, #sca-totp-submit               (form #sca-totp-form)
 *   #sca-sms-trigger, #sca-sms-sent-to, #sca-sms-code, #sca-sms-submit (form #sca-sms-form)
 *   #sca-push-trigger, #sca-push-number       (device key: approve in the phone app)
 *   #sca-webauthn                             (passkey)
 * data-testid
 *   sca-category-<category>  one group per category, with data-passed="true|false"
 *   sca-method-<type>        one block per offered method (pin, totp, sms, device_key, webauthn)
 */
(() => {
  'use strict';

  const OTT_PATH = '/v1/one-time-token';
  const PUSH_POLL_MS = 2000;
  const EXPIRY_RECHECK_MS = 3000;
  const OPEN_STATES = new Set(['created', 'partly_passed']);
  const FAILED_STATES = new Set(['expired', 'failed', 'consumed']);

  const CATEGORY_TITLES = {
    knowledge: 'Something you know',
    possession: 'Something you have',
    inherence: 'Something you are',
  };

  const ACTION_TEXT = {
    login: 'Log in',
    payment: 'Make a payment',
    transfer: 'Make a transfer',
    add_beneficiary: 'Add a beneficiary',
    trust_beneficiary: 'Trust a beneficiary',
    sensitive_action: 'Change your security settings',
    store_credential: 'Store a payment credential',
    ais_access: 'Show your account information',
    statement: 'Show your account statement',
    add_factor: 'Add a way to confirm it is you',
    revoke_factor: 'Remove a way to confirm it is you',
  };

  const FAILURE_TEXT = {
    expired: 'Time ran out. Nothing was approved; please start again.',
    failed: 'This confirmation failed. Nothing was approved; please start again.',
    consumed: 'This confirmation has already been used.',
    unknown: 'This confirmation was not found or has ended.',
  };

  const NETWORK_TEXT = 'Could not reach the bank. Check your connection, then try again.';

  // Thrown when an answer arrives for a token that is no longer shown.
  const STALE = Symbol('stale');

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    // append() turns strings into text nodes, so data is never parsed as HTML.
    node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
    return node;
  }

  function base64urlToBuffer(text) {
    const base64 = String(text).replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function bufferToBase64url(buffer) {
    let binary = '';
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // The API names WebAuthn members in snake_case (allow_credentials, rp_id, ...).
  function camelKeys(value) {
    if (Array.isArray(value)) return value.map(camelKeys);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [
      key.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase()),
      camelKeys(member),
    ]));
  }

  function requestOptions(apiOptions) {
    const options = camelKeys(apiOptions);
    options.challenge = base64urlToBuffer(options.challenge);
    if (Array.isArray(options.allowCredentials)) {
      options.allowCredentials = options.allowCredentials.map((credential) => (
        { ...credential, id: base64urlToBuffer(credential.id) }));
    }
    return options;
  }

  function passkeysSupported() {
    return typeof window.PublicKeyCredential === 'function' && Boolean(navigator.credentials);
  }

  function offeredTypes(challenge) {
    return [challenge.primary_challenge, ...(challenge.alternatives || [])]
      .filter((offer) => offer && typeof offer.type === 'string')
      .map((offer) => offer.type);
  }

  function formatRemaining(seconds) {
    const whole = Math.max(0, Math.ceil(seconds));
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
  }

  class SCAChallenge extends HTMLElement {
    static get observedAttributes() { return ['token']; }

    constructor() {
      super();
      this._generation = 0;
      this._activeToken = null;
      this._tickTimer = null;
      this._pollTimer = null;
      this._els = null;
      this._resetState();
    }

    get token() { return this.getAttribute('token') || ''; }

    set token(value) {
      if (value === null || value === undefined || value === '') this.removeAttribute('token');
      else this.setAttribute('token', String(value));
    }

    get apiBase() { return (this.getAttribute('api-base') || '').replace(/\/+$/, ''); }

    connectedCallback() {
      if (!this._els || this._activeToken !== this.token) this._start();
      else if (this._activeToken && !this._settled && !this._tickTimer) this._resume();
    }

    disconnectedCallback() { this._stopTimers(); }

    // Before the first connection connectedCallback does the start, so it runs once.
    attributeChangedCallback(name, oldValue, newValue) {
      if (oldValue !== newValue && this._els && this.isConnected && this._activeToken !== this.token) this._start();
    }

    // ---- lifecycle -------------------------------------------------------------

    _resetState() {
      this._status = null;
      this._signature = '';
      this._settled = false;
      this._busy = false;
      this._deadline = 0;
      this._lastExpiryCheck = 0;
      this._focusedOnce = false;
      this._ui = { sms: null, push: null };
    }

    _start() {
      this._generation += 1;
      this._stopTimers();
      this._resetState();
      this._activeToken = this.token;
      this._build();
      if (!this._activeToken) {
        this._setState('unknown');
        this._say('There is nothing to confirm.');
        return;
      }
      this._setState('loading');
      this._resume();
    }

    _resume() {
      this._stopTimers();
      this._tickTimer = setInterval(() => this._tick(), 1000);
      this._refresh();
    }

    _stopTimers() {
      clearInterval(this._tickTimer);
      clearTimeout(this._pollTimer);
      this._tickTimer = null;
      this._pollTimer = null;
    }

    _settle(outcome) {
      if (this._settled) return;
      this._settled = true;
      this._stopTimers();
      this._els.expiry.textContent = '';
      this._els.categories.replaceChildren();
      const token = this._activeToken;
      if (outcome === 'approved') {
        this._say('Confirmed. Thank you.');
        this._dispatch('sca-approved', { token });
      } else {
        if (outcome === 'unknown') this._setState('unknown');
        this._say(FAILURE_TEXT[outcome] || FAILURE_TEXT.failed, 'error');
        this._dispatch('sca-failed', { token, state: outcome });
      }
    }

    _dispatch(name, detail) {
      this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
    }

    // ---- talking to the server -------------------------------------------------

    async _call(method, path, body) {
      const generation = this._generation;
      const headers = { 'One-Time-Token': this._activeToken, Accept: 'application/json' };
      const init = { method, headers, cache: 'no-store' };
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = body;
      }
      const response = await fetch(`${this.apiBase}${OTT_PATH}${path}`, init);
      let data = null;
      try { data = await response.json(); } catch { data = null; }
      if (generation !== this._generation) throw STALE;
      return { status: response.status, data };
    }

    async _refresh() {
      let res;
      try {
        res = await this._call('GET', '/status');
      } catch (error) {
        if (error !== STALE) this._networkError();
        return;
      }
      if (res.status === 200 && res.data) this._apply(res.data);
      else if (res.status === 404) this._settle(this._deadline && Date.now() >= this._deadline ? 'expired' : 'unknown');
      else this._say(this._errorText(res), 'error');
    }

    _networkError() {
      if (!this._status) this._setState('error');
      this._say(NETWORK_TEXT, 'error');
      this._els.retry.hidden = false;
    }

    // Runs one customer action at a time; answers for an old token are dropped.
    async _exclusive(task) {
      if (this._busy || this._settled) return;
      const generation = this._generation;
      this._busy = true;
      this.setAttribute('aria-busy', 'true');
      try {
        await task(generation);
      } catch (error) {
        if (error !== STALE && generation === this._generation) this._say(NETWORK_TEXT, 'error');
      } finally {
        if (generation === this._generation) {
          this._busy = false;
          this.removeAttribute('aria-busy');
        }
      }
    }

    _errorText(res) {
      const code = res.data && res.data.error && res.data.error.code;
      if (res.status === 422) return 'Not accepted, try again.';
      if (res.status === 503) return 'The bank is busy, try again in a moment.';
      if (res.status === 429 && code === 'too_many_pending') {
        return 'Too many approval requests are waiting on your phone. Answer them or wait, then try again.';
      }
      if (res.status === 429) return 'Too many attempts for now. Wait a little, or choose another way.';
      if (res.status === 404) return FAILURE_TEXT.unknown;
      return 'Something went wrong, try again.';
    }

    // Sends one verification; a 200 answer is the new status document.
    async _sendVerification(path, body, input) {
      this._say('Checking…');
      const res = await this._call('POST', path, body);
      if (input) input.value = '';
      if (res.status === 200) {
        if (res.data && res.data.state) this._apply(res.data);
        else await this._refresh();
        if (!this._settled) this._say('Accepted. One more confirmation is needed: choose one below.');
        return;
      }
      this._say(this._errorText(res), 'error');
      if (input && input.isConnected) input.focus();
      await this._refresh(); // the token may have failed or expired meanwhile
    }

    // ---- status → screen -------------------------------------------------------

    _apply(status) {
      this._status = status;
      this._els.retry.hidden = true;
      this._updateDeadline(status);
      this._els.display.textContent = status.display_text || ACTION_TEXT[status.action_type] || 'This action';
      this._setState(status.state || 'unknown');
      this._els.progress.textContent = this._progressText(status);
      const signature = JSON.stringify([status.state, (status.challenges || []).map(
        (challenge) => [challenge.category, Boolean(challenge.passed), offeredTypes(challenge)])]);
      if (signature !== this._signature) {
        this._signature = signature;
        this._renderCategories();
      }
      if (status.state === 'approved') this._settle('approved');
      else if (FAILED_STATES.has(status.state)) this._settle(status.state);
      else this._schedulePoll();
    }

    _updateDeadline(status) {
      if (Number.isFinite(status.validity_seconds)) this._deadline = Date.now() + status.validity_seconds * 1000;
      else if (status.expires_at && !Number.isNaN(Date.parse(status.expires_at))) this._deadline = Date.parse(status.expires_at);
      this._tick();
    }

    _progressText(status) {
      const required = status.categories_required || 2;
      const passed = (status.challenges || []).filter((challenge) => challenge.passed).length;
      return `${Math.min(passed, required)} of ${required} confirmations done`;
    }

    _setState(state) {
      this._els.state.textContent = state;
      this.dataset.state = state;
    }

    _say(text, kind = 'info') {
      const message = this._els.message;
      message.textContent = text;
      message.dataset.kind = kind;
      message.classList.toggle('sca-message--error', kind === 'error');
    }

    _tick() {
      if (this._settled || !this._deadline) return;
      const remaining = (this._deadline - Date.now()) / 1000;
      this._els.expiry.textContent = `Time left ${formatRemaining(remaining)}`;
      if (remaining <= 0 && Date.now() - this._lastExpiryCheck >= EXPIRY_RECHECK_MS) {
        this._lastExpiryCheck = Date.now();
        this._refresh();
      }
    }

    // While a push waits on the phone, the page learns of the approval by polling.
    _schedulePoll() {
      clearTimeout(this._pollTimer);
      this._pollTimer = null;
      if (this._settled || !this._ui.push || !this._pushPending()) return;
      this._pollTimer = setTimeout(() => this._refresh(), PUSH_POLL_MS);
    }

    _pushPending() {
      const challenge = (this._status && this._status.challenges || [])
        .find((candidate) => offeredTypes(candidate).includes('device_key'));
      return Boolean(challenge && !challenge.passed);
    }

    // ---- rendering -------------------------------------------------------------

    _build() {
      const els = {
        display: el('p', { id: 'sca-display-text', class: 'sca-display-text', text: '…' }),
        state: el('span', { id: 'sca-state', class: 'sca-state' }),
        expiry: el('span', { id: 'sca-expiry', class: 'sca-expiry' }),
        progress: el('p', { id: 'sca-progress', class: 'sca-progress' }),
        message: el('p', { id: 'sca-message', class: 'sca-message', role: 'status', 'aria-live': 'polite' }),
        retry: el('button', {
          id: 'sca-retry', type: 'button', class: 'sca-button sca-button--secondary', hidden: true,
          text: 'Try again', onclick: () => this._refresh(),
        }),
        categories: el('div', { class: 'sca-categories' }),
      };
      this._els = els;
      this.classList.add('sca');
      this.replaceChildren(
        el('p', { class: 'sca-intro', text: 'Please check and confirm:' }),
        els.display,
        el('p', { class: 'sca-meta' }, 'Status: ', els.state, ' ', els.expiry),
        els.progress,
        els.message,
        els.retry,
        els.categories,
      );
    }

    // Rebuilds the method forms; typed values and focus survive the rebuild.
    _renderCategories() {
      const container = this._els.categories;
      const active = document.activeElement;
      const hadFocus = container.contains(active);
      const focusedId = hadFocus ? active.id : '';
      const values = new Map([...container.querySelectorAll('input[id]')].map((input) => [input.id, input.value]));

      const status = this._status;
      const shown = new Set();
      const groups = status && OPEN_STATES.has(status.state)
        ? (status.challenges || []).map((challenge) => this._renderCategory(challenge, shown)).filter(Boolean)
        : [];
      container.replaceChildren(...groups);

      for (const [id, value] of values) {
        const input = document.getElementById(id);
        if (input && container.contains(input)) input.value = value;
      }
      const wantsFocus = hadFocus || (!this._focusedOnce && this.hasAttribute('focus-first') && groups.length > 0);
      if (wantsFocus) {
        this._focusedOnce = true;
        const same = focusedId && document.getElementById(focusedId);
        this._focusFirst(same && container.contains(same) ? same : null);
      }
    }

    _focusFirst(preferred) {
      const target = preferred || this._els.categories.querySelector(
        '.sca-category[data-passed="false"] input, .sca-category[data-passed="false"] button:not([disabled])');
      if (target) target.focus();
    }

    _renderCategory(challenge, shown) {
      const category = String(challenge.category || '');
      const titleId = `sca-category-title-${category}`;
      const passed = Boolean(challenge.passed);
      // A type offered in two categories is shown once: element ids must stay unique.
      const types = passed ? [] : offeredTypes(challenge).filter((type) => this._methodBuilder(type) && !shown.has(type));
      if (!passed && types.length === 0) return null;
      types.forEach((type) => shown.add(type));

      const group = el('div', {
        class: 'sca-category', role: 'group', 'aria-labelledby': titleId,
        'data-testid': `sca-category-${category}`, 'data-category': category, 'data-passed': String(passed),
      }, el('p', { id: titleId, class: 'sca-category-title' },
        CATEGORY_TITLES[category] || category,
        challenge.required && !passed ? el('span', { class: 'sca-tag', text: 'needed' }) : null));

      if (passed) {
        group.append(el('p', { class: 'sca-passed', text: '✓ Confirmed' }));
        return group;
      }
      types.forEach((type, index) => {
        if (index === 1) group.append(el('p', { class: 'sca-or', text: 'or' }));
        group.append(el('div', { class: 'sca-method', 'data-testid': `sca-method-${type}`, 'data-type': type },
          ...this._methodBuilder(type)()));
      });
      return group;
    }

    _methodBuilder(type) {
      const builders = {
        pin: () => this._pinMethod(),
        totp: () => this._totpMethod(),
        sms: () => this._smsMethod(),
        device_key: () => this._deviceKeyMethod(),
        webauthn: () => this._webauthnMethod(),
      };
      return builders[type];
    }

    _codeForm({ formId, inputId, submitId, label, buttonText, path, field, inputType = 'text', autocomplete = 'off' }) {
      const input = el('input', {
        id: inputId, name: field, type: inputType, inputmode: 'numeric', autocomplete,
        required: true, spellcheck: 'false', class: 'sca-input',
      });
      const onsubmit = (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) {
          this._say(`${label}: please fill it in first.`, 'error');
          input.focus();
          return;
        }
        this._exclusive(() => this._sendVerification(path, JSON.stringify({ [field]: value }), input));
      };
      return el('form', { id: formId, class: 'sca-form', novalidate: true, onsubmit },
        el('label', { for: inputId, class: 'sca-label', text: label }),
        el('span', { class: 'sca-row' },
          input,
          el('button', { id: submitId, type: 'submit', class: 'sca-button', text: buttonText })));
    }

    _pinMethod() {
      return [this._codeForm({
        formId: 'sca-pin-form', inputId: 'sca-pin', submitId: 'sca-pin-submit',
        label: 'Your PIN', buttonText: 'Confirm PIN', path: '/pin/verify', field: 'pin', inputType: 'password',
      })];
    }

    _totpMethod() {
      return [this._codeForm({
        formId: 'sca-totp-form', inputId: 'sca-totp', submitId: 'sca-totp-submit',
        label: 'Code from your authenticator app or hardware token', buttonText: 'Confirm code',
        path: '/totp/verify', field: 'code', autocomplete: 'one-time-code',
      })];
    }

    _smsMethod() {
      const sms = this._ui.sms;
      const trigger = el('button', {
        id: 'sca-sms-trigger', type: 'button', class: sms ? 'sca-button sca-button--secondary' : 'sca-button',
        text: sms ? 'Send a new code' : 'Send me a code by text message', onclick: () => this._triggerSms(),
      });
      if (!sms) return [trigger];
      return [
        el('p', { id: 'sca-sms-sent-to', class: 'sca-hint', text: `Code sent to ${sms.sentTo}.` }),
        this._codeForm({
          formId: 'sca-sms-form', inputId: 'sca-sms-code', submitId: 'sca-sms-submit',
          label: 'Code from the text message', buttonText: 'Confirm code',
          path: '/sms/verify', field: 'code', autocomplete: 'one-time-code',
        }),
        trigger,
      ];
    }

    _deviceKeyMethod() {
      const push = this._ui.push;
      const parts = [el('p', {
        class: 'sca-hint',
        text: 'Approve in the bank app on your registered phone. It shows the same details as above.',
      })];
      if (push) {
        parts.push(el('p', { class: 'sca-push' },
          'On your phone, choose the number ',
          el('strong', { id: 'sca-push-number', class: 'sca-push-number', text: String(push.number) }),
          '. Waiting for your approval…'));
      }
      parts.push(el('button', {
        id: 'sca-push-trigger', type: 'button', class: push ? 'sca-button sca-button--secondary' : 'sca-button',
        text: push ? 'Send to my phone again' : 'Send to my phone', onclick: () => this._triggerPush(),
      }));
      return parts;
    }

    _webauthnMethod() {
      const supported = passkeysSupported();
      return [
        el('p', {
          class: 'sca-hint',
          text: supported
            ? 'Use the passkey on this device: your fingerprint, face or screen lock.'
            : 'This browser cannot use passkeys. Please choose another way.',
        }),
        el('button', {
          id: 'sca-webauthn', type: 'button', class: 'sca-button', disabled: !supported,
          text: 'Use my passkey', onclick: () => this._webauthn(),
        }),
      ];
    }

    // ---- actions ---------------------------------------------------------------

    _triggerSms() {
      return this._exclusive(async () => {
        this._say('Sending a code…');
        const res = await this._call('POST', '/sms/trigger');
        if (res.status !== 202 && res.status !== 200) {
          this._say(this._errorText(res), 'error');
          return;
        }
        this._ui.sms = { sentTo: (res.data && res.data.sent_to) || 'your phone' };
        this._renderCategories();
        this._say(`Code sent to ${this._ui.sms.sentTo}.`);
        const input = document.getElementById('sca-sms-code');
        if (input) input.focus();
      });
    }

    _triggerPush() {
      return this._exclusive(async () => {
        this._say('Sending to your phone…');
        const res = await this._call('POST', '/push/trigger');
        if (res.status !== 202 && res.status !== 200) {
          this._say(this._errorText(res), 'error');
          return;
        }
        this._ui.push = { number: res.data && res.data.number, approvalId: res.data && res.data.approval_id };
        this._renderCategories();
        this._say(`Sent. On your phone, choose the number ${this._ui.push.number}.`);
        this._schedulePoll();
      });
    }

    _webauthn() {
      return this._exclusive(async (generation) => {
        this._say('Preparing the passkey check…');
        const res = await this._call('POST', '/webauthn/options');
        if (res.status !== 200 || !res.data || !res.data.public_key) {
          this._say(this._errorText(res), 'error');
          return;
        }
        let credential = null;
        let failure = null;
        try {
          credential = await navigator.credentials.get({ publicKey: requestOptions(res.data.public_key) });
        } catch (error) {
          failure = error;
        }
        if (generation !== this._generation) return;
        if (!credential) {
          this._say(failure && failure.name !== 'NotAllowedError'
            ? 'This device could not use your passkey. Please choose another way.'
            : 'The passkey check was cancelled or timed out. Try again, or choose another way.', 'error');
          return;
        }
        const body = JSON.stringify({
          credential_id: bufferToBase64url(credential.rawId),
          client_data_json: bufferToBase64url(credential.response.clientDataJSON),
          authenticator_data: bufferToBase64url(credential.response.authenticatorData),
          signature: bufferToBase64url(credential.response.signature),
        });
        await this._sendVerification('/webauthn/verify', body);
      });
    }
  }

  if (!customElements.get('sca-challenge')) customElements.define('sca-challenge', SCAChallenge);

  // The pages that load this component (the bank app) reuse its WebAuthn and DOM helpers.
  window.SCAWebAuthn = Object.freeze({
    fromBase64url: base64urlToBuffer, toBase64url: bufferToBase64url, camelKeys, passkeysSupported,
  });
  window.SCAElements = Object.freeze({ el });
})();
