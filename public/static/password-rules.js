/* global document */
// Progressive enhancement for password forms: while the patient types the new password, each rule
// the browser can check (length, digit, upper- and lower-case letter, special character) is marked
// met or not yet met. The server decides: the blocklist, names and history are checked only
// there, and without this script the page lists every rule before and marks each failed one after.
// Texts come from the page (locale files); nothing is sent anywhere.
(function () {
  'use strict';
  var lists = document.querySelectorAll('[data-password-rules]');
  Array.prototype.forEach.call(lists, function (list) {
    var input = document.getElementById(list.getAttribute('data-for'));
    if (!input) return;
    var met = list.getAttribute('data-met') || '';
    var unmet = list.getAttribute('data-unmet') || '';
    var items = list.querySelectorAll('[data-rule]');

    function test(rule, value, password) {
      var chars = Array.from(password.normalize('NFKC'));
      switch (rule) {
        case 'min': return chars.length >= Number(value);
        case 'max': return chars.length <= Number(value);
        case 'digit': return /\p{Nd}/u.test(password);
        case 'upper': return /\p{Lu}/u.test(password);
        case 'lower': return /\p{Ll}/u.test(password);
        case 'special':
          if (value) return chars.some(function (c) { return value.indexOf(c) !== -1; });
          return chars.some(function (c) { return !/[\p{L}\p{N}\s]/u.test(c); });
        default: return null;
      }
    }

    function update() {
      var password = input.value;
      Array.prototype.forEach.call(items, function (item) {
        var ok = password === '' ? null : test(item.getAttribute('data-rule'), item.getAttribute('data-value'), password);
        item.classList.remove('password-rule--met', 'password-rule--failed', 'password-rule--neutral');
        item.classList.add(ok === null ? 'password-rule--neutral' : ok ? 'password-rule--met' : 'password-rule--neutral');
        var mark = item.querySelector('.password-rule__mark');
        if (mark) mark.textContent = ok ? '✓' : '•';
        var state = item.querySelector('.password-rule__state');
        if (state) state.textContent = ok === null ? '' : ' (' + (ok ? met : unmet) + ')';
      });
    }

    input.addEventListener('input', update);
  });
})();
