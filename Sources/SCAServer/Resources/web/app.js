/*
 * Demo bank front end, served at /app/ (docs/AUTH-API.md). Plain DOM, no framework.
 * Protected calls go through protectedFetch(): a 403 carrying a one-time token opens
 * <sca-challenge> in #sca-dialog, and once approved the very same request (same method,
 * path and body string) is sent again with x-2fa-approval.
 *
 * Ids (stable, for tests)
 *   Views        #view-welcome, #view-enrol, #view-home; #app-message (aria-live)
 *   Register     #register-form, #register-username, #register-name, #register-pin,
 *                #register-submit, #register-result
 *   Enrolment    #enrol (shown after registering, and in Security):
 *                #passkey-form, #passkey-label, #add-passkey, #passkey-unsupported,
 *                #totp-form, #totp-label, #add-totp, #totp-enrolled, #totp-secret, #totp-uri,
 *                #sms-form, #sms-phone, #sms-channel, #add-sms, #enrol-result;
 *                #enrol-welcome, #enrol-done (after registering: go to log in)
 *   Log in       #login-form, #login-username, #login-submit, #login-message
 *   Session      #session-bar, #whoami, #logout
 *   Accounts     #accounts > li.account[data-account-id]
 *                  .account-name, .balance[data-account-id] (the balance, with thousands separators),
 *                  .currency, button.statement-button[data-account-id];
 *                #accounts-message
 *   Statement    #statement, #statement-title, #statement-entries >
 *                tr.statement-entry[data-transfer-id], #statement-empty
 *   Beneficiaries #beneficiaries > li.beneficiary[data-beneficiary-id]
 *                  .beneficiary-name, .beneficiary-iban, .trusted-badge or
 *                  button.trust-button[data-beneficiary-id]; #beneficiaries-message;
 *                #beneficiary-form, #beneficiary-name, #beneficiary-iban,
 *                #beneficiary-submit, #beneficiary-result
 *   Transfer     #transfer-form, #transfer-account, #transfer-beneficiary, #transfer-amount,
 *                #transfer-currency, #transfer-reference, #transfer-submit,
 *                #transfer-result[data-status] containing #transfer-status (e.g. "executed"),
 *                #transfer-sca, #transfer-new-balance
 *   Security     #factors > li.factor[data-factor-id][data-kind][data-status]
 *                  button.revoke-button[data-factor-id]; #factors-message
 *   Dialog       #sca-dialog, #sca-dialog-title, #sca-cancel, and inside it the
 *                <sca-challenge> ids listed in sca-challenge.js
 * Elements that are working carry aria-busy="true" (forms and buttons).
 * window.DemoBank.protectedFetch(method, path, bodyString, {bearer, title}) is exposed.
 */
