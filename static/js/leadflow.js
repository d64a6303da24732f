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
      /* A form re-drawn with errors for another card keeps that card's note and errors: drop them. */
      form.querySelectorAll("textarea, input[type=text]").forEach(function (field) { field.value = ""; });
      form.querySelectorAll("select").forEach(function (field) { field.selectedIndex = 0; });
      form.querySelectorAll(".field-error, .form-errors").forEach(function (el) { el.remove(); });
      form.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
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

  /* A new message replaces the ones shown: an old "You accepted X" must not stand above a later error. */
  function flash(message, level) {
    var box = document.getElementById("messages");
    if (!box) return;
    var item = document.createElement("div");
    item.className = "flash flash-" + (level || "error");
    var body = document.createElement("p");
    body.className = "flash-text";
    body.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.setAttribute("aria-label", text("tDismiss", {}));
    var cross = document.createElement("span");
    cross.setAttribute("aria-hidden", "true");
    cross.textContent = "\u00d7";
    close.appendChild(cross);
    item.appendChild(body);
    item.appendChild(close);
    box.replaceChildren(item);
  }

  /* The close button of a message: the message goes, the focus goes to the next one or the content. */
  function dismissMessage(event) {
    var close = event.target.closest ? event.target.closest(".flash-close") : null;
    if (!close) return;
    var item = close.closest(".flash");
    var next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    var target = next ? next.querySelector(".flash-close") : document.getElementById("main");
    if (target) target.focus();
  }

  /* An action (a POST) answers with its own messages, if any: the old ones go when it starts, so
     an answer that draws only part of the page (a pop-over's errors) does not leave them standing. */
  function clearMessagesForAction(event) {
    var verb = event.detail.requestConfig ? event.detail.requestConfig.verb : "";
    if (verb !== "post" || event.detail.elt.id === "live-poll") return;
    var box = document.getElementById("messages");
    if (box) box.replaceChildren();
  }

  /* Focus after an action swaps part of the page: where the user was, or the nearest sensible
     place (the card that moved up into the acted-on card's place, the first field with an error,
     the page's heading), never <body>. */
  var focusPlan = null;
  var CARDS = ".lead-card";

  function planFocus() {
    var active = document.activeElement;
    var card = active && active.closest ? active.closest(CARDS) : null;
    var cards = Array.prototype.slice.call(document.querySelectorAll(CARDS));
    focusPlan = { cardId: card ? card.id : null, index: card ? cards.indexOf(card) : -1 };
  }

  function focusable(root) {
    return root.querySelector(".actions button, .actions summary") || root.querySelector("a[href]");
  }

  function restoreFocus() {
    var plan = focusPlan;
    focusPlan = null;
    if (!plan) return;
    if (document.activeElement && document.activeElement !== document.body && document.body.contains(document.activeElement)) return;
    var target = document.querySelector(".has-error input, .has-error select, .has-error textarea");
    if (!target && plan.cardId) {
      var same = document.getElementById(plan.cardId);
      var cards = document.querySelectorAll(CARDS);
      var next = same || cards[Math.min(plan.index, cards.length - 1)];
      if (next) target = focusable(next);
    }
    if (!target) target = document.querySelector("main h1[tabindex], main h2[tabindex]") || document.getElementById("main");
    if (target) target.focus();
  }

  /* Escape closes the open pop-over around the focus (or the last one opened) and returns to its button. */
  function closePopover(event) {
    if (event.key !== "Escape") return;
    var active = document.activeElement;
    var details = active && active.closest ? active.closest("details.popover[open]") : null;
    if (!details) {
      var open = document.querySelectorAll("details.popover[open]");
      details = open.length ? open[open.length - 1] : null;
    }
    if (!details) return;
    details.open = false;
    details.querySelector("summary").focus();
    event.preventDefault();
  }

  /* A button that needs a box ticked first (<button data-needs-check="box id">) waits for it;
     without JavaScript the server refuses the submit with the reason instead. */
  function syncNeedsCheck() {
    document.querySelectorAll("button[data-needs-check]").forEach(function (button) {
      var box = document.getElementById(button.dataset.needsCheck);
      if (box) button.disabled = !box.checked;
    });
  }

  /* While the account names no time zone, the browser's is used: tell the server (a cookie read
     by accounts.timezones) and, if this page was drawn in another zone, draw it again, once. */
  function adoptBrowserZone() {
    var body = document.body, zone;
    if (!("tzAuto" in body.dataset)) return;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone || !/^[A-Za-z0-9_+\-\/]+$/.test(zone)) return;
    document.cookie = "leadflow_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    if (zone === body.dataset.tz || !("tzReload" in body.dataset)) return;
    if (document.cookie.indexOf("leadflow_tz=" + zone) === -1) return;
    try {
      if (sessionStorage.getItem("leadflow_tz_redrawn") === zone) return;
      sessionStorage.setItem("leadflow_tz_redrawn", zone);
    } catch (e) { return; }
    window.location.reload();
  }

  document.addEventListener("DOMContentLoaded", function () {
    adoptBrowserZone();
    document.addEventListener("keydown", closePopover);
    tick();
    setInterval(tick, 5000);
    syncNeedsCheck();
    document.addEventListener("change", syncNeedsCheck);

    document.querySelectorAll(".js-autosubmit").forEach(function (el) {
      el.addEventListener("change", function () { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); });
    });

    /* "toggle" does not bubble: listen while it travels down. */
    document.addEventListener("toggle", function (event) {
      var details = event.target;
      if (!details.open || !details.matches || !details.matches("details.popover")) return;
      if (details.matches("details.js-shared-form")) borrowForm(details);
      /* Opened from the keyboard: straight into its first field. */
      if (details.contains(document.activeElement)) {
        var field = details.querySelector(".popover-body select, .popover-body textarea, .popover-body input:not([type=hidden])");
        if (field) field.focus();
      }
    }, true);

    document.addEventListener("click", dismissMessage);
    document.body.addEventListener("htmx:beforeRequest", planFocus);
    document.body.addEventListener("htmx:beforeRequest", clearMessagesForAction);
    document.body.addEventListener("htmx:afterSettle", function (event) {
      tick();
      syncNeedsCheck();
      /* The messages settle on their own (out of band); the focus waits for the page part. */
      if (!event.detail.elt || event.detail.elt.id !== "messages") restoreFocus();
    });
    document.body.addEventListener("htmx:responseError", function (event) {
      var status = event.detail.xhr.status;
      /* A card's lead that went away (taken, reassigned) is named: the user may have many open. */
      /* A card's button may submit a form the page holds elsewhere (form="accept-form"). */
      var config = event.detail.requestConfig, trigger = config && config.triggeringEvent;
      var source = (trigger && trigger.submitter) || event.detail.elt;
      var card = source && source.closest ? source.closest(".lead-card") : null;
      var name = card ? card.querySelector(".lead-name") : null;
      if (status === 404 && name) flash(text("tGoneNamed", { lead: name.textContent.trim() }));
      else flash(text(status === 404 ? "tGone" : status === 403 ? "tForbidden" : "tError", {}));
      restoreFocus();
    });
    document.body.addEventListener("htmx:sendError", function () { flash(text("tError", {})); });
  });
})();
