// The note page: what it does with the live status of its recognition (live-status.js polls),
// the header's revision link, and zoom and pan on the page image. The lines and their
// correction are note-lines.js; splitting, merging, moving and regions note-structure.js.
// Without JavaScript the page still shows everything and "Edit text" edits the whole text in a
// form.
(function () {
  "use strict";

  // Live status while recognition runs: live-status.js polls for every note on a page, this
  // one's status box included ([data-note-status]); here, what the note page does with it.
  const box = document.querySelector("[data-status-box]");
  if (box) {
    box.addEventListener("note-status", (event) => {
      const state = event.detail.state;
      if (state.status === "done" || state.status === "failed") {
        event.preventDefault(); // no toast: this page shows the note, read, once reloaded
        window.location.reload();
        return;
      }
      // The worker stored the first page image: show it instead of the upload's thumbnail.
      const preview = document.querySelector("[data-preview-image]");
      if (preview && state.preview && preview.getAttribute("src") !== state.preview) {
        preview.setAttribute("src", state.preview);
      }
    });
  }

  // The header's "revision N" link follows the saves of the lines (note-lines.js and
  // note-structure.js write the revision the server answered into [data-editor]).
  const editorBox = document.querySelector("[data-editor]");
  const revisionLink = document.querySelector("[data-revision-link]");
  if (editorBox && revisionLink) {
    const showRevision = () => {
      const revision = Number(editorBox.dataset.revision) || 0;
      revisionLink.querySelector("[data-revision-number]").textContent = String(revision);
      revisionLink.hidden = revision === 0;
    };
    new MutationObserver(showRevision).observe(editorBox,
      { attributes: true, attributeFilter: ["data-revision"] });
  }

  // Zoom and pan on the page image (the lines: note-lines.js; their structure:
  // note-structure.js) ------------------------------------------------------------------------
  const editor = document.querySelector("[data-editor]");
  if (!editor) return;

  editor.querySelectorAll("[data-viewer]").forEach((viewer) => {
    const svg = viewer.querySelector("svg");
    const full = { w: Number(svg.dataset.width), h: Number(svg.dataset.height) };
    let view = { x: 0, y: 0, w: full.w, h: full.h };
    const apply = () => {
      const zoomed = view.w < full.w;
      svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
      svg.style.touchAction = zoomed ? "none" : "pan-y";
      viewer.classList.toggle("zoomed", zoomed);
      // Region handles keep their size on screen (note-structure.js).
      svg.dispatchEvent(new CustomEvent("viewchange"));
    };
    const zoom = (factor, cx, cy) => {
      const w = Math.min(full.w, Math.max(full.w / 12, view.w / factor));
      const h = w * (full.h / full.w);
      const fx = cx === undefined ? 0.5 : cx;
      const fy = cy === undefined ? 0.5 : cy;
      view = clamp({ x: view.x + (view.w - w) * fx, y: view.y + (view.h - h) * fy, w: w, h: h });
      apply();
    };
    const clamp = (v) => ({
      x: Math.min(Math.max(0, v.x), full.w - v.w), y: Math.min(Math.max(0, v.y), full.h - v.h),
      w: v.w, h: v.h,
    });
    viewer.querySelectorAll("[data-zoom]").forEach((button) => button.addEventListener("click", () => {
      if (button.dataset.zoom === "fit") { view = { x: 0, y: 0, w: full.w, h: full.h }; apply(); }
      else zoom(button.dataset.zoom === "in" ? 1.5 : 1 / 1.5);
    }));
    svg.addEventListener("wheel", (event) => {
      if (!event.ctrlKey && view.w >= full.w) return; // let the page scroll until zoomed in
      event.preventDefault();
      const box = svg.getBoundingClientRect();
      zoom(event.deltaY < 0 ? 1.2 : 1 / 1.2, (event.clientX - box.left) / box.width,
           (event.clientY - box.top) / box.height);
    }, { passive: false });
    let drag = null;
    let dragged = false; // a drag ends with a click, which must not open a line
    svg.addEventListener("pointerdown", (event) => {
      if (view.w >= full.w) return;
      drag = { x: event.clientX, y: event.clientY, view: view, moved: false };
      svg.setPointerCapture(event.pointerId);
    });
    svg.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const box = svg.getBoundingClientRect();
      const scale = drag.view.w / box.width;
      const dx = (event.clientX - drag.x) * scale;
      const dy = (event.clientY - drag.y) * scale;
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
      view = clamp({ x: drag.view.x - dx, y: drag.view.y - dy, w: view.w, h: view.h });
      apply();
    });
    svg.addEventListener("pointerup", () => { dragged = Boolean(drag && drag.moved); drag = null; });
    svg.addEventListener("click", (event) => {
      if (dragged) event.stopPropagation();
      dragged = false;
    }, true);
    apply();
  });
})();
