// A job's page (billing's period jobs, monitoring's reports) follows the job: it polls the
// job's JSON (data-poll-url) every second and moves the progress bar and the status, then
// reloads once the job has ended to show its outcome (and the ZIP or PDF link). The page
// stays usable meanwhile; without JavaScript a <noscript> refresh reloads it instead. Text
// only, never innerHTML.
(function () {
  "use strict";
  var poll = document.getElementById("job-poll");
  if (!poll) return;
  var url = poll.getAttribute("data-poll-url");
  var bar = document.getElementById("job-bar");
  var count = document.querySelector('[data-testid="job-count"]');
  var status = document.getElementById("job-status");
  var INTERVAL_MS = 1000;

  function show(job) {
    if (job.total) {
      bar.max = job.total;
      bar.value = job.done;
      count.textContent = job.done + "/" + job.total;
    }
    status.textContent = job.status_label;
    status.setAttribute("data-status", job.status);
  }

  function tick() {
    fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { window.setTimeout(tick, INTERVAL_MS * 5); return; }
        show(job);
        if (job.finished) window.location.reload();
        else window.setTimeout(tick, INTERVAL_MS);
      })
      .catch(function () { window.setTimeout(tick, INTERVAL_MS * 5); });
  }

  window.setTimeout(tick, INTERVAL_MS);
})();
