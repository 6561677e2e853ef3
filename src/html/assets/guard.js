/* aim-sim page guard, the first script of every page: records uncaught errors, rejected
   promises and elements that failed to load (capture phase) in data-errors on <html>, so a
   broken page says so in its DOM as well as in the console. */
(function () {
  "use strict";
  var errors = [];
  function record(message) {
    errors.push(String(message));
    document.documentElement.setAttribute("data-errors", JSON.stringify(errors));
  }
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) {
      record("failed to load " + (t.src || t.href));
    } else {
      record(e.message || "error");
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    record("unhandled rejection: " + (e.reason && e.reason.message ? e.reason.message : e.reason));
  });
  window.AIM_RECORD_ERROR = record;
})();
