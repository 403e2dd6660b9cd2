// Forms marked data-autosubmit send themselves as soon as a choice in them changes, and hide
// their submit button. A script file rather than an inline onchange handler: the site's
// Content-Security-Policy runs only script files it serves. Without JavaScript the button
// stays and submits the form.
(function () {
  "use strict";
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    form.addEventListener("change", () => form.requestSubmit());
    const button = form.querySelector("[data-autosubmit-button]");
    if (button) button.hidden = true;
  }
})();
