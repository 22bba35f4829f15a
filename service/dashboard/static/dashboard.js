// The dashboard's few behaviours; every page works without them.
//  * [data-live]: poll /dashboard/live (one indexed max() and the queue) and, when a new report exists,
//    re-fetch the page and swap its [data-live-region] elements in place (a large page less often).
//  * [data-progress]: follow a regrade batch; reload (or go to data-reload) when it is finished.
//  * [data-autosubmit]: submit the form when the input changes; [data-confirm] forms ask first.
"use strict";
(function () {
  var POLL_MS = 2000;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      var json = (r.headers.get("content-type") || "").indexOf("application/json") === 0;
      if (!r.ok || !json) throw new Error("status " + r.status);
      return r.json();
    });
  }

  function swapRegions() {
    return fetch(window.location.href, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("status " + r.status);
      return r.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html");
      document.querySelectorAll("[data-live-region]").forEach(function (old) {
        var replacement = fresh.getElementById(old.id);
        if (replacement) old.replaceWith(document.importNode(replacement, true));
      });
      document.dispatchEvent(new CustomEvent("nngrade:updated"));
    });
  }

  function live(main) {
    var latest = main.dataset.latest;
    var busy = false;
    var notBefore = 0;  // a re-fetch costs a page render: at most a tenth of the time goes to them
    setInterval(function () {
      if (busy || document.hidden || Date.now() < notBefore) return;
      busy = true;
      getJSON(main.dataset.live).then(function (state) {
        if (String(state.latest) === String(latest)) return;
        var started = Date.now();
        return swapRegions().then(function () {
          latest = String(state.latest);
          main.dataset.latest = latest;
          notBefore = Date.now() + 9 * (Date.now() - started);
        });
      }).catch(function () {}).then(function () { busy = false; });
    }, POLL_MS);
  }

  function progress(box) {
    var bar = box.querySelector("progress");
    var label = box.querySelector(".progress-text");
    var timer = setInterval(function () {
      getJSON(box.dataset.progress).then(function (p) {
        bar.max = Math.max(1, p.total);
        bar.value = p.done;
        label.textContent = "Regrade " + p.id + ": " + p.done + " of " + p.total + " graded" +
          (p.pending ? ", " + p.pending + " waiting" : "") + (p.finished ? " — finished" : "");
        if (p.finished) {
          clearInterval(timer);
          box.dataset.finished = "true";
          if (box.dataset.reload) window.location.assign(box.dataset.reload);
          else swapRegions();
        }
      }).catch(function () { clearInterval(timer); label.textContent = "Lost track of the regrade; reload the page."; });
    }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var main = document.querySelector("main[data-live]");
    if (main) live(main);
    document.querySelectorAll("[data-progress]").forEach(progress);
    document.querySelectorAll("[data-autosubmit]").forEach(function (input) {
      input.addEventListener("change", function () { input.form.requestSubmit(); });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  });
})();
