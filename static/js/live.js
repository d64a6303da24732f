/* Live pages (issue 12): the bell, the inbox, "To qualify" and the review queue follow
   what others do without a reload. The header's poller (htmx, every few seconds) asks the
   server "anything new since X?" (apps/sla/live.py); when something changed for this page,
   it fetches itself again and swaps in only the cards that came or went, so a card the
   user is typing in stays as it is. A card that went says why, then leaves. */
(function () {
  "use strict";
  var GONE_MS = 4000;
  /* Every so many polls the page compares its cards anyway: a change committed late
     (after a newer one) is then caught too. */
  var FULL_CHECK_POLLS = 12;
  var polls = 0;
  var refreshing = false;

  function liveLists() { return document.querySelectorAll("[data-live-list]"); }

  function shownIds() {
    var ids = [];
    document.querySelectorAll("[data-live-list] [data-live-item]").forEach(function (item) {
      var match = /^lead-(\d+)$/.exec(item.id);
      if (match && !item.classList.contains("is-gone")) ids.push(match[1]);
    });
    return ids.slice(0, 200).join(",");
  }

  function updateBell(state) {
    var bell = document.querySelector(".bell");
    if (!bell) return;
    bell.setAttribute("aria-label", state.unread_label);
    bell.classList.toggle("has-unread", state.unread > 0);
    var badge = bell.querySelector(".badge");
    if (state.unread > 0) {
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "badge";
        bell.appendChild(badge);
      }
      badge.textContent = state.unread > 99 ? "99+" : String(state.unread);
    } else if (badge) {
      badge.remove();
    }
  }

  function markGone(item, list, gone) {
    item.classList.add("is-gone");
    item.setAttribute("aria-disabled", "true");
    var home = document.querySelector(".shared-forms");
    item.querySelectorAll("details[open]").forEach(function (details) { details.open = false; });
    /* A pop-over form the card borrowed goes back to the page: the other cards need it. */
    if (home) item.querySelectorAll("form[id]").forEach(function (form) { home.appendChild(form); });
    item.querySelectorAll("button, input, select, textarea").forEach(function (el) { el.disabled = true; });
    item.querySelectorAll("a, summary").forEach(function (el) { el.setAttribute("tabindex", "-1"); });
    var note = document.createElement("p");
    note.className = "live-note";
    note.setAttribute("role", "status");
    note.textContent = list.dataset.tGone || "";
    item.appendChild(note);
    var match = /^lead-(\d+)$/.exec(item.id);
    if (match) gone[match[1]] = note;
    var hadFocus = item.contains(document.activeElement);
    window.setTimeout(function () {
      item.remove();
      if (hadFocus) {
        var heading = list.querySelector("h2");
        if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
      }
    }, GONE_MS);
  }

  function insertionPoint(list) {
    return list.querySelector("[data-live-empty]") || list.querySelector(".pager");
  }

  function reconcile(list, fresh, gone) {
    var freshItems = Array.prototype.slice.call(fresh.querySelectorAll("[data-live-item]"));
    var freshIds = {};
    freshItems.forEach(function (item) { freshIds[item.id] = true; });
    list.querySelectorAll("[data-live-item]").forEach(function (item) {
      if (!freshIds[item.id] && !item.classList.contains("is-gone")) markGone(item, list, gone);
    });
    var previous = null;
    freshItems.forEach(function (freshItem) {
      var current = document.getElementById(freshItem.id);
      if (current && list.contains(current) && !current.classList.contains("is-gone")) {
        previous = current;
        return;
      }
      if (current && current.classList.contains("is-gone")) current.remove();
      var node = document.importNode(freshItem, true);
      node.classList.add("is-new");
      if (previous) {
        previous.after(node);
      } else {
        var first = list.querySelector("[data-live-item]");
        var anchor = first || insertionPoint(list);
        if (anchor) anchor.before(node); else list.appendChild(node);
      }
      previous = node;
      if (window.htmx) window.htmx.process(node);
    });
    var empty = list.querySelector("[data-live-empty]");
    if (empty) empty.hidden = freshItems.length > 0;
    if (!empty && !freshItems.length) {
      var freshEmpty = fresh.querySelector("[data-live-empty]");
      if (freshEmpty) {
        var copy = document.importNode(freshEmpty, true);
        var pager = list.querySelector(".pager");
        if (pager) pager.before(copy); else list.appendChild(copy);
      }
    }
    list.hidden = fresh.hidden;
    list.dataset.liveSince = fresh.dataset.liveSince;
  }

  /* The list's own words for a card that went are neutral; the server then says what
     happened to it, and "by you" when the user did it (in another tab, say). */
  function explainGone(gone, since) {
    var ids = Object.keys(gone);
    var poll = document.getElementById("live-poll");
    if (!ids.length || !poll || !poll.dataset.movesUrl) return;
    var url = poll.dataset.movesUrl + "?since=" + encodeURIComponent(since) + "&ids=" + ids.join(",");
    window.fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer || !answer.moves) return;
        ids.forEach(function (id) { if (answer.moves[id]) gone[id].textContent = answer.moves[id]; });
      })
      .catch(function () { /* the neutral words stay */ });
  }

  function refresh() {
    refreshing = true;
    window.fetch(window.location.href, { credentials: "same-origin", headers: { "X-Leadflow-Live": "1" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var gone = {}, since = null;
        liveLists().forEach(function (list) {
          var fresh = doc.getElementById(list.id);
          if (since === null) since = list.dataset.liveSince || "0";
          if (fresh) reconcile(list, fresh, gone);
        });
        explainGone(gone, since);
        document.querySelectorAll("[data-live-count]").forEach(function (count) {
          var fresh = doc.querySelector('[data-live-count="' + count.dataset.liveCount + '"]');
          if (fresh) count.textContent = fresh.textContent;
        });
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { refreshing = false; });
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id !== "live-poll") return;
    if (document.hidden || refreshing) { event.preventDefault(); return; }
    var list = document.querySelector("[data-live-list]");
    if (!list) return;
    event.detail.parameters.view = list.dataset.liveList;
    event.detail.parameters.since = list.dataset.liveSince || "0";
    event.detail.parameters.shown = shownIds();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt.id !== "live-poll" || !event.detail.successful) return;
    var state;
    try { state = JSON.parse(event.detail.xhr.responseText); } catch (e) { return; }
    updateBell(state);
    polls += 1;
    var lists = liveLists();
    if (!lists.length) return;
    if (state.changed || polls % FULL_CHECK_POLLS === 0) {
      refresh();
    } else {
      lists.forEach(function (list) { list.dataset.liveSince = String(state.latest); });
    }
  });
})();
