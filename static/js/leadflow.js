/* Leadflow: the little JavaScript the pages use. Everything works without it. */
(function () {
  "use strict";
  document.documentElement.classList.replace("no-js", "js");

  var DUE_SOON_MS = 4 * 3600 * 1000;

  function text(key, values) {
    var template = document.body.dataset[key] || "";
    return template.replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function span(ms) {
    var minutes = Math.max(1, Math.floor(ms / 60000));
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    var parts = [];
    if (days) parts.push(text("tDays", { n: days }));
    if (hours || days) parts.push(text("tHours", { n: hours }));
    if (!days) parts.push(text("tMinutes", { n: mins }));
    return parts.join(" ");
  }

  /* Live SLA countdowns: <time class="countdown" datetime="ISO"> */
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown[datetime]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("datetime")) - now;
      if (isNaN(left)) return;
      el.textContent = left > 0 ? text("tLeft", { time: span(left) }) : text("tOverdue", { time: span(-left) });
      el.classList.toggle("is-overdue", left <= 0);
      el.classList.toggle("is-duesoon", left > 0 && left <= DUE_SOON_MS);
      el.classList.toggle("is-ontime", left > DUE_SOON_MS);
      var card = el.closest(".lead-card");
      if (card) card.classList.toggle("is-overdue", left <= 0);
    });
  }

  function flash(message, level) {
    var box = document.getElementById("messages");
    if (!box) return;
    var item = document.createElement("div");
    item.className = "flash flash-" + (level || "error");
    item.textContent = message;
    box.appendChild(item);
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 5000);

    document.querySelectorAll(".js-autosubmit").forEach(function (el) {
      el.addEventListener("change", function () { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); });
    });

    document.body.addEventListener("htmx:afterSettle", tick);
    document.body.addEventListener("htmx:responseError", function (event) {
      var status = event.detail.xhr.status;
      flash(text(status === 404 ? "tGone" : status === 403 ? "tForbidden" : "tError", {}));
    });
    document.body.addEventListener("htmx:sendError", function () { flash(text("tError", {})); });
  });
})();
