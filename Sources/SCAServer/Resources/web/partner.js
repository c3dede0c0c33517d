/*
 * Partner page: shows <sca-challenge> for the token in ?token=… (or a pasted one).
 * Ids: #partner-token-form, #partner-token, #partner-start, #partner-challenge,
 *      #partner-result[data-outcome="approved" | "failed"], plus the component's ids.
 */
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);

  function showChallenge(token) {
    const result = $('partner-result');
    result.textContent = '';
    result.removeAttribute('data-outcome');
    const component = document.createElement('sca-challenge');
    component.token = token;
    component.setAttribute('focus-first', '');
    $('partner-challenge').replaceChildren(component);
  }

  function finish(outcome, text) {
    const result = $('partner-result');
    result.dataset.outcome = outcome;
    result.textContent = text;
  }

  document.addEventListener('sca-approved', () => finish('approved', 'Approved — return to the partner flow'));
  document.addEventListener('sca-failed', () => finish('failed', 'Not approved — return to the partner flow and start again.'));

  $('partner-token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('partner-token').value.trim();
    if (!token) return;
    const url = new URL(window.location.href);
    url.searchParams.set('token', token);
    window.history.replaceState(null, '', url);
    $('partner-token-form').hidden = true;
    showChallenge(token);
  });

  const token = new URLSearchParams(window.location.search).get('token');
  if (token) {
    showChallenge(token);
  } else {
    $('partner-token-form').hidden = false;
    $('partner-token').focus();
  }
})();
