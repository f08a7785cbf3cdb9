/* Documentation pages: a "Copy" button on every code block.
   Progressive enhancement: without JavaScript the code stays selectable as usual.
   The button is an ordinary data-copy button: portal.js copies and announces.
   Loaded with `defer` from templates/docs/layout.html; no inline script (CSP). */
(function () {
  "use strict";

  var nextId = 1;

  function freshId() {
    var id;
    do {
      id = "docs-code-" + nextId;
      nextId += 1;
    } while (document.getElementById(id));
    return id;
  }

  function addCopyButton(block) {
    var code = block.querySelector("pre code") || block.querySelector("pre");
    if (!code || block.querySelector(".docs-copy")) {
      return;
    }
    if (!code.id) {
      code.id = freshId();
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "docs-copy";
    button.textContent = "Copy";
    button.setAttribute("data-copy", "#" + code.id);
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
