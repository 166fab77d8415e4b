// Sets up the altcha widget (served from /static/vendor/altcha.js) on our pages: the proof-of-work
// workers come from our own origin (CSP: script-src 'self'), and every text the widget shows comes
// from our locale files, handed over in the widget's data-strings attribute.
(function () {
  'use strict';
  var registry = globalThis.$altcha;
  if (!registry) return;
  registry.algorithms.set('PBKDF2/SHA-256', function () { return new globalThis.Worker('/static/vendor/altcha-worker-pbkdf2.js'); });
  registry.algorithms.set('SHA-256', function () { return new globalThis.Worker('/static/vendor/altcha-worker-sha.js'); });
  var widgets = globalThis.document.querySelectorAll('altcha-widget[data-strings]');
  for (var i = 0; i < widgets.length; i += 1) {
    var widget = widgets[i];
    var language = widget.getAttribute('language') || 'nl';
    try {
      var strings = JSON.parse(widget.getAttribute('data-strings'));
      var base = registry.i18n.get(language) || registry.i18n.get('en') || {};
      registry.i18n.set(language, Object.assign({}, base, strings));
    } catch {
      // Keep the widget's own texts rather than none.
    }
  }
})();
