/* The portal's few lines of behaviour, loaded by the base layout after htmx.
 *
 * htmx ignores 4xx and 5xx answers by default, so a refused form would fail silently. Here, once for
 * every htmx request of the portal:
 * - a 4xx answer that carries the element the request swaps (a form re-rendered with its errors) is
 *   swapped like a success;
 * - any other refusal (403, 404, 413, 429, a JSON error, a server error, no connection) shows its
 *   message in the nearest [data-alert] slot of the form, or the page's #page-alert; both have
 *   role="alert", so screen readers announce it. The form keeps what was typed.
 */
(function () {
  "use strict";

  function alertSlot(elt) {
    var form = elt && elt.closest ? elt.closest("form") : null;
    return (form && form.querySelector("[data-alert]")) || document.getElementById("page-alert");
  }

  function showAlert(elt, message) {
    var slot = alertSlot(elt);
    if (!slot) { return; }
    slot.textContent = message;
    slot.hidden = false;
  }

  function clearAlert(elt) {
    var slot = alertSlot(elt);
    if (slot) { slot.textContent = ""; slot.hidden = true; }
  }

  function textOf(node) { return node ? node.textContent.replace(/\s+/g, " ").trim() : ""; }

  function messageOf(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    var body = xhr.responseText || "";
    if (type.indexOf("json") !== -1) {
      try {
        var data = JSON.parse(body);
        var parts = [data.detail].concat(Object.values(data.errors || {})).filter(Boolean);
        if (parts.length) { return parts.join(" "); }
      } catch (e) { /* fall through */ }
    } else if (type.indexOf("html") !== -1) {
      var doc = new DOMParser().parseFromString(body, "text/html");
      var alerts = Array.prototype.map.call(doc.querySelectorAll("[role=alert]"), textOf).filter(Boolean);
      if (alerts.length) { return alerts.join(" "); }
      var heading = textOf(doc.querySelector("main h1") || doc.querySelector("h1") || doc.querySelector("title"));
      if (heading) { return heading; }
    } else if (body && body.length < 300) {
      return body.trim();
    }
    if (xhr.status === 413) { return "The file is too large for the portal to accept."; }
    if (xhr.status >= 500) { return "Something went wrong on our side (error " + xhr.status + "). Nothing was saved; try again in a minute."; }
    return "The portal refused this request (error " + xhr.status + ").";
  }

  function swapsInto(elt, xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("html") === -1) { return false; }
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var selecting = elt.closest("[hx-select]");
    if (selecting) { return !!doc.querySelector(selecting.getAttribute("hx-select")); }
    return !/<html[\s>]/i.test(xhr.responseText || "");  // a partial, not a whole error page
  }

  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr.status < 400) { return; }
    var elt = evt.detail.requestConfig ? evt.detail.requestConfig.elt : evt.target;
    if (xhr.status < 500 && swapsInto(elt, xhr)) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
      clearAlert(elt);
      return;
    }
    evt.detail.shouldSwap = false;
    showAlert(elt, messageOf(xhr));
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && xhr.status >= 200 && xhr.status < 400) { clearAlert(evt.detail.elt); }
  });

  document.addEventListener("htmx:sendError", function (evt) {
    showAlert(evt.detail.elt, "The portal could not be reached. Check your connection and try again; nothing was lost.");
  });
  document.addEventListener("htmx:timeout", function (evt) {
    showAlert(evt.detail.elt, "The portal took too long to answer. Try again.");
  });

  /* A form may refuse a file before sending it: <input type=file data-max-bytes="N">. */
  document.addEventListener("htmx:confirm", function (evt) {
    var form = evt.detail.elt.closest ? evt.detail.elt.closest("form") : null;
    if (!form) { return; }
    var inputs = form.querySelectorAll("input[type=file][data-max-bytes]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i], limit = parseInt(input.dataset.maxBytes, 10);
      if (input.files.length && input.files[0].size > limit) {
        evt.preventDefault();
        showAlert(form, input.dataset.tooLarge || "This file is too large.");
        return;
      }
    }
  });

  /* The dashboard's getting-started tour: hidden for good once the person hides it (this browser). */
  function applyTour() {
    var tour = document.querySelector("[data-tour]");
    if (!tour) { return; }
    var hidden = false;
    try { hidden = window.localStorage.getItem(tour.dataset.tour) === "1"; } catch (e) { /* private mode */ }
    tour.hidden = hidden;
    var again = document.querySelector(".tour-again");
    if (again) { again.hidden = !hidden; }
  }
  document.addEventListener("DOMContentLoaded", applyTour);
  document.addEventListener("click", function (evt) {
    var hide = evt.target.closest ? evt.target.closest("[data-tour-hide], [data-tour-show]") : null;
    var tour = document.querySelector("[data-tour]");
    if (!hide || !tour) { return; }
    try {
      if (hide.hasAttribute("data-tour-hide")) { window.localStorage.setItem(tour.dataset.tour, "1"); }
      else { window.localStorage.removeItem(tour.dataset.tour); }
    } catch (e) { /* private mode: hide for this page only */ tour.hidden = hide.hasAttribute("data-tour-hide"); return; }
    applyTour();
  });

  /* Copy buttons: <button type=button data-copy="#id-of-element-or-input">. */
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var source = document.querySelector(button.dataset.copy);
    if (!source) { return; }
    var text = source.value !== undefined ? source.value : source.textContent.trim();
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var area = document.createElement("textarea");
      area.value = text; document.body.appendChild(area); area.select();
      document.execCommand("copy"); area.remove(); done();
    }
  });
})();
