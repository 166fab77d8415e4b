/* global document, window */
// Passkeys in the browser, on top of @simplewebauthn/browser (/static/vendor/simplewebauthn-browser.js,
// loaded before this file). The page does all the talking: this script only runs ceremonies.
//
// Markup it works with (views/factors/passkey-mixins.pug writes it):
//   <form data-passkey="register|authenticate" data-passkey-options="ID" data-passkey-status="ID"
//         data-msg-cancelled="..." data-msg-failed="..." data-msg-exists="..." hidden>
//     <input type="hidden" name="passkey_response">   the ceremony's result, as JSON
//     <input type="hidden" name="passkey_error">      optional: report a failed dialog to the server
//     <button type="submit">...</button>
//   </form>
//   <script type="application/json" id="ID">{ options from the server }</script>
// - Passkey forms stay hidden unless the browser supports WebAuthn (without JavaScript too);
//   elements with data-passkey-unsupported are shown when it does not.
// - `data-passkey-autofill` on an authenticate form also offers its passkeys in the autofill of
//   an <input autocomplete="username webauthn"> (conditional mediation) while the page is open.
// - When the dialog is closed or fails, the page's own text (from the locale files) is shown in
//   the status element; a form with a passkey_error field is then also posted, so the server can
//   show the other methods with that explanation.
(function () {
  'use strict';
  var forms = Array.prototype.slice.call(document.querySelectorAll('form[data-passkey]'));
  var unsupported = Array.prototype.slice.call(document.querySelectorAll('[data-passkey-unsupported]'));
  if (!forms.length && !unsupported.length) return;
  var lib = window.SimpleWebAuthnBrowser;
  if (!lib || !lib.browserSupportsWebAuthn()) {
    unsupported.forEach(function (el) { el.hidden = false; });
    return;
  }

  function optionsOf(form) {
    var source = document.getElementById(form.getAttribute('data-passkey-options'));
    return JSON.parse(source ? source.textContent : 'null');
  }

  function say(form, text) {
    var status = document.getElementById(form.getAttribute('data-passkey-status'));
    if (status) status.textContent = text || '';
  }

  /** cancelled: closed or timed out (browsers do not tell which, on purpose); exists: registered already. */
  function kindOf(error) {
    if (error && (error.name === 'NotAllowedError' || error.name === 'AbortError')) return 'cancelled';
    if (error && error.name === 'InvalidStateError') return 'exists';
    return 'failed';
  }

  function submitWith(form, field, value) {
    var input = form.querySelector('input[name="' + field + '"]');
    if (!input) return false;
    input.value = value;
    form.submit();
    return true;
  }

  /** A promise in every case: missing or broken options end as a failed ceremony, not an exception. */
  function ceremony(form, autofill) {
    return Promise.resolve().then(function () {
      var optionsJSON = optionsOf(form);
      if (form.getAttribute('data-passkey') === 'register') return lib.startRegistration({ optionsJSON: optionsJSON });
      return lib.startAuthentication({ optionsJSON: optionsJSON, useBrowserAutofill: autofill });
    });
  }

  // The autofill request waits in the background; starting a dialog aborts it (the library
  // allows one ceremony at a time), so its abort is expected and not reported.
  var autofill = { form: null, generation: 0 };

  function startAutofill() {
    var form = autofill.form;
    if (!form) return;
    var generation = ++autofill.generation;
    lib.browserSupportsWebAuthnAutofill().then(function (supported) {
      if (!supported || generation !== autofill.generation) return undefined;
      return ceremony(form, true).then(function (result) {
        submitWith(form, 'passkey_response', JSON.stringify(result));
      });
    }).catch(function (error) {
      if (generation !== autofill.generation || kindOf(error) === 'cancelled') return;
      say(form, form.getAttribute('data-msg-failed'));
    });
  }

  Array.prototype.slice.call(document.querySelectorAll('[data-passkey-section]')).forEach(function (el) { el.hidden = false; });
  forms.forEach(function (form) {
    form.hidden = false;
    if (form.hasAttribute('data-passkey-autofill') && document.querySelector('input[autocomplete$="webauthn"]')) autofill.form = form;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var button = form.querySelector('button[type="submit"], button:not([type])');
      if (button) button.disabled = true;
      say(form, '');
      autofill.generation += 1;
      ceremony(form, false).then(
        function (result) { submitWith(form, 'passkey_response', JSON.stringify(result)); },
        function (error) {
          var kind = kindOf(error);
          if (button) button.disabled = false;
          say(form, form.getAttribute('data-msg-' + kind) || form.getAttribute('data-msg-failed'));
          if (!submitWith(form, 'passkey_error', kind)) startAutofill();
        }
      );
    });
  });
  startAutofill();
})();
