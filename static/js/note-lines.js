// The note page's lines: each line linked to its region on the image, corrected inline (saved
// one by one, refused with the current text if someone else changed it meanwhile). The line
// being edited shows its handwriting above the box (phones scroll the page image out of view);
// F8 / Shift+F8 walk through the words the recognizer was unsure of, and their alternative
// readings are buttons (Alt+1…9) instead of a tooltip that touch screens never show.
//
// The server renders every line (the page works without JavaScript); this script reads that
// into a model ({id, page, text, words, flags, polygon, ...}) and from then on renders lines and
// regions from the model, so that note-structure.js can replace a page's lines after a split,
// a merge or a move. It exposes what that script needs as `window.NoteLines`.
(function () {
  "use strict";

  const editor = document.querySelector("[data-editor]");
  if (!editor) return;
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const editable = editor.dataset.editable === "1";
  const statusBox = document.querySelector("[data-editor-status]");
  const narrow = window.matchMedia("(max-width: 800px)");
  const SVG = "http://www.w3.org/2000/svg";
  const LINE_IMAGE_REM = 3.2; // the smallest height of the line's image above its box

  // URLs are rendered for line 0 ("/lines/0/..."): put the line's id in its place.
  const urlFor = (template, id) => template.replace(/\/0\/(?!.*\/0\/)/, "/" + id + "/");

  // The model --------------------------------------------------------------------------------
  const lines = new Map(); // line id (string) -> line
  const pages = []; // {number, section, list, svg, width, height, image, ids}

  const pointsOf = (attribute) => (attribute || "").trim().split(/\s+/).filter(Boolean)
    .map((pair) => pair.split(",").map(Number));

  // Which words the server marked as unsure: it alone knows the confidence threshold.
  const flagsOf = (shown) => {
    const flags = [];
    shown.childNodes.forEach((node) => {
      if (node.nodeType === Node.TEXT_NODE) {
        (node.textContent.match(/\S+/g) || []).forEach(() => flags.push(false));
      } else {
        flags.push(node.classList.contains("doubt"));
      }
    });
    return flags;
  };

  const wordsMatch = (line) => line.words.length > 0
    && line.words.map((word) => word.text).join(" ") === line.text;

  // The indexes of the line's unsure words; a line a person edited has none (as on the server).
  const doubtsOf = (line) => {
    if (line.corrected || !wordsMatch(line)) return [];
    return line.words.map((word, index) => index).filter((index) => line.flags[index]);
  };

  const alternativesOf = (word) => {
    const seen = new Set([word.text]);
    return (word.alternatives || []).map((a) => a.text).filter((text) => {
      if (seen.has(text)) return false;
      seen.add(text);
      return true;
    });
  };

  editor.querySelectorAll("section.page").forEach((section) => {
    const svg = section.querySelector(".viewer svg");
    const page = {
      number: Number(section.dataset.page), section: section, list: section.querySelector("ol.lines"),
      svg: svg, width: Number(svg.dataset.width), height: Number(svg.dataset.height),
      image: section.dataset.image, insertUrl: section.dataset.insertUrl, ids: [],
      empty: (section.querySelector("li.empty") || { textContent: "No lines on this page." }).textContent,
    };
    section.querySelectorAll("li[data-line]").forEach((item) => {
      const data = item.querySelector('script[type="application/json"]');
      const region = document.getElementById("region-" + item.dataset.line);
      lines.set(item.dataset.line, {
        id: item.dataset.line, page: page.number, text: item.dataset.text,
        corrected: item.dataset.corrected === "1", read: item.dataset.read === "1",
        confidence: Number(item.dataset.confidence), words: data ? JSON.parse(data.textContent) : [],
        flags: flagsOf(item.querySelector(".text")),
        polygon: region ? pointsOf(region.getAttribute("points")) : [],
      });
      page.ids.push(item.dataset.line);
    });
    pages.push(page);
  });

  const order = () => pages.flatMap((page) => page.ids);
  const pageOf = (line) => pages.find((page) => page.number === line.page);
  const itemOf = (id) => editor.querySelector('li[data-line="' + id + '"]');

  // Rendering --------------------------------------------------------------------------------
  const fillText = (shown, line) => {
    shown.replaceChildren();
    if (!line.read && !line.corrected) return;
    if (line.corrected || !wordsMatch(line)) {
      shown.textContent = line.text || "…";
      return;
    }
    line.words.forEach((word, index) => {
      if (index) shown.append(" ");
      if (!line.flags[index]) {
        shown.append(word.text);
        return;
      }
      const others = alternativesOf(word);
      const mark = document.createElement("span");
      mark.className = "doubt";
      mark.dataset.word = index;
      mark.title = Math.round(word.confidence * 100) + "% sure" + (others.length ? "; or: " + others.join(", ") : "");
      mark.textContent = word.text;
      shown.append(mark);
    });
  };

  const renderItem = (line) => {
    const item = document.createElement("li");
    item.id = "line-" + line.id; // a search hit links here (#line-<id>)
    item.dataset.line = line.id;
    item.dataset.text = line.text;
    item.dataset.url = urlFor(editor.dataset.lineUrl, line.id);
    item.tabIndex = 0;
    if (line.corrected) item.classList.add("corrected");
    else if (!line.read) item.classList.add("unread");
    item.title = line.corrected ? "corrected by hand"
      : !line.read ? "not read: the page's reading time ran out; type the line in"
        : "confidence " + line.confidence.toFixed(2);
    if (!line.read && !line.corrected) {
      const mark = document.createElement("span");
      mark.className = "unread-mark";
      mark.textContent = "not read";
      item.append(mark);
    }
    const shown = document.createElement("span");
    shown.className = "text";
    fillText(shown, line);
    item.append(shown);
    return item;
  };

  const renderRegions = (page) => {
    page.svg.querySelectorAll("polygon[data-line]").forEach((region) => region.remove());
    page.ids.map((id) => lines.get(id)).filter((line) => line.polygon.length >= 3).forEach((line) => {
      const region = document.createElementNS(SVG, "polygon");
      region.id = "region-" + line.id;
      region.dataset.line = line.id;
      region.setAttribute("points", line.polygon.map((p) => p.join(",")).join(" "));
      if (!line.read && !line.corrected) region.classList.add("unread");
      page.svg.append(region);
    });
  };

  const renderPage = (page) => {
    const items = page.ids.map((id) => renderItem(lines.get(id)));
    if (!items.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = page.empty;
      items.push(empty);
    }
    page.list.replaceChildren(...items);
    renderRegions(page);
  };

  // Refreshes a line's row and region after its text or state changed (the editor stays open).
  const refreshLine = (line) => {
    const item = itemOf(line.id);
    item.dataset.text = line.text;
    fillText(item.querySelector(".text"), line);
    item.classList.toggle("corrected", line.corrected);
    if (line.corrected) {
      // A line that was located but not read is now typed in: no longer marked "not read".
      item.classList.remove("unread");
      item.title = "corrected by hand";
      const region = document.getElementById("region-" + line.id);
      if (region) region.classList.remove("unread");
    }
  };

  // Selection and scrolling ------------------------------------------------------------------
  let lastId = null; // the line last selected: F8 continues from there when no editor is open

  const highlight = (id, scroll) => {
    lastId = id;
    editor.querySelectorAll(".active").forEach((el) => el.classList.remove("active"));
    editor.querySelectorAll('[data-line="' + id + '"]').forEach((el) => el.classList.add("active"));
    // On a wide screen the image stays beside the text: bring the region into its view. On a
    // phone the image is above the text, and scrolling to it would hide the line being typed.
    if (scroll && !narrow.matches) {
      const region = document.getElementById("region-" + id);
      if (region) region.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  };

  const announce = (message) => {
    if (statusBox) statusBox.textContent = message;
  };

  // The editor -------------------------------------------------------------------------------
  let current = null; // {id, item, box, input, panel, busy}
  const state = { holding: false }; // true while a region's handle is dragged: keep the editor

  const tokens = (value) => Array.from(value.matchAll(/\S+/g),
    (m) => ({ text: m[0], start: m.index, end: m.index + m[0].length }));

  // The unsure words of the line being edited, as ranges of the box's text. While the person
  // has not added or removed words, word i of the box is word i of the machine's reading.
  const editedDoubts = (editing) => {
    const line = lines.get(editing.id);
    const parts = tokens(editing.input.value);
    if (parts.length !== line.words.length) return [];
    return doubtsOf(line).map((index) => Object.assign({ index: index }, parts[index]));
  };

  const doubtAtCaret = (editing) => {
    const at = editing.input.selectionStart;
    return editedDoubts(editing).find((doubt) => doubt.start <= at && at <= doubt.end);
  };

  const lineImage = (line) => {
    const page = pageOf(line);
    if (line.polygon.length < 3 || !page.image) return null;
    const xs = line.polygon.map((p) => p[0]);
    const ys = line.polygon.map((p) => p[1]);
    const margin = Math.max(4, 0.15 * (Math.max(...ys) - Math.min(...ys)));
    const left = Math.max(0, Math.min(...xs) - margin);
    const top = Math.max(0, Math.min(...ys) - margin);
    const right = Math.min(page.width, Math.max(...xs) + margin);
    const bottom = Math.min(page.height, Math.max(...ys) + margin);
    if (right <= left || bottom <= top) return null;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", [left, top, right - left, bottom - top].join(" "));
    svg.setAttribute("preserveAspectRatio", "xMinYMid meet");
    const image = document.createElementNS(SVG, "image");
    image.setAttribute("href", page.image);
    image.setAttribute("width", page.width);
    image.setAttribute("height", page.height);
    svg.append(image);
    // At least LINE_IMAGE_REM high: a long line on a phone scrolls sideways with the caret
    // (see `follow`) rather than shrinking to a size nobody can read.
    svg.style.width = "max(100%, " + (LINE_IMAGE_REM * (right - left) / (bottom - top)).toFixed(2) + "rem)";
    const strip = document.createElement("div");
    strip.className = "line-image";
    strip.setAttribute("role", "img");
    strip.setAttribute("aria-label", "This line on the page image");
    strip.append(svg);
    return strip;
  };

  // Scrolls a wide line's image to about where the caret is in its text.
  const follow = (editing) => {
    const strip = editing.box.querySelector(".line-image");
    if (!strip || strip.scrollWidth <= strip.clientWidth) return;
    const input = editing.input;
    const share = (input.selectionStart + input.selectionEnd) / 2 / Math.max(1, input.value.length);
    strip.scrollLeft = share * strip.scrollWidth - strip.clientWidth / 2;
  };

  const button = (label, className) => {
    const b = document.createElement("button");
    b.type = "button";
    if (className) b.className = className;
    b.textContent = label;
    return b;
  };

  // The unsure words of the line as buttons, and the alternatives of the one at the caret.
  const showDoubts = (editing) => {
    const doubts = editedDoubts(editing);
    const panel = editing.panel;
    panel.replaceChildren();
    panel.hidden = doubts.length === 0;
    if (!doubts.length) return;
    const here = doubtAtCaret(editing);
    const words = document.createElement("p");
    words.className = "doubt-words";
    words.append("Unsure: ");
    doubts.forEach((doubt) => {
      const chip = button(doubt.text, "chip");
      chip.dataset.selectWord = doubt.index;
      chip.setAttribute("aria-pressed", String(here !== undefined && here.index === doubt.index));
      words.append(chip, " ");
    });
    panel.append(words);
    if (here === undefined) return;
    const line = lines.get(editing.id);
    const options = alternativesOf(line.words[here.index]);
    const row = document.createElement("p");
    row.className = "alternatives";
    row.append(options.length ? "Or: " : "No other reading.");
    options.forEach((text, k) => {
      const choice = button("", "alternative");
      choice.dataset.alternative = k;
      choice.setAttribute("aria-pressed", String(here.text === text));
      if (k < 9) {
        const key = document.createElement("kbd");
        key.textContent = "Alt+" + (k + 1);
        choice.append(key, " ");
      }
      choice.append(text);
      row.append(choice, " ");
    });
    panel.append(row);
  };

  const selectWord = (editing, index) => {
    const part = tokens(editing.input.value)[index];
    if (!part) return;
    editing.input.focus();
    editing.input.setSelectionRange(part.start, part.end);
    showDoubts(editing);
  };

  // Replaces the unsure word at the caret by its k-th alternative reading (0-based).
  const accept = (editing, k) => {
    const here = doubtAtCaret(editing);
    if (here === undefined) return false;
    const text = alternativesOf(lines.get(editing.id).words[here.index])[k];
    if (text === undefined) return false;
    const value = editing.input.value;
    editing.input.value = value.slice(0, here.start) + text + value.slice(here.end);
    editing.input.focus();
    editing.input.setSelectionRange(here.start, here.start + text.length);
    showDoubts(editing);
    return true;
  };

  const place = (editing, where) => {
    if (where && where.word !== undefined) selectWord(editing, where.word);
    else if (where && where.caret !== undefined) {
      const at = Math.min(where.caret, editing.input.value.length);
      editing.input.setSelectionRange(at, at);
    }
    showDoubts(editing);
  };

  const scrollToEditor = (editing) => {
    const box = editing.item.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      editing.item.scrollIntoView({ block: narrow.matches ? "center" : "nearest" });
    }
  };

  // Opens the line's editor; `where`: {word: i} selects a word, {caret: n} puts the caret.
  const open = (id, where) => {
    const line = lines.get(id);
    const item = itemOf(id);
    if (!line || !item) return null;
    highlight(id, true);
    if (!editable) {
      item.focus();
      return null;
    }
    if (current && current.id === id) {
      current.input.focus();
      place(current, where);
      return current;
    }
    const box = document.createElement("div");
    box.className = "line-editor";
    const strip = lineImage(line);
    if (strip) box.append(strip);
    const input = document.createElement("input");
    input.type = "text";
    input.value = line.text;
    input.setAttribute("aria-label", "Line text");
    input.autocomplete = "off";
    input.spellcheck = false;
    const panel = document.createElement("div");
    panel.className = "doubts";
    box.append(input, panel);
    item.querySelector(".text").hidden = true;
    item.append(box);
    const editing = { id: id, item: item, box: box, input: input, panel: panel, busy: null };
    current = editing;
    input.focus();
    input.setSelectionRange(0, 0);
    place(editing, where);
    listen(editing);
    follow(editing);
    scrollToEditor(editing);
    editor.dispatchEvent(new CustomEvent("line-editor-open", { detail: editing }));
    return editing;
  };

  const close = () => {
    if (!current) return;
    const editing = current;
    current = null;
    editing.box.remove();
    const shown = editing.item.querySelector(".text");
    if (shown) shown.hidden = false;
  };

  const problem = (editing, message) => {
    let note = editing ? editing.box.querySelector(".conflict") : null;
    if (!editing) {
      announce(message);
      return null;
    }
    if (!note) {
      note = document.createElement("div");
      note.className = "conflict";
      note.setAttribute("role", "alert");
      editing.box.append(note);
    }
    note.replaceChildren(document.createTextNode(message));
    return note;
  };

  const clearProblem = (editing) => {
    const note = editing.box.querySelector(".conflict");
    if (note) note.remove();
  };

  // POSTs JSON; answers {ok, status, body}. Errors have the site's shape {"error": {...}}.
  const post = async (url, data) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(data),
    });
    const isJson = (response.headers.get("Content-Type") || "").includes("application/json");
    return { ok: response.ok, status: response.status, body: isJson ? await response.json() : {} };
  };

  // Saves the box's text if it changed; the editor stays open. Answers whether it is saved.
  const save = async (editing, revision) => {
    const line = lines.get(editing.id);
    const text = editing.input.value;
    if (text === line.text && revision === undefined) return true;
    editing.item.classList.add("saving");
    try {
      const answer = await post(urlFor(editor.dataset.lineUrl, line.id),
        { text: text, revision: Number(revision || editor.dataset.revision) });
      if (answer.ok) {
        editor.dataset.revision = answer.body.revision;
        line.text = answer.body.line.text;
        line.corrected = answer.body.line.corrected;
        refreshLine(line);
        clearProblem(editing);
        return true;
      }
      // A conflict adds the current state: {current_revision, current_lines: {id: text}}.
      const error = answer.body.error || {};
      if (answer.status === 409 && error.current_lines && error.current_lines[line.id] !== undefined) {
        conflict(editing, error.current_revision, error.current_lines[line.id]);
      } else {
        problem(editing, error.message || "The line could not be saved (" + answer.status + ").");
      }
    } catch (error) {
      problem(editing, "The line could not be saved: " + error.message);
    } finally {
      editing.item.classList.remove("saving");
    }
    return false;
  };

  // Saves the open editor's text (once, however often asked while it is on its way).
  const flush = () => {
    if (!current) return Promise.resolve(true);
    const editing = current;
    if (!editing.busy) editing.busy = save(editing).finally(() => { editing.busy = null; });
    return editing.busy;
  };

  // Saves and closes the open editor; answers false (editor left open) when it was refused.
  const commit = async () => {
    if (!current) return true;
    const editing = current;
    const ok = await flush();
    if (ok && current === editing) close();
    return ok;
  };

  // Moves the editor to another line, saving the one being left first.
  const go = async (id, where) => {
    if (current && current.id !== id && !(await commit())) return null;
    return open(id, where);
  };

  // Someone changed this line since the page was loaded: show theirs, let the person choose.
  const conflict = (editing, revision, theirs) => {
    const note = problem(editing, "Changed elsewhere to: ");
    const quote = document.createElement("q");
    quote.textContent = theirs;
    const keep = button("Keep mine");
    keep.addEventListener("click", async () => {
      if (await save(editing, revision) && current === editing) close();
    });
    const take = button("Use theirs", "secondary");
    take.addEventListener("click", () => {
      const line = lines.get(editing.id);
      line.text = theirs;
      line.corrected = true;
      editor.dataset.revision = Math.max(Number(editor.dataset.revision), revision);
      refreshLine(line);
      if (current === editing) close();
    });
    note.append(quote, " ", keep, " ", take);
  };

  // Keys of the line box: Enter saves and goes on (Shift: back), Esc cancels, Alt+digit takes
  // an alternative reading. note-structure.js adds its own (Ctrl+Enter and the like).
  const listen = (editing) => {
    const input = editing.input;
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        commit().then((ok) => {
          if (!ok) return;
          const ids = order();
          const next = ids[ids.indexOf(editing.id) + (event.shiftKey ? -1 : 1)];
          if (next) open(next, { caret: 0 });
        });
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
        editing.item.focus();
      } else if (event.altKey && !event.ctrlKey && !event.metaKey && /^Digit[1-9]$/.test(event.code)) {
        // By key code: on a Mac, Option+digit types a character (¡, ™…) that we replace.
        if (accept(editing, Number(event.code.slice(5)) - 1)) event.preventDefault();
      }
    });
    ["input", "keyup", "click", "select", "focus"].forEach((type) => input.addEventListener(type, () => {
      if (current !== editing) return;
      showDoubts(editing);
      follow(editing);
    }));
    input.addEventListener("blur", () => {
      // Save what was typed when the person clicks elsewhere (not within the line's editor,
      // nor when a save or a move put focus elsewhere on purpose).
      setTimeout(() => {
        if (current === editing && !editing.item.contains(document.activeElement) && !editing.busy
            && !state.holding) {
          commit();
        }
      }, 150);
    });
    // Buttons of the editor keep the focus in the box (a tap would otherwise blur it).
    editing.box.addEventListener("mousedown", (event) => {
      if (event.target.closest("button[data-alternative], button[data-select-word], button[data-action]")) {
        event.preventDefault();
      }
    });
    editing.panel.addEventListener("click", (event) => {
      const choice = event.target.closest("button");
      if (!choice) return;
      if (choice.dataset.alternative !== undefined) accept(editing, Number(choice.dataset.alternative));
      else if (choice.dataset.selectWord !== undefined) selectWord(editing, Number(choice.dataset.selectWord));
    });
  };

  // Unsure words across lines ----------------------------------------------------------------
  const seek = async (step) => {
    const ids = order();
    let from;
    if (current) {
      const at = current.input.selectionStart;
      const collapsed = at === current.input.selectionEnd;
      const doubts = editedDoubts(current);
      const here = step > 0
        ? doubts.find((d) => d.start > at || (d.start === at && collapsed))
        : doubts.filter((d) => d.start < at).pop();
      if (here) {
        selectWord(current, here.index);
        return;
      }
      from = ids.indexOf(current.id);
    } else {
      from = lastId && ids.includes(lastId) ? ids.indexOf(lastId) - step : (step > 0 ? -1 : ids.length);
    }
    for (let i = from + step; i >= 0 && i < ids.length; i += step) {
      const doubts = doubtsOf(lines.get(ids[i]));
      if (doubts.length) {
        announce("");
        await go(ids[i], { word: step > 0 ? doubts[0] : doubts[doubts.length - 1] });
        return;
      }
    }
    announce(step > 0 ? "No unsure words after this one." : "No unsure words before this one.");
  };

  document.addEventListener("keydown", (event) => {
    if (event.key === "F8" && editable && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      seek(event.shiftKey ? -1 : 1);
    }
  });

  // Clicks and taps --------------------------------------------------------------------------
  editor.addEventListener("click", (event) => {
    const region = event.target.closest("polygon[data-line]");
    if (region) {
      const item = itemOf(region.dataset.line);
      if (item) item.scrollIntoView({ block: "nearest", behavior: "smooth" });
      go(region.dataset.line);
      return;
    }
    const item = event.target.closest("li[data-line]");
    if (!item || event.target.closest("button, input, .line-editor")) return;
    const word = event.target.closest(".doubt[data-word]");
    go(item.dataset.line, word ? { word: Number(word.dataset.word) } : undefined);
  });
  editor.addEventListener("keydown", (event) => {
    const item = event.target.closest("li[data-line]");
    if (item && event.target === item && event.key === "Enter") {
      event.preventDefault();
      go(item.dataset.line);
    }
  });

  // Everything rendered from the model from here on (the unsure words get their indexes).
  pages.forEach(renderPage);

  // A search hit opens the note at its line (#line-<id>): the line is scrolled to the middle
  // of the screen (beside it, on a wide screen, the page image with its region), both are
  // marked, and the focus moves to the line, where keyboard and screen reader users go on.
  const TARGET = /^#line-(\d+)$/;
  const LINE_GONE = "The line you followed is no longer in this note.";
  const showTarget = () => {
    editor.querySelectorAll(".hit-target").forEach((el) => el.classList.remove("hit-target"));
    const match = TARGET.exec(window.location.hash);
    if (!match) return;
    const item = itemOf(match[1]);
    if (!item) {
      announce(LINE_GONE);
      return;
    }
    editor.querySelectorAll('[data-line="' + match[1] + '"]')
      .forEach((el) => el.classList.add("hit-target"));
    item.scrollIntoView({ block: "center" });
    item.focus({ preventScroll: true });
  };
  window.addEventListener("hashchange", showTarget);
  showTarget();

  window.NoteLines = {
    editor: editor, editable: editable, lines: lines, pages: pages, urlFor: urlFor, post: post,
    announce: announce, problem: problem, clearProblem: clearProblem, renderPage: renderPage,
    lineImage: lineImage, highlight: highlight, open: open, close: close, go: go, flush: flush,
    commit: commit, current: () => current, order: order, pageOf: pageOf, state: state,
    itemOf: itemOf, button: button,
  };
})();
