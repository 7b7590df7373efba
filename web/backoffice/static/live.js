// After a save: ask the admin app how far the change has come until the shop shows it.
(function () {
  "use strict";
  function watch(box) {
    var state = box.querySelector(".live-state");
    var url = box.getAttribute("data-status-url");
    var tries = 0;
    function ask() {
      tries += 1;
      fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (c) {
        if (c.projected_at) {
          // Shown in the shop's time zone, as the server renders every time.
          var when = new Date(c.projected_at).toLocaleString("sv-SE", {timeZone: box.getAttribute("data-zone")});
          // The sentence comes from the page, in the editor's language.
          state.textContent = box.getAttribute("data-live-text")
            .replace("{when}", when + " (" + box.getAttribute("data-zone") + ")")
            .replace("{ms}", String(Math.round(c.seconds * 1000)));
          box.setAttribute("data-projected", "1");
        } else if (tries < 120) {
          setTimeout(ask, 250);
        }
      }).catch(function () { if (tries < 120) { setTimeout(ask, 1000); } });
    }
    ask();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("section.live[data-outbox]").forEach(watch);
  });
})();
// A feed import's page: show its progress while it runs, then load its report.
(function () {
  "use strict";
  function poll(box) {
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector("progress");
    function ask() {
      fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (job) {
        bar.value = job.bytes_done;
        box.querySelector(".rows-read").textContent = job.rows_read;
        box.querySelector(".rows-imported").textContent = job.rows_imported;
        box.querySelector(".rows-rejected").textContent = job.rows_rejected;
        if (job.state === "running" && !job.interrupted) {
          setTimeout(ask, 500);
        } else {
          window.location.reload();
        }
      }).catch(function () { setTimeout(ask, 2000); });
    }
    ask();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("section.report[data-progress-url]").forEach(poll);
  });
})();
// The status page during a full rebuild: its progress until the rebuild ends, then the new status.
(function () {
  "use strict";
  function follow(box) {
    var bar = box.querySelector("progress");
    var state = box.querySelector(".rebuild-state");
    var seen = box.getAttribute("data-running") === "1";
    var tries = 0;
    function ask() {
      tries += 1;
      fetch(box.getAttribute("data-state-url"), {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
        if (s.progress) {
          bar.max = s.progress.total || 1;
          bar.value = s.progress.done;
          state.textContent = s.progress.done + " of " + s.progress.total + " products";
        }
        if (s.running) {
          seen = true;
          setTimeout(ask, 1000);
        } else if (seen || (s.live && s.live !== box.getAttribute("data-live"))) {
          window.location.replace(window.location.pathname + "?rebuild=done#controls");
        } else if (tries < 10) {
          setTimeout(ask, 1000);  // a rebuild just started may take a moment to take its lock
        }
      }).catch(function () { setTimeout(ask, 3000); });
    }
    ask();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("section.rebuild[data-state-url]");
    var started = window.location.search.indexOf("rebuild=started") >= 0;
    if (box && (box.getAttribute("data-running") === "1" || started)) { follow(box); }
  });
})();
