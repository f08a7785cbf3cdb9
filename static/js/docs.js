/* Documentation pages: a "Copy" button on every code block.
   Progressive enhancement: without JavaScript the code stays selectable as usual.
   Loaded with `defer` from templates/docs/layout.html; no inline script (CSP). */
(function () {
  "use strict";

  var RESET_AFTER_MS = 2000;

  function announce(message) {
    var region = document.getElementById("docs-live");
    if (!region) {
      return;
    }
    // Clear first so that the same message is announced again on a second copy.
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  function copyWithSelection(text) {
    var textarea = document.createElement("textarea");
    textarea.value = text;
    textarea.setAttribute("readonly", "");
    textarea.className = "visually-hidden";
    document.body.appendChild(textarea);
    var previousFocus = document.activeElement;
    textarea.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    document.body.removeChild(textarea);
    if (previousFocus && typeof previousFocus.focus === "function") {
      previousFocus.focus();
    }
    return copied;
  }

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

  function addCopyButton(block) {
    var code = block.querySelector("pre code") || block.querySelector("pre");
    if (!code || block.querySelector(".docs-copy")) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "docs-copy";
    button.textContent = "Copy";
    var resetTimer = null;

    button.addEventListener("click", function () {
      copyText(code.textContent.replace(/\n$/, "")).then(function (copied) {
        button.textContent = copied ? "Copied" : "Copy failed";
        button.setAttribute("data-state", copied ? "copied" : "failed");
        announce(copied ? "Copied" : "Copy failed; select the code and copy it by hand");
        window.clearTimeout(resetTimer);
        resetTimer = window.setTimeout(function () {
          button.textContent = "Copy";
          button.removeAttribute("data-state");
        }, RESET_AFTER_MS);
      });
    });

    block.classList.add("has-copy");
    block.insertBefore(button, block.firstChild);
  }

  function init() {
    var blocks = document.querySelectorAll(".docs-body .highlight");
    Array.prototype.forEach.call(blocks, addCopyButton);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
