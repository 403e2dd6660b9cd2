// The note page: live recognition status, and lines linked to their regions on the image.
(function () {
  const box = document.querySelector("[data-status-url]");
  if (box && ["queued", "processing"].includes(box.dataset.status)) {
    const label = box.querySelector("[data-status-label]");
    const bar = box.querySelector("[data-progress]");
    const text = box.querySelector("[data-progress-text]");
    const poll = async () => {
      try {
        const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
        if (response.ok) {
          const state = await response.json();
          label.textContent = state.status;
          label.className = "status status-" + state.status;
          if (bar) bar.value = state.progress;
          if (text) text.textContent = state.pages_done + " / " + state.pages_total + " pages";
          if (state.status === "done" || state.status === "failed") {
            window.location.reload();
            return;
          }
        }
      } catch (error) { /* the next poll tries again */ }
      setTimeout(poll, 2000);
    };
    setTimeout(poll, 1500);
  }

  const select = (id) => {
    document.querySelectorAll(".active").forEach((el) => el.classList.remove("active"));
    document.querySelectorAll('[data-line="' + id + '"]').forEach((el) => el.classList.add("active"));
  };
  document.querySelectorAll("[data-line]").forEach((el) => {
    el.addEventListener("click", () => {
      select(el.dataset.line);
      const partner = el.tagName.toLowerCase() === "polygon"
        ? document.querySelector('li[data-line="' + el.dataset.line + '"]')
        : document.getElementById("region-" + el.dataset.line);
      if (partner) partner.scrollIntoView({ block: "nearest", behavior: "smooth" });
    });
  });
})();
