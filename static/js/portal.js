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

  markCurrentLinks();
  setUpCopyButtons();
  setUpMenus();
})();
