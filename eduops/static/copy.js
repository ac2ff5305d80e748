// Copy buttons: <button type="button" data-copy="ID" data-copied="Copied"> copies the text of the element
// with that id (a <code>) and says so on the button for a moment.
// No inline script, as the hub's Content-Security-Policy asks.
(function () {
  "use strict";

  // A hub served over plain http (not localhost) has no navigator.clipboard: select the text and copy.
  function fallback(field) {
    var range = document.createRange();
    range.selectNodeContents(field);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    var done = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(field.textContent) : fallback(field);
    done.then(function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied");
      button.classList.add("copied");
      window.setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 2000);
    }, function () {
      fallback(field).catch(function () {}); // leave the text selected for Ctrl-C
    });
  });
}());
