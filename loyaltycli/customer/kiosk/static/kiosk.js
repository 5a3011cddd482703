// After a short time without a touch or a key, go back to the start screen in the shop's language: the
// page is replaced (not kept in history), so what the last customer saw or typed is gone.
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-idle"), 10) || 60;
  var start = body.getAttribute("data-start") || "/";
  var timer = null;
  function leave() {
    document.querySelectorAll("form").forEach(function (form) { form.reset(); });
    window.location.replace(start);
  }
  function wake() {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(leave, seconds * 1000);
  }
  ["keydown", "pointerdown", "input", "touchstart"].forEach(function (name) {
    window.addEventListener(name, wake, { passive: true });
  });
  // A page brought back by the back button is not shown again from the browser's memory.
  window.addEventListener("pageshow", function (event) { if (event.persisted) { leave(); } });
  wake();
  // The field a USB scanner types into has the focus, even where the browser skipped `autofocus`.
  var first = document.querySelector("[autofocus]");
  if (first && (!document.activeElement || document.activeElement === document.body)) { first.focus(); }
}());
