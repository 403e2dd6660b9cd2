// The note page: live recognition status; lines linked to their regions on the image; inline
// correction of lines (saved one by one, refused with the current text if someone else changed
// the line meanwhile); zoom and pan on the page image. Without JavaScript the page still shows
// everything and "Edit text" edits the whole text in a form.
(function () {
  "use strict";

  // Live status while recognition runs ---------------------------------------------------------
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

  // Lines and regions --------------------------------------------------------------------------
  const editor = document.querySelector("[data-editor]");
  if (!editor) return;
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const items = Array.from(editor.querySelectorAll("li[data-line]"));

  const select = (id, scroll) => {
    editor.querySelectorAll(".active").forEach((el) => el.classList.remove("active"));
    editor.querySelectorAll('[data-line="' + id + '"]').forEach((el) => el.classList.add("active"));
    if (scroll) {
      const region = document.getElementById("region-" + id);
      if (region) region.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  };

  editor.querySelectorAll("polygon[data-line]").forEach((region) => {
    region.addEventListener("click", () => {
      const item = items.find((li) => li.dataset.line === region.dataset.line);
      select(region.dataset.line, false);
      if (item) {
        item.scrollIntoView({ block: "nearest", behavior: "smooth" });
        edit(item);
      }
    });
  });

  // Inline editing -----------------------------------------------------------------------------
  const editable = editor.dataset.editable === "1";

  const edit = (item) => {
    select(item.dataset.line, true);
    if (!editable || item.querySelector("input")) {
      const input = item.querySelector("input");
      if (input) input.focus();
      return;
    }
    const input = document.createElement("input");
    input.type = "text";
    input.value = item.dataset.text;
    input.setAttribute("aria-label", "Line text");
    const shown = item.querySelector(".text");
    shown.hidden = true;
    item.append(input);
    input.focus();
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        save(item, input.value).then((ok) => {
          if (!ok) return;
          const next = items[items.indexOf(item) + (event.shiftKey ? -1 : 1)];
          if (next) edit(next);
        });
      } else if (event.key === "Escape") {
        close(item);
      }
    });
    input.addEventListener("blur", () => {
      // Save what was typed when the person clicks elsewhere (not when a save moved focus on).
      setTimeout(() => { if (item.contains(input) && document.activeElement !== input) save(item, input.value); }, 150);
    });
  };

  const close = (item) => {
    const input = item.querySelector("input");
    if (input) input.remove();
    const problem = item.querySelector(".conflict");
    if (problem) problem.remove();
    item.querySelector(".text").hidden = false;
  };

  const save = async (item, text, revision) => {
    if (text === item.dataset.text) {
      close(item);
      return true;
    }
    item.classList.add("saving");
    try {
      const response = await fetch(item.dataset.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ text: text, revision: Number(revision || editor.dataset.revision) }),
      });
      const isJson = (response.headers.get("Content-Type") || "").includes("application/json");
      const body = isJson ? await response.json() : {};
      if (response.ok) {
        editor.dataset.revision = body.revision;
        item.dataset.text = body.line.text;
        item.querySelector(".text").textContent = body.line.text;
        item.classList.toggle("corrected", body.line.corrected);
        if (body.line.corrected) {
          // A line that was located but not read is now typed in: no longer marked "not read".
          item.classList.remove("unread");
          const region = document.getElementById("region-" + item.dataset.line);
          if (region) region.classList.remove("unread");
        }
        item.title = body.line.corrected ? "corrected by hand" : item.title;
        close(item);
        return true;
      }
      // Errors: {"error": {"code", "message", "fields"}}; a conflict adds the current state.
      const error = body.error || {};
      if (response.status === 409 && error.current_lines) {
        conflict(item, text, error.current_revision, error.current_lines[item.dataset.line]);
      } else {
        problem(item, error.message || "The line could not be saved (" + response.status + ").");
      }
    } catch (error) {
      problem(item, "The line could not be saved: " + error.message);
    } finally {
      item.classList.remove("saving");
    }
    return false;
  };

  const problem = (item, message) => {
    let note = item.querySelector(".conflict");
    if (!note) {
      note = document.createElement("div");
      note.className = "conflict";
      item.append(note);
    }
    note.replaceChildren(document.createTextNode(message));
    return note;
  };

  // Someone changed this line since the page was loaded: show theirs, let the person choose.
  const conflict = (item, mine, revision, current) => {
    const note = problem(item, "Changed elsewhere to: ");
    const theirs = document.createElement("q");
    theirs.textContent = current;
    const keep = document.createElement("button");
    keep.type = "button";
    keep.textContent = "Keep mine";
    keep.addEventListener("click", () => save(item, item.querySelector("input").value, revision));
    const take = document.createElement("button");
    take.type = "button";
    take.className = "secondary";
    take.textContent = "Use theirs";
    take.addEventListener("click", () => {
      item.dataset.text = current;
      item.querySelector(".text").textContent = current;
      editor.dataset.revision = Math.max(Number(editor.dataset.revision), revision);
      close(item);
    });
    note.append(theirs, " ", keep, " ", take);
  };

  items.forEach((item) => {
    item.addEventListener("click", (event) => {
      if (event.target.closest("button, input")) return;
      edit(item);
    });
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target === item) {
        event.preventDefault();
        edit(item);
      }
    });
  });

  // Zoom and pan on the page image -------------------------------------------------------------
  editor.querySelectorAll("[data-viewer]").forEach((viewer) => {
    const svg = viewer.querySelector("svg");
    const full = { w: Number(svg.dataset.width), h: Number(svg.dataset.height) };
    let view = { x: 0, y: 0, w: full.w, h: full.h };
    const apply = () => {
      const zoomed = view.w < full.w;
      svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
      svg.style.touchAction = zoomed ? "none" : "pan-y";
      viewer.classList.toggle("zoomed", zoomed);
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
