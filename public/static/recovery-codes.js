/* global document, navigator, window */
// Progressive enhancement for the recovery-codes page: adds "Copy" and "Print" buttons next to
// "Download". Without JavaScript there are no dead buttons; the codes can still be selected,
// downloaded or printed from the browser's menu. Texts come from the page (locale files).
(function () {
  'use strict';
  var actions = document.getElementById('recovery-actions');
  if (!actions) return;
  var list = document.getElementById(actions.getAttribute('data-codes'));
  var status = document.getElementById('recovery-status');

  function say(text) {
    if (status) status.textContent = text || '';
  }

  function addButton(label, onClick) {
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'button button--secondary';
    button.textContent = label;
    button.addEventListener('click', onClick);
    actions.appendChild(document.createTextNode(' '));
    actions.appendChild(button);
  }

  if (list && navigator.clipboard) {
    addButton(actions.getAttribute('data-copy-label'), function () {
      var text = Array.prototype.map.call(list.querySelectorAll('li'), function (li) {
        return li.textContent.trim();
      }).join('\n');
      navigator.clipboard.writeText(text).then(
        function () { say(actions.getAttribute('data-copied')); },
        function () { say(actions.getAttribute('data-copy-failed')); }
      );
    });
  }
  if (typeof window.print === 'function') {
    addButton(actions.getAttribute('data-print-label'), function () { window.print(); });
  }
})();
