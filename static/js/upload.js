// Drag-and-drop upload: posts the chosen files with the form, shows the server's messages.
// Without JavaScript the form posts normally.
(function () {
  for (const form of document.querySelectorAll("[data-upload]")) {
    const zone = form.querySelector("[data-dropzone]");
    const input = form.querySelector("input[type=file]");
    const errors = form.querySelector("[data-errors]");
    const button = form.querySelector("button[type=submit]");

    // A collapsed upload panel (Home, a collection) opens when files are dragged over it.
    const panel = form.closest("[data-upload-panel]");
    if (panel) panel.addEventListener("dragenter", () => { panel.open = true; });

    ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      input.files = event.dataTransfer.files;
      form.requestSubmit();
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      button.textContent = "Uploading…";
      errors.hidden = true;
      errors.replaceChildren();
      try {
        const response = await fetch(form.action, {
          method: "POST", body: new FormData(form), headers: { Accept: "application/json" },
        });
        const isJson = (response.headers.get("Content-Type") || "").includes("application/json");
        const body = isJson ? await response.json() : {};
        if (response.ok) {
          // The server has queued "N notes uploaded" for the page it sends us to.
          window.location.assign(body.redirect);
          return;
        }
        // Errors: {"error": {"code", "message", "fields": {field: [messages]}}}; every field
        // message is listed (one per refused file), else the message.
        const error = body.error || {
          message: "The upload failed (" + response.status + " " + response.statusText + ").",
        };
        const listed = Object.values(error.fields || {}).flat();
        for (const message of listed.length ? listed : [error.message || "The upload failed."]) {
          const item = document.createElement("li");
          item.textContent = message;
          errors.append(item);
        }
        errors.hidden = false;
      } catch (error) {
        errors.textContent = "The upload failed: " + error.message;
        errors.hidden = false;
      }
      button.disabled = false;
      button.textContent = "Upload";
    });
  }
})();
