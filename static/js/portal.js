/*
 * Developer portal: small progressive enhancements. Every page works without it.
 * Loaded with `defer` from base.html; the CSP allows no inline script, so
 * behaviour is attached here through data attributes.
 *
 *   - Marks the current page's link in the account sidebar (and the matching
 *     main-nav link) with aria-current="page" when the server did not.
 *   - <button type="button" data-copy="#element-id">Copy</button> copies the
 *     value (inputs, textareas) or text of the target element: the one copy
 *     button of the portal (docs.js adds such buttons to code blocks). The result
 *     is announced in a [data-copy-status] live region when the page has one.
 *   - <details class="switcher"> menus close on Escape and on a click elsewhere.
 *   - <fieldset data-rows data-max-rows="N"> holding [data-row] blocks and a
 *     [data-add-row] submit button (which, without this script, asks the server
 *     for one more row): the button copies the last row in the page instead,
 *     empty, with its names, ids and labels numbered on, and focuses it.
 */
(function () {
  "use strict";

  var RESET_AFTER_MS = 2000;

  function samePath(a, b) {
    return a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
  }

  function markCurrentLinks() {
    var here = window.location.pathname;
    var sidebarLinks = document.querySelectorAll(".sidebar a[href]");
    var best = null;
    var bestLength = -1;
    sidebarLinks.forEach(function (link) {
      if (link.hasAttribute("aria-current")) {
        best = link;
        bestLength = Infinity;
        return;
      }
      var path = new URL(link.href, window.location.href).pathname;
      if (here.indexOf(path) === 0 && path.length > bestLength) {
        best = link;
        bestLength = path.length;
      }
    });
    if (best) {
      best.setAttribute("aria-current", "page");
    }

    var nav = document.querySelector(".site-nav");
    if (!nav || nav.querySelector("[aria-current]")) {
      return;
    }
    var navLinks = nav.querySelectorAll("a[href]:not(.button)");
    navLinks.forEach(function (link) {
      var path = new URL(link.href, window.location.href).pathname;
      var inSection = Array.prototype.some.call(sidebarLinks, function (side) {
        return samePath(new URL(side.href, window.location.href).pathname, path);
      });
      if (samePath(path, here) || (best && inSection)) {
        link.setAttribute("aria-current", "page");
      }
    });
  }

  function copyWithSelection(text) {
    var scratch = document.createElement("textarea");
    scratch.value = text;
    scratch.setAttribute("readonly", "");
    scratch.className = "visually-hidden";
    document.body.appendChild(scratch);
    var previousFocus = document.activeElement;
    scratch.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    document.body.removeChild(scratch);
    if (previousFocus && typeof previousFocus.focus === "function") {
      previousFocus.focus();
    }
    return copied;
  }

  // Resolves to whether the text reached the clipboard; never rejects.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () {
          return true;
        },
        function () {
          return copyWithSelection(text);
        }
      );
    }
    return Promise.resolve(copyWithSelection(text));
  }

  function announce(message) {
    var region = document.querySelector("[data-copy-status]");
    if (!region) {
      return;
    }
    // Clear first so that the same message is announced again on a second copy.
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  function setUpCopyButtons() {
    var resetTimers = new WeakMap();
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-copy]");
      if (!button) {
        return;
      }
      var target = document.querySelector(button.getAttribute("data-copy"));
      if (!target) {
        return;
      }
      var text = "value" in target ? target.value : target.textContent;
      var label = button.getAttribute("data-copy-label") || button.textContent;
      button.setAttribute("data-copy-label", label);
      // Leading newlines and trailing whitespace only: a code block keeps its indentation.
      copyText(text.replace(/^\n+|\s+$/g, "")).then(function (copied) {
        button.textContent = copied ? "Copied" : "Press Ctrl+C to copy";
        button.setAttribute("data-state", copied ? "copied" : "failed");
        announce(copied ? "Copied" : "Copy failed; select the text and copy it by hand");
        if (!copied && target.select) {
          target.select();
        }
        window.clearTimeout(resetTimers.get(button));
        resetTimers.set(button, window.setTimeout(function () {
          button.textContent = label;
          button.removeAttribute("data-state");
        }, RESET_AFTER_MS));
      });
    });
  }

  function setUpMenus() {
    function openMenus() {
      return document.querySelectorAll("details.switcher[open]");
    }
    document.addEventListener("click", function (event) {
      openMenus().forEach(function (menu) {
        if (!menu.contains(event.target)) {
          menu.removeAttribute("open");
        }
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") {
        return;
      }
      openMenus().forEach(function (menu) {
        menu.removeAttribute("open");
        var summary = menu.querySelector("summary");
        if (summary && menu.contains(document.activeElement)) {
          summary.focus();
        }
      });
    });
  }

  function renumber(row, index) {
    var pattern = /row-\d+-/g;
    var stamp = "row-" + index + "-";
    ["name", "id", "for", "aria-describedby"].forEach(function (attribute) {
      row.querySelectorAll("[" + attribute + "]").forEach(function (element) {
        element.setAttribute(attribute, element.getAttribute(attribute).replace(pattern, stamp));
      });
    });
    row.querySelectorAll("label").forEach(function (label) {
      label.textContent = label.textContent.replace(/\d+(\W*)$/, (index + 1) + "$1");
    });
  }

  function setUpRows() {
    // A plain button from here on, so that Enter in a field sends the form (the first
    // submit button) rather than adding a row.
    document.querySelectorAll("[data-rows] [data-add-row]").forEach(function (button) {
      button.type = "button";
    });
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-add-row]");
      var set = button && button.closest("[data-rows]");
      if (!set) {
        return;
      }
      event.preventDefault();
      var rows = set.querySelectorAll("[data-row]");
      var last = rows[rows.length - 1];
      var row = last.cloneNode(true);
      row.querySelectorAll(".errorlist").forEach(function (list) {
        list.remove();
      });
      row.querySelectorAll("[aria-invalid]").forEach(function (element) {
        element.removeAttribute("aria-invalid");
      });
      row.querySelectorAll("select").forEach(function (select) {
        select.selectedIndex = 0;
      });
      renumber(row, rows.length);
      last.after(row);
      var first = row.querySelector("select, input");
      if (first) {
        first.focus();
      }
      if (rows.length + 1 >= parseInt(set.getAttribute("data-max-rows"), 10)) {
        button.hidden = true;
      }
    });
  }

  markCurrentLinks();
  setUpCopyButtons();
  setUpMenus();
  setUpRows();
})();
