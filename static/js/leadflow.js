/* Leadflow: the little JavaScript the pages use. Everything works without it. */
(function () {
  "use strict";
  document.documentElement.classList.replace("no-js", "js");

  /* The "due soon" window comes from the server (apps/leads/filters.py DUE_SOON). */
  var DUE_SOON_MS = Number(document.body.dataset.dueSoonSeconds) * 1000;

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

  /* Lists render each pop-over form (reject, reassign, resubmit, disqualify) once; the card
     whose pop-over opens borrows it: <details class="js-shared-form" data-form data-url>. */
  function borrowForm(details) {
    var form = document.getElementById(details.dataset.form);
    if (!form) return;
    if (form.parentNode !== details) {
      form.reset();
      var fallback = details.querySelector(".js-fallback");
      if (fallback) fallback.remove();
      details.appendChild(form);
    }
    form.setAttribute("action", details.dataset.url);
    form.setAttribute("hx-post", details.dataset.url);
    var stage = form.querySelector("input[name=expected_stage]");
    if (stage) stage.value = details.dataset.stage || "";
    form.querySelectorAll("select[name=owner] option").forEach(function (option) {
      var current = option.value !== "" && option.value === details.dataset.owner;
      option.hidden = current;
      option.disabled = current;
    });
    if (window.htmx) window.htmx.process(form);
    document.querySelectorAll("details.js-shared-form[open]").forEach(function (other) {
      if (other !== details && other.dataset.form === details.dataset.form) other.open = false;
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

    /* "toggle" does not bubble: listen while it travels down. */
    document.addEventListener("toggle", function (event) {
      var details = event.target;
      if (details.open && details.matches && details.matches("details.js-shared-form")) borrowForm(details);
    }, true);

    document.body.addEventListener("htmx:afterSettle", tick);
    document.body.addEventListener("htmx:responseError", function (event) {
      var status = event.detail.xhr.status;
      flash(text(status === 404 ? "tGone" : status === 403 ? "tForbidden" : "tError", {}));
    });
    document.body.addEventListener("htmx:sendError", function () { flash(text("tError", {})); });
  });
})();
