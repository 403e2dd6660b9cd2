// The phone capture page (recognition/capture_views.py): photograph pages one after the other,
// check them as thumbnails, turn, crop, retake, reorder or delete any, then send them all as
// ONE note. Each photo is shrunk here to the page's data-max-side (phones take 12 MP photos;
// recognition needs far less) and sent with its rotation and crop, which the server applies.
// Without network the note waits in this phone's offline queue (static/js/pwa.js).
(function () {
  "use strict";
  const form = document.querySelector("[data-capture]");
  if (!form || !window.FormData || !window.HTMLCanvasElement) return;
  const $ = (selector) => form.querySelector(selector);
  const app = $("[data-app]");
  const fallback = $("[data-fallback]");
  const camera = $("[data-camera]");
  const gallery = $("[data-gallery]");
  const takeButton = $("[data-take]");
  const list = $("[data-pages]");
  const empty = $("[data-empty]");
  const errors = $("[data-errors]");
  const status = $("[data-status]");
  const submit = $("[data-submit]");
  const titleInput = form.elements.title;
  const maxPages = Number(form.dataset.maxPages) || 20;
  const maxSide = Number(form.dataset.maxSide) || 3000;
  const maxBytes = Number(form.dataset.maxBytes) || 25 * 1024 * 1024;
  const PREVIEW_SIDE = 1000;
  const THUMB_SIDE = 240;
  const MIN_CROP = 0.05;  // of the photo's side: smaller is a slip of the finger
  const QUEUED = "Saved on this phone; it will upload when you are back online.";

  // {blob, preview: canvas | null (a photo this browser cannot show: HEIC), rotation, crop}
  const pages = [];
  let retaking = null;  // the index of the page a photo from the camera replaces
  let refocus = null;  // [index, action] of the button to focus after the list is redrawn

  fallback.hidden = true;
  fallback.querySelector("input").disabled = true;
  app.hidden = false;

  function say(text, kind) {
    status.textContent = text;
    status.className = "capture-status" + (kind ? " " + kind : "");
  }

  function showErrors(messages) {
    errors.replaceChildren(...messages.map((message) => {
      const item = document.createElement("li");
      item.textContent = message;
      return item;
    }));
    errors.hidden = messages.length === 0;
  }

  function canvasOf(width, height) {
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(width));
    canvas.height = Math.max(1, Math.round(height));
    return canvas;
  }

  function scaled(source, width, height, longest) {
    const scale = Math.min(1, longest / Math.max(width, height));
    const canvas = canvasOf(width * scale, height * scale);
    canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  // The photo upright (its EXIF orientation applied by the browser) and shrunk, as a JPEG.
  async function prepare(file) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (error) {
      return { blob: file, preview: null, rotation: 0, crop: null };  // sent as it is
    }
    const full = scaled(bitmap, bitmap.width, bitmap.height, maxSide);
    const preview = scaled(full, full.width, full.height, PREVIEW_SIDE);
    bitmap.close();
    return { blob: (await compact(full)) || file, preview: preview, rotation: 0, crop: null };
  }

  // A JPEG within this page's share of the size limit of one note (all its pages together):
  // a lower quality first, then fewer pixels.
  async function compact(canvas) {
    const budget = maxBytes / maxPages;
    let source = canvas;
    let blob = null;
    for (let attempt = 0; attempt < 6; attempt += 1) {
      blob = await new Promise((resolve) => source.toBlob(resolve, "image/jpeg", attempt ? 0.75 : 0.9));
      if (!blob || blob.size <= budget || Math.max(source.width, source.height) < 1000) break;
      if (attempt) source = scaled(source, source.width, source.height, Math.max(source.width, source.height) * 0.8);
    }
    return blob;
  }

  // The preview turned by `rotation` degrees clockwise.
  function turned(preview, rotation) {
    const sideways = rotation % 180 !== 0;
    const canvas = canvasOf(sideways ? preview.height : preview.width,
                            sideways ? preview.width : preview.height);
    const context = canvas.getContext("2d");
    context.translate(canvas.width / 2, canvas.height / 2);
    context.rotate(rotation * Math.PI / 180);
    context.drawImage(preview, -preview.width / 2, -preview.height / 2);
    return canvas;
  }

  function thumbnail(page, number) {
    if (!page.preview) {
      const box = document.createElement("span");
      box.className = "no-preview";
      box.textContent = "No preview";
      return box;
    }
    const upright = turned(page.preview, page.rotation);
    const crop = page.crop || { left: 0, top: 0, width: 1, height: 1 };
    const sx = crop.left * upright.width;
    const sy = crop.top * upright.height;
    const sw = crop.width * upright.width;
    const sh = crop.height * upright.height;
    const scale = THUMB_SIDE / Math.max(sw, sh);
    const canvas = canvasOf(sw * scale, sh * scale);
    canvas.getContext("2d").drawImage(upright, sx, sy, sw, sh, 0, 0, canvas.width, canvas.height);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Page " + number +
                        (page.rotation ? ", turned " + page.rotation + "°" : "") +
                        (page.crop ? ", cropped" : ""));
    canvas.dataset.rotation = String(page.rotation);
    return canvas;
  }

  function tool(label, action, index, options) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.dataset.action = action;
    button.setAttribute("aria-label", label + " page " + (index + 1));
    if (options && options.danger) button.className = "danger";
    if (options && options.disabled) button.disabled = true;
    button.addEventListener("click", () => act(action, index));
    return button;
  }

  function render() {
    list.replaceChildren(...pages.map((page, index) => {
      const item = document.createElement("li");
      item.className = "capture-page";
      item.dataset.page = String(index + 1);
      const name = document.createElement("p");
      name.className = "page-name";
      name.textContent = "Page " + (index + 1);
      const tools = document.createElement("div");
      tools.className = "page-tools";
      tools.append(
        tool("Rotate", "rotate", index),
        tool("Crop", "crop", index, { disabled: !page.preview }),
        tool("Retake", "retake", index),
        tool("Up", "up", index, { disabled: index === 0 }),
        tool("Down", "down", index, { disabled: index === pages.length - 1 }),
        tool("Delete", "delete", index, { danger: true }));
      const body = document.createElement("div");
      body.append(name, tools);
      item.append(thumbnail(page, index + 1), body);
      return item;
    }));
    empty.hidden = pages.length > 0;
    takeButton.disabled = pages.length >= maxPages;
    if (refocus) {
      const [index, action] = refocus;
      const target = list.querySelector(`[data-page="${index + 1}"] [data-action="${action}"]`);
      (target && !target.disabled ? target : takeButton).focus();
      refocus = null;
    }
  }

  // A crop turned with its page, 90° clockwise: (x, y) -> (1 - y, x).
  function turnedCrop(crop) {
    if (!crop) return null;
    return { left: 1 - crop.top - crop.height, top: crop.left, width: crop.height, height: crop.width };
  }

  function act(action, index) {
    const page = pages[index];
    if (action === "rotate") {
      page.rotation = (page.rotation + 90) % 360;
      page.crop = turnedCrop(page.crop);
      say("Page " + (index + 1) + " turned to " + page.rotation + "°.");
    } else if (action === "crop") {
      editor.open(index);
      return;
    } else if (action === "retake") {
      retaking = index;
      camera.value = "";
      camera.click();
      return;
    } else if (action === "up" || action === "down") {
      const other = action === "up" ? index - 1 : index + 1;
      [pages[index], pages[other]] = [pages[other], pages[index]];
      say("Page " + (index + 1) + " is now page " + (other + 1) + ".");
      refocus = [other, action];
    } else if (action === "delete") {
      pages.splice(index, 1);
      say("Page " + (index + 1) + " deleted; " + pages.length + " page(s) left.");
      refocus = [Math.min(index, pages.length - 1), "delete"];
    }
    if (!refocus) refocus = [index, action];
    render();
  }

  async function addFiles(files, replacing) {
    const chosen = Array.from(files || []);
    if (!chosen.length) return;
    showErrors([]);
    if (replacing !== null) {
      pages[replacing] = await prepare(chosen[0]);
      say("Page " + (replacing + 1) + " retaken.");
      refocus = [replacing, "retake"];
    } else {
      const room = maxPages - pages.length;
      for (const file of chosen.slice(0, room)) pages.push(await prepare(file));
      say(pages.length + " page(s) in this note." +
          (chosen.length > room ? " One note holds at most " + maxPages + " pages." : ""));
    }
    render();
  }

  $("[data-take]").addEventListener("click", () => {
    retaking = null;
    camera.value = "";
    camera.click();
  });
  $("[data-pick]").addEventListener("click", () => {
    gallery.value = "";
    gallery.click();
  });
  camera.addEventListener("change", () => {
    const replacing = retaking;
    retaking = null;
    addFiles(camera.files, replacing);
  });
  gallery.addEventListener("change", () => addFiles(gallery.files, null));

  // The crop editor: a rectangle drawn, moved or resized with a finger or a mouse (pointer
  // events) on the turned photo, or set edge by edge with the number fields.
  const editor = (function () {
    const dialog = form.querySelector("[data-editor]");
    const canvas = dialog.querySelector("[data-crop-canvas]");
    const trims = Array.from(dialog.querySelectorAll("[data-trim]"));
    let index = null;
    let upright = null;
    let rect = null;  // {left, top, width, height}, fractions of the turned photo
    let drag = null;  // {mode, start, from}

    const whole = () => ({ left: 0, top: 0, width: 1, height: 1 });
    const clamp = (value, low, high) => Math.min(high, Math.max(low, value));
    const colour = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

    function draw() {
      const context = canvas.getContext("2d");
      const w = canvas.width;
      const h = canvas.height;
      context.drawImage(upright, 0, 0);
      const x = rect.left * w;
      const y = rect.top * h;
      const rw = rect.width * w;
      const rh = rect.height * h;
      context.save();
      context.globalAlpha = 0.55;
      context.fillStyle = colour("--ink") || "black";
      context.fillRect(0, 0, w, y);
      context.fillRect(0, y + rh, w, h - y - rh);
      context.fillRect(0, y, x, rh);
      context.fillRect(x + rw, y, w - x - rw, rh);
      context.restore();
      const handle = Math.max(8, Math.max(w, h) * 0.025);
      context.strokeStyle = colour("--accent") || "blue";
      context.lineWidth = Math.max(2, handle / 4);
      context.strokeRect(x, y, rw, rh);
      context.fillStyle = colour("--surface") || "white";
      for (const [cx, cy] of [[x, y], [x + rw, y], [x, y + rh], [x + rw, y + rh]]) {
        context.fillRect(cx - handle / 2, cy - handle / 2, handle, handle);
        context.strokeRect(cx - handle / 2, cy - handle / 2, handle, handle);
      }
    }

    function syncTrims() {
      const values = { left: rect.left, top: rect.top, right: 1 - rect.left - rect.width,
                       bottom: 1 - rect.top - rect.height };
      for (const input of trims) input.value = String(Math.round(values[input.dataset.trim] * 100));
    }

    function fromTrims() {
      const value = (edge) => clamp(Number(trims.find((t) => t.dataset.trim === edge).value) / 100 || 0, 0, 0.95);
      const left = value("left");
      const top = value("top");
      rect = { left: left, top: top, width: Math.max(MIN_CROP, 1 - left - value("right")),
               height: Math.max(MIN_CROP, 1 - top - value("bottom")) };
      rect.left = Math.min(rect.left, 1 - rect.width);
      rect.top = Math.min(rect.top, 1 - rect.height);
      draw();
    }

    function point(event) {
      const box = canvas.getBoundingClientRect();
      return { x: clamp((event.clientX - box.left) / box.width, 0, 1),
               y: clamp((event.clientY - box.top) / box.height, 0, 1), box: box };
    }

    // What a press at `p` grabs: a corner (within a fingertip), the inside, or nothing.
    function grab(p) {
      const reachX = 24 / p.box.width;
      const reachY = 24 / p.box.height;
      const right = rect.left + rect.width;
      const bottom = rect.top + rect.height;
      const corners = { nw: [rect.left, rect.top], ne: [right, rect.top],
                        sw: [rect.left, bottom], se: [right, bottom] };
      for (const [name, [cx, cy]] of Object.entries(corners)) {
        if (Math.abs(p.x - cx) <= reachX && Math.abs(p.y - cy) <= reachY) return name;
      }
      const inside = p.x > rect.left && p.x < right && p.y > rect.top && p.y < bottom;
      const cropped = rect.width < 1 || rect.height < 1;  // the whole photo cannot move
      return inside && cropped ? "move" : "new";
    }

    function dragged(p) {
      const from = drag.from;
      if (drag.mode === "move") {
        return { left: clamp(from.left + p.x - drag.start.x, 0, 1 - from.width),
                 top: clamp(from.top + p.y - drag.start.y, 0, 1 - from.height),
                 width: from.width, height: from.height };
      }
      let left = from.left;
      let top = from.top;
      let right = from.left + from.width;
      let bottom = from.top + from.height;
      if (drag.mode === "new") {
        [left, right] = [Math.min(drag.start.x, p.x), Math.max(drag.start.x, p.x)];
        [top, bottom] = [Math.min(drag.start.y, p.y), Math.max(drag.start.y, p.y)];
      } else {
        if (drag.mode.includes("w")) left = Math.min(p.x, right - MIN_CROP);
        if (drag.mode.includes("e")) right = Math.max(p.x, left + MIN_CROP);
        if (drag.mode.includes("n")) top = Math.min(p.y, bottom - MIN_CROP);
        if (drag.mode.includes("s")) bottom = Math.max(p.y, top + MIN_CROP);
      }
      return { left: left, top: top, width: right - left, height: bottom - top };
    }

    canvas.addEventListener("pointerdown", (event) => {
      const p = point(event);
      drag = { mode: grab(p), start: p, from: Object.assign({}, rect) };
      canvas.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drag) return;
      rect = dragged(point(event));
      draw();
    });
    const release = () => {
      if (!drag) return;
      if (rect.width < MIN_CROP || rect.height < MIN_CROP) rect = drag.from;  // a tap, not a crop
      drag = null;
      draw();
      syncTrims();
    };
    canvas.addEventListener("pointerup", release);
    canvas.addEventListener("pointercancel", release);
    for (const input of trims) input.addEventListener("input", fromTrims);
    dialog.querySelector("[data-crop-reset]").addEventListener("click", () => {
      rect = whole();
      draw();
      syncTrims();
    });
    dialog.querySelector("[data-crop-done]").addEventListener("click", () => {
      const full = rect.left <= 0.001 && rect.top <= 0.001 && rect.width >= 0.999 && rect.height >= 0.999;
      pages[index].crop = full ? null : rect;
      say("Page " + (index + 1) + (full ? " is not cropped." : " cropped."));
      refocus = [index, "crop"];
      dialog.close();
      render();
    });
    dialog.addEventListener("cancel", () => { refocus = [index, "crop"]; });
    dialog.addEventListener("close", () => { if (refocus) render(); });

    return {
      open(pageIndex) {
        index = pageIndex;
        const page = pages[index];
        upright = turned(page.preview, page.rotation);
        canvas.width = upright.width;
        canvas.height = upright.height;
        rect = page.crop ? Object.assign({}, page.crop) : whole();
        dialog.querySelector("[data-editor-title]").textContent = "Crop page " + (index + 1);
        draw();
        syncTrims();
        dialog.showModal();
      },
    };
  })();

  // Sending ------------------------------------------------------------------------------------

  function entries() {
    const fields = [
      { name: "title", value: titleInput.value },
      { name: "collection", value: form.elements.collection.value },
      { name: "owner", value: form.dataset.owner },
    ];
    pages.forEach((page, index) => {
      const crop = page.crop;
      fields.push(
        { name: "page", blob: page.blob, filename: "page-" + (index + 1) + ".jpg" },
        { name: "rotation", value: String(page.rotation) },
        { name: "crop", value: crop ? [crop.left, crop.top, crop.width, crop.height].map((n) => n.toFixed(5)).join(",") : "" });
    });
    return fields;
  }

  function formData(fields) {
    const data = new FormData();
    for (const field of fields) {
      if (field.blob) data.append(field.name, field.blob, field.filename);
      else data.append(field.name, field.value);
    }
    return data;
  }

  function label() {
    return titleInput.value.trim() ||
      pages.length + " page(s) captured " + new Date().toLocaleString();
  }

  function clear() {
    pages.length = 0;
    titleInput.value = "";
    render();
  }

  async function queue(fields) {
    if (!window.notesQueue || !window.indexedDB) {
      say("No network, and this browser cannot keep the pages for later. Try again when you are online.", "error");
      return;
    }
    try {
      await window.notesQueue.add({ url: form.action, label: label(), entries: fields });
    } catch (error) {
      say("No network, and the pages could not be saved on this phone: " + error.message, "error");
      return;
    }
    clear();
    say(QUEUED, "queued");
    window.notesToast(QUEUED, { timeout: 10000 });
  }

  function busy(on) {
    submit.disabled = on;
    submit.textContent = on ? "Uploading…" : "Upload as one note";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showErrors([]);
    if (!pages.length) {
      showErrors(["Take a photo of at least one page."]);
      return;
    }
    const fields = entries();
    if (!navigator.onLine) {
      await queue(fields);
      return;
    }
    busy(true);
    say("Uploading " + pages.length + " page(s)…");
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST", body: formData(fields), credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
      });
    } catch (error) {  // no network after all
      busy(false);
      await queue(fields);
      return;
    }
    const isJson = (response.headers.get("Content-Type") || "").includes("application/json");
    const body = isJson ? await response.json().catch(() => ({})) : {};
    if (response.status === 201) {
      say("Uploaded; opening the note…");
      window.location.assign(body.redirect);
      return;
    }
    busy(false);
    // Errors: {"error": {"code", "message", "fields": {field: [messages]}}}.
    const error = body.error || { message: "The upload failed (" + response.status + " " + response.statusText + ")." };
    const listed = Object.values(error.fields || {}).flat();
    showErrors(listed.length ? listed : [error.message]);
    say("Not uploaded: " + (error.message || "see above"), "error");
  });

  render();
})();
