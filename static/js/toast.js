// In-app toasts: short notices in the corner of every page ("“Letter” is ready", "2 pages
// waiting for the network"), announced by screen readers through the aria-live region of
// base.html. window.notesToast(text, {href, linkText, timeout}) shows one; it closes by itself
// after `timeout` ms (0: stays until dismissed) or with its × button.
(function () {
  "use strict";
  window.notesToast = function (text, options) {
    const region = document.querySelector("[data-toasts]");
    if (!region) return null;
    const opts = options || {};
    const toast = document.createElement("div");
    toast.className = "toast";
    const message = document.createElement("span");
    message.textContent = text;
    toast.append(message);
    if (opts.href) {
      const link = document.createElement("a");
      link.href = opts.href;
      link.textContent = opts.linkText || "Open";
      toast.append(" ", link);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => toast.remove());
    toast.append(close);
    region.append(toast);
    const timeout = opts.timeout === undefined ? 8000 : opts.timeout;
    if (timeout) setTimeout(() => toast.remove(), timeout);
    return toast;
  };
})();