(() => {
  'use strict';

  const SESSION_KEY = 'demo-bank.session';
  // A repeated call may answer approval_invalid with a fresh token; do not loop forever.
  const MAX_CHALLENGES_PER_CALL = 3;

  const ERROR_TEXT = {
    username_taken: 'That username is taken. Please choose another one.',
    insufficient_funds: 'There is not enough money on that account.',
    unauthenticated: 'Your session has ended. Please log in again.',
    approval_invalid: 'The confirmation was not accepted. Please try again.',
    sca_required: 'This needs your confirmation. Please try again.',
    rate_limited: 'Too many requests. Wait a little, then try again.',
    busy: 'The bank is busy. Try again in a moment.',
  };

  const KIND_TEXT = {
    pin: 'PIN',
    totp: 'Authenticator code',
    sms: 'Text message codes',
    device_key: 'Phone app',
    webauthn: 'Passkey',
  };

  const $ = (id) => document.getElementById(id);

  class SessionEndedError extends Error {}
  class ChallengeCancelledError extends Error {}
  class ChallengeFailedError extends Error {
    constructor(state) {
      super(`confirmation ${state}`);
      this.state = state;
    }
  }

  let accounts = [];
  let beneficiaries = [];
  let enrolContext = null; // {userId, bearer, title, onEnrolled}

  // ---- small DOM helpers ---------------------------------------------------------

  // el(tag, props, ...children) from the component: text only, never parsed as HTML.
  const h = window.SCAElements.el;

  function hiddenText(text) {
    return h('span', { class: 'visually-hidden', text });
  }

  function say(output, text, kind = 'info') {
    output.textContent = text;
    output.dataset.kind = kind;
  }

  function showView(name) {
    for (const view of ['welcome', 'enrol', 'home']) $(`view-${view}`).hidden = view !== name;
  }

  // Runs one task per element at a time (no double submissions).
  async function busy(element, task) {
    if (element.getAttribute('aria-busy') === 'true') return;
    element.setAttribute('aria-busy', 'true');
    try {
      await task();
    } finally {
      element.removeAttribute('aria-busy');
    }
  }

  // Runs a task and turns whatever it throws into a message in `output`.
  async function guarded(output, task) {
    try {
      await task();
    } catch (error) {
      if (error instanceof SessionEndedError) return; // the login view already says so
      say(output, problemText(error), 'error');
    }
  }

  function onSubmit(form, output, task) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      busy(form, () => guarded(output, task));
    });
  }

  function onClick(button, output, task) {
    return () => busy(button, () => guarded(output, task));
  }

  // ---- base64url and WebAuthn ------------------------------------------------------

  // From sca-challenge.js, which index.html loads first.
  const { fromBase64url, toBase64url, camelKeys, passkeysSupported } = window.SCAWebAuthn;

  function creationOptions(apiOptions) {
    const options = camelKeys(apiOptions);
    options.challenge = fromBase64url(options.challenge);
    options.user = {
      ...options.user,
      id: fromBase64url(options.user.id),
      displayName: options.user.displayName || options.user.name,
    };
    if (Array.isArray(options.excludeCredentials)) {
      options.excludeCredentials = options.excludeCredentials.map((credential) => (
        { ...credential, id: fromBase64url(credential.id) }));
    }
    return options;
  }

  function passkeyErrorText(error) {
    if (error && error.name === 'InvalidStateError') return 'This device already holds a passkey for your account.';
    if (error && error.name === 'NotAllowedError') return 'Passkey creation was cancelled or timed out.';
    return 'This device could not create a passkey.';
  }

  // ---- HTTP ------------------------------------------------------------------------

  const session = {
    get() {
      try { return JSON.parse(sessionStorage.getItem(SESSION_KEY)); } catch { return null; }
    },
    set(value) { sessionStorage.setItem(SESSION_KEY, JSON.stringify(value)); },
    clear() { sessionStorage.removeItem(SESSION_KEY); },
  };

  function currentBearer() {
    const current = session.get();
    return current ? current.token : null;
  }

  function parseJSON(text) {
    if (!text) return null;
    try { return JSON.parse(text); } catch { return null; }
  }

  async function request(method, path, bodyString, headers = {}) {
    const init = { method, headers: { Accept: 'application/json', ...headers }, cache: 'no-store' };
    if (bodyString !== undefined && bodyString !== null) {
      init.headers['Content-Type'] = 'application/json';
      init.body = bodyString;
    }
    const response = await fetch(path, init);
    const text = await response.text();
    return { status: response.status, ok: response.ok, headers: response.headers, data: parseJSON(text) };
  }

  function approvalToken(response) {
    if (response.status !== 403) return null;
    return (response.data && response.data.one_time_token) || response.headers.get('x-2fa-approval') || null;
  }

  /*
   * Sends a request; when the bank asks for SCA (403 with a one-time token) it shows the
   * challenge and repeats the identical request with x-2fa-approval. `bodyString` is sent
   * byte for byte both times. `bearer` defaults to the logged-in session; pass null for
   * none (login) or the enrolment session. Resolves with {status, ok, data, headers,
   * confirmed}; throws SessionEndedError (after showing the login view) on a 401 of the
   * logged-in session, ChallengeCancelledError / ChallengeFailedError, or a network error.
   */
  async function protectedFetch(method, path, bodyString, { bearer = currentBearer(), title = 'Confirm it is you' } = {}) {
    const headers = bearer ? { Authorization: `Bearer ${bearer}` } : {};
    let response = await request(method, path, bodyString, headers);
    let challenged = false;
    for (let round = 0; round < MAX_CHALLENGES_PER_CALL && approvalToken(response); round += 1) {
      const token = approvalToken(response);
      await runChallenge(token, title);
      challenged = true;
      response = await request(method, path, bodyString, { ...headers, 'x-2fa-approval': token });
    }
    if (response.status === 401 && bearer && bearer === currentBearer()) {
      endSession('Your session has ended. Please log in again.');
      throw new SessionEndedError();
    }
    response.confirmed = challenged && response.ok;
    return response;
  }

  function failureText(response) {
    const error = response.data && response.data.error;
    const code = error && error.code;
    return ERROR_TEXT[code] || (error && error.message) || `The bank answered with status ${response.status}.`;
  }

  function problemText(error) {
    if (error instanceof ChallengeCancelledError) return 'Cancelled. Nothing was done.';
    if (error instanceof ChallengeFailedError) {
      return error.state === 'expired'
        ? 'Time ran out before it was confirmed. Nothing was done; please try again.'
        : 'It was not confirmed. Nothing was done; please try again.';
    }
    return 'Could not reach the bank. Check your connection and try again.';
  }

  // ---- the confirmation dialog -----------------------------------------------------

  let challengeQueue = Promise.resolve();

  // One challenge at a time: the component's ids are unique on the page.
  function runChallenge(token, title) {
    const run = () => showChallenge(token, title);
    const result = challengeQueue.then(run, run);
    challengeQueue = result.catch(() => {});
    return result;
  }

  function showChallenge(token, title) {
    return new Promise((resolve, reject) => {
      const dialog = $('sca-dialog');
      const component = document.createElement('sca-challenge');
      const listeners = new AbortController();
      let settled = false;

      const finish = (outcome) => {
        if (settled) return;
        settled = true;
        listeners.abort();
        if (dialog.open) dialog.close();
        component.remove();
        outcome();
      };

      component.setAttribute('focus-first', '');
      component.token = token;
      component.addEventListener('sca-approved', () => finish(resolve), { signal: listeners.signal });
      component.addEventListener('sca-failed', (event) => finish(
        () => reject(new ChallengeFailedError(event.detail && event.detail.state))), { signal: listeners.signal });
      // Escape closes a modal dialog too; both ways count as cancelling.
      dialog.addEventListener('close', () => finish(() => reject(new ChallengeCancelledError())), { signal: listeners.signal });
      $('sca-cancel').addEventListener('click', () => dialog.close(), { signal: listeners.signal });

      $('sca-dialog-title').textContent = title;
      $('sca-dialog-body').replaceChildren(component);
      dialog.showModal();
    });
  }

  // ---- registration and factor enrolment --------------------------------------------

  async function register() {
    const output = $('register-result');
    const username = $('register-username').value.trim();
    const body = JSON.stringify({ username, name: $('register-name').value.trim(), pin: $('register-pin').value });
    say(output, 'Opening your account…');
    const response = await request('POST', '/v1/users', body);
    if (response.status !== 201 || !response.data) {
      say(output, failureText(response), 'error');
      return;
    }
    $('register-form').reset();
    say(output, '');
    const user = response.data;
    $('enrol-welcome').textContent = `Welcome, ${user.username || username}.`;
    $('login-username').value = user.username || username;
    mountEnrolPanel($('enrol-host-registration'), {
      userId: user.user_id,
      bearer: user.session, // the enrolment session: it may only enrol factors
      title: 'Confirm adding a factor',
      onEnrolled: () => {},
    });
    showView('enrol');
    $('enrol-view-title').focus();
  }

  function mountEnrolPanel(host, context) {
    enrolContext = context;
    const panel = $('enrol');
    host.append(panel);
    panel.hidden = false;
    say($('enrol-result'), '');
    $('totp-enrolled').hidden = true;
    $('totp-secret').textContent = '';
    $('totp-uri').textContent = '';
    $('passkey-unsupported').hidden = passkeysSupported();
    $('add-passkey').disabled = !passkeysSupported();
  }

  function factorsPath(userId) {
    return `/v1/users/${encodeURIComponent(userId)}/factors`;
  }

  // Enrols a factor (protected once the user has two); returns the Factor or null.
  async function enrolFactor(body) {
    const { userId, bearer, title } = enrolContext;
    const response = await protectedFetch('POST', factorsPath(userId), body, { bearer, title });
    if (response.status !== 201 || !response.data) {
      say($('enrol-result'), failureText(response), 'error');
      return null;
    }
    enrolContext.onEnrolled(response.data);
    return response.data;
  }

  async function addPasskey() {
    const output = $('enrol-result');
    const { userId, bearer } = enrolContext;
    const label = $('passkey-label').value.trim() || 'Passkey';
    say(output, 'Preparing the passkey…');
    const options = await protectedFetch('POST', `/v1/users/${encodeURIComponent(userId)}/webauthn/registration-options`,
      undefined, { bearer, title: 'Confirm adding a passkey' });
    if (options.status !== 200 || !options.data || !options.data.public_key) {
      say(output, failureText(options), 'error');
      return;
    }
    let credential;
    try {
      credential = await navigator.credentials.create({ publicKey: creationOptions(options.data.public_key) });
    } catch (error) {
      say(output, passkeyErrorText(error), 'error');
      return;
    }
    if (!credential) {
      say(output, passkeyErrorText(null), 'error');
      return;
    }
    const body = JSON.stringify({
      kind: 'webauthn',
      label,
      client_data_json: toBase64url(credential.response.clientDataJSON),
      attestation_object: toBase64url(credential.response.attestationObject),
    });
    if (await enrolFactor(body)) say(output, `Passkey "${label}" added.`, 'ok');
  }

  async function addTotp() {
    const output = $('enrol-result');
    const label = $('totp-label').value.trim() || 'Authenticator';
    const factor = await enrolFactor(JSON.stringify({ kind: 'totp', label }));
    if (!factor) return;
    $('totp-secret').textContent = factor.secret || '';
    $('totp-uri').textContent = factor.provisioning_uri || '';
    $('totp-enrolled').hidden = false;
    say(output, `Authenticator "${label}" added. Copy the secret now.`, 'ok');
  }

  async function addSms() {
    const output = $('enrol-result');
    const phone = $('sms-phone').value.replace(/[\s-]/g, '');
    const factor = await enrolFactor(JSON.stringify({ kind: 'sms', phone, channel: $('sms-channel').value }));
    if (!factor) return;
    $('sms-phone').value = '';
    say(output, `Phone ${factor.phone_hint || phone} added.`, 'ok');
  }

  // ---- sessions --------------------------------------------------------------------

  async function logIn() {
    const output = $('login-message');
    const username = $('login-username').value.trim();
    session.clear();
    say(output, 'Logging in…');
    const response = await protectedFetch('POST', '/v1/sessions', JSON.stringify({ username }),
      { bearer: null, title: 'Confirm it is you' });
    if (response.status !== 201 || !response.data || !response.data.session) {
      say(output, failureText(response), 'error');
      return;
    }
    session.set({
      token: response.data.session,
      userId: response.data.user_id,
      username,
      idleTimeoutSeconds: response.data.idle_timeout_seconds,
    });
    $('login-form').reset();
    say(output, '');
    await enterHome();
  }

  async function logOut() {
    const bearer = currentBearer();
    try {
      if (bearer) await request('DELETE', '/v1/sessions/current', undefined, { Authorization: `Bearer ${bearer}` });
    } catch {
      // Leaving anyway: the session also ends by itself when idle.
    }
    endSession('You are logged out.');
  }

  function endSession(message) {
    session.clear();
    clearHome();
    $('session-bar').hidden = true;
    showView('welcome');
    say($('login-message'), message);
    $('login-username').focus();
  }

  // ---- home ------------------------------------------------------------------------

  async function enterHome() {
    const current = session.get();
    clearHome();
    $('whoami').textContent = current.username;
    $('session-bar').hidden = false;
    mountEnrolPanel($('enrol-host-security'), {
      userId: current.userId,
      bearer: undefined, // the logged-in session
      title: 'Confirm the change to your security',
      onEnrolled: () => guarded($('factors-message'), loadFactors),
    });
    showView('home');
    $('home-title').focus();
    await Promise.all([
      guarded($('accounts-message'), loadAccounts),
      guarded($('beneficiaries-message'), loadBeneficiaries),
      guarded($('factors-message'), loadFactors),
    ]);
  }

  function clearHome() {
    accounts = [];
    beneficiaries = [];
    for (const id of ['accounts', 'beneficiaries', 'factors', 'statement-entries', 'transfer-account',
      'transfer-beneficiary', 'transfer-result']) {
      $(id).replaceChildren();
    }
    for (const id of ['accounts-message', 'beneficiaries-message', 'factors-message', 'beneficiary-result',
      'enrol-result', 'app-message']) {
      say($(id), '');
    }
    $('transfer-result').removeAttribute('data-status');
    $('transfer-currency').textContent = '';
    $('statement').hidden = true;
    $('enrol').hidden = true;
  }

  async function loadAccounts() {
    const response = await protectedFetch('GET', '/v1/accounts');
    if (!response.ok || !response.data) {
      say($('accounts-message'), failureText(response), 'error');
      return;
    }
    accounts = response.data.accounts || [];
    renderAccounts();
    renderAccountOptions();
  }

  /** "10000.00" as "10,000.00": the API's decimal string with thousands separators. */
  function grouped(amount) {
    const text = String(amount);
    const [whole, fraction] = text.split('.');
    const sign = whole.startsWith('-') ? '-' : '';
    const digits = sign ? whole.slice(1) : whole;
    if (!/^[0-9]+$/.test(digits)) return text;
    const withCommas = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return sign + withCommas + (fraction === undefined ? '' : '.' + fraction);
  }

  function renderAccounts() {
    const list = $('accounts');
    list.replaceChildren(...accounts.map(accountItem));
    if (accounts.length === 0) list.append(h('li', { class: 'empty', text: 'No accounts yet.' }));
  }

  function accountItem(account) {
    const button = h('button', {
      type: 'button', class: 'statement-button secondary', 'data-account-id': account.id,
    }, 'Statement', hiddenText(` of ${account.name}`));
    button.addEventListener('click', onClick(button, $('accounts-message'), () => showStatement(account)));
    return h('li', { class: 'account', 'data-account-id': account.id },
      h('span', { class: 'account-name', text: account.name }),
      h('span', { class: 'amount' },
        h('span', { class: 'balance', 'data-account-id': account.id, text: grouped(account.balance) }),
        ' ',
        h('span', { class: 'currency', text: account.currency })),
      button);
  }

  function renderAccountOptions() {
    fillSelect($('transfer-account'), accounts.map((account) => ({
      value: account.id, text: `${account.name} (${grouped(account.balance)} ${account.currency})`,
    })));
    updateTransferCurrency();
  }

  // Replaces a select's options and keeps the chosen one when it is still there.
  function fillSelect(select, options, placeholder) {
    const previous = select.value;
    const nodes = options.map((option) => h('option', { value: option.value, text: option.text }));
    if (placeholder) nodes.unshift(h('option', { value: '', text: placeholder }));
    select.replaceChildren(...nodes);
    if (options.some((option) => option.value === previous)) select.value = previous;
  }

  function selectedAccount() {
    return accounts.find((account) => account.id === $('transfer-account').value) || null;
  }

  function updateTransferCurrency() {
    const account = selectedAccount();
    $('transfer-currency').textContent = account ? account.currency : '';
  }

  async function showStatement(account) {
    const output = $('accounts-message');
    say(output, '');
    const response = await protectedFetch('GET', `/v1/accounts/${encodeURIComponent(account.id)}/statement`,
      undefined, { title: 'Confirm access to your account information' });
    if (!response.ok || !response.data) {
      say(output, failureText(response), 'error');
      return;
    }
    const entries = response.data.entries || [];
    $('statement-title').textContent = `Statement: ${account.name}`;
    $('statement-entries').replaceChildren(...entries.map(statementRow));
    $('statement-empty').hidden = entries.length > 0;
    $('statement').hidden = false;
    $('statement-title').focus();
  }

  function statementRow(entry) {
    const when = entry.at ? new Date(entry.at) : null;
    const shown = when && !Number.isNaN(when.getTime()) ? when.toLocaleString() : (entry.at || '');
    return h('tr', { class: 'statement-entry', 'data-transfer-id': entry.transfer_id },
      h('td', {}, h('time', { datetime: entry.at, text: shown })),
      h('td', { text: entry.payee }),
      h('td', { text: entry.reference }),
      h('td', { class: 'num', text: `${grouped(entry.amount)} ${entry.currency}` }));
  }

  // ---- beneficiaries -----------------------------------------------------------------

  async function loadBeneficiaries() {
    const response = await protectedFetch('GET', '/v1/beneficiaries');
    if (!response.ok || !response.data) {
      say($('beneficiaries-message'), failureText(response), 'error');
      return;
    }
    beneficiaries = response.data.beneficiaries || [];
    renderBeneficiaries();
  }

  function renderBeneficiaries() {
    const list = $('beneficiaries');
    list.replaceChildren(...beneficiaries.map(beneficiaryItem));
    if (beneficiaries.length === 0) list.append(h('li', { class: 'empty', text: 'No beneficiaries yet.' }));
    fillSelect($('transfer-beneficiary'), beneficiaries.map((beneficiary) => ({
      value: beneficiary.id, text: `${beneficiary.name} (${beneficiary.iban})`,
    })), beneficiaries.length ? 'Choose a beneficiary' : 'Add a beneficiary first');
  }

  function beneficiaryItem(beneficiary) {
    let trust;
    if (beneficiary.trusted) {
      trust = h('span', { class: 'trusted-badge', text: 'Trusted' });
    } else {
      trust = h('button', {
        type: 'button', class: 'trust-button secondary', 'data-beneficiary-id': beneficiary.id,
      }, 'Trust', hiddenText(` ${beneficiary.name}`));
      trust.addEventListener('click', onClick(trust, $('beneficiaries-message'), () => trustBeneficiary(beneficiary)));
    }
    return h('li', { class: 'beneficiary', 'data-beneficiary-id': beneficiary.id },
      h('span', { class: 'beneficiary-name', text: beneficiary.name }),
      h('span', { class: 'beneficiary-iban', text: beneficiary.iban }),
      trust);
  }

  async function trustBeneficiary(beneficiary) {
    const output = $('beneficiaries-message');
    const response = await protectedFetch('POST', `/v1/beneficiaries/${encodeURIComponent(beneficiary.id)}/trust`,
      undefined, { title: `Confirm trusting ${beneficiary.name}` });
    if (!response.ok) {
      say(output, failureText(response), 'error');
      return;
    }
    say(output, `${beneficiary.name} is now trusted.`, 'ok');
    await loadBeneficiaries();
  }

  async function addBeneficiary() {
    const output = $('beneficiary-result');
    const name = $('beneficiary-name').value.trim();
    const iban = $('beneficiary-iban').value.replace(/\s+/g, '').toUpperCase();
    say(output, 'Adding…');
    const response = await protectedFetch('POST', '/v1/beneficiaries', JSON.stringify({ name, iban }),
      { title: `Confirm adding ${name}` });
    if (response.status !== 201) {
      say(output, failureText(response), 'error');
      return;
    }
    $('beneficiary-form').reset();
    say(output, `${name} added.`, 'ok');
    await loadBeneficiaries();
  }

  // ---- transfers -------------------------------------------------------------------

  // Accepts "2200", "2200.00" or "2200,00"; the amount stays a string (no floating point).
  function normaliseAmount(text) {
    const amount = text.replace(/\s+/g, '').replace(',', '.');
    return /^\d+(\.\d+)?$/.test(amount) && /[1-9]/.test(amount) ? amount : null;
  }

  async function sendTransfer() {
    const output = $('transfer-result');
    output.removeAttribute('data-status');
    const account = selectedAccount();
    const beneficiaryId = $('transfer-beneficiary').value;
    const amount = normaliseAmount($('transfer-amount').value);
    if (!account || !beneficiaryId) {
      say(output, 'Choose an account and a beneficiary.', 'error');
      return;
    }
    if (!amount) {
      say(output, 'Enter an amount such as 2200.00.', 'error');
      $('transfer-amount').focus();
      return;
    }
    const body = JSON.stringify({
      account_id: account.id,
      beneficiary_id: beneficiaryId,
      amount,
      currency: account.currency,
      reference: $('transfer-reference').value.trim(),
    });
    say(output, 'Sending…');
    const response = await protectedFetch('POST', '/v1/transfers', body, { title: 'Confirm the payment' });
    if (!response.ok || !response.data) {
      say(output, failureText(response), 'error');
      return;
    }
    $('transfer-amount').value = '';
    $('transfer-reference').value = '';
    await guarded($('accounts-message'), loadAccounts);
    showTransferResult(response.data, response.confirmed, account.id);
  }

  function scaText(transfer, confirmed) {
    const decision = transfer.decision || {};
    const exempt = transfer.sca === 'exempt' || decision.outcome === 'exempt';
    if (exempt) {
      const reason = typeof transfer.reason === 'string' ? transfer.reason : decision.reason;
      return reason ? `No confirmation needed (exemption: ${reason}).` : 'No confirmation needed (exempt).';
    }
    return confirmed ? 'Confirmed with strong customer authentication.' : '';
  }

  function showTransferResult(transfer, confirmed, accountId) {
    const output = $('transfer-result');
    const account = accounts.find((candidate) => candidate.id === accountId);
    const payee = beneficiaries.find((candidate) => candidate.id === transfer.beneficiary_id);
    output.dataset.status = transfer.status || '';
    output.dataset.kind = 'ok';
    output.replaceChildren(
      h('p', {},
        'Transfer ', h('strong', { id: 'transfer-status', text: transfer.status || 'unknown' }),
        `: ${grouped(transfer.amount)} ${transfer.currency}${payee ? ` to ${payee.name}` : ''}.`),
      h('p', { id: 'transfer-sca', text: scaText(transfer, confirmed) }),
      account
        ? h('p', {}, 'New balance: ',
          h('strong', { id: 'transfer-new-balance', text: `${grouped(account.balance)} ${account.currency}` }))
        : null);
  }

  // ---- security --------------------------------------------------------------------

  async function loadFactors() {
    const current = session.get();
    if (!current) return;
    const response = await protectedFetch('GET', factorsPath(current.userId));
    if (!response.ok || !response.data) {
      say($('factors-message'), failureText(response), 'error');
      return;
    }
    const factors = response.data.factors || [];
    $('factors').replaceChildren(...factors.map(factorItem));
    if (factors.length === 0) $('factors').append(h('li', { class: 'empty', text: 'No factors.' }));
  }

  function blockText(factor) {
    if (factor.permanently_blocked) return 'Blocked. Please contact the bank.';
    if (factor.blocked) {
      const until = factor.blocked_until ? new Date(factor.blocked_until) : null;
      return until && !Number.isNaN(until.getTime()) ? `Blocked until ${until.toLocaleString()}.` : 'Blocked for now.';
    }
    return '';
  }

  function factorItem(factor) {
    const active = factor.status === 'active';
    const name = factor.label || KIND_TEXT[factor.kind] || factor.kind;
    let revoke = null;
    if (active) {
      revoke = h('button', {
        type: 'button', class: 'revoke-button secondary', 'data-factor-id': factor.id,
      }, 'Revoke', hiddenText(` ${name}`));
      revoke.addEventListener('click', onClick(revoke, $('factors-message'), () => revokeFactor(factor, name)));
    }
    const details = [KIND_TEXT[factor.kind] || factor.kind, factor.category, factor.phone_hint,
      active ? null : factor.status].filter(Boolean).join(' · ');
    return h('li', {
      class: active ? 'factor' : 'factor factor--revoked',
      'data-factor-id': factor.id, 'data-kind': factor.kind, 'data-status': factor.status,
    },
    h('span', { class: 'factor-name', text: name }),
    h('span', { class: 'factor-details', text: details }),
    blockText(factor) ? h('span', { class: 'factor-blocked', text: blockText(factor) }) : null,
    revoke);
  }

  async function revokeFactor(factor, name) {
    const output = $('factors-message');
    const current = session.get();
    const response = await protectedFetch('DELETE', `${factorsPath(current.userId)}/${encodeURIComponent(factor.id)}`,
      undefined, { title: `Confirm revoking ${name}` });
    if (!response.ok) {
      say(output, failureText(response), 'error');
      return;
    }
    say(output, `${name} revoked.`, 'ok');
    await loadFactors();
  }

  // ---- start -----------------------------------------------------------------------

  function wire() {
    onSubmit($('register-form'), $('register-result'), register);
    onSubmit($('login-form'), $('login-message'), logIn);
    onSubmit($('passkey-form'), $('enrol-result'), addPasskey);
    onSubmit($('totp-form'), $('enrol-result'), addTotp);
    onSubmit($('sms-form'), $('enrol-result'), addSms);
    onSubmit($('beneficiary-form'), $('beneficiary-result'), addBeneficiary);
    onSubmit($('transfer-form'), $('transfer-result'), sendTransfer);
    $('transfer-account').addEventListener('change', updateTransferCurrency);
    $('logout').addEventListener('click', onClick($('logout'), $('app-message'), logOut));
    $('enrol-done').addEventListener('click', () => {
      $('enrol').hidden = true;
      enrolContext = null;
      showView('welcome');
      say($('login-message'), 'Log in with your new account.');
      $('login-submit').focus();
    });
  }

  function start() {
    wire();
    if (session.get()) {
      enterHome(); // a stale session ends at the first 401
    } else {
      showView('welcome');
    }
  }

  // For tests and the browser console: the same helper the pages use.
  window.DemoBank = Object.freeze({ protectedFetch });

  start();
})();
