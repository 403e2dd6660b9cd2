// Structural corrections on the note page: delete a line, add one, split a line at the cursor,
// join it with its neighbour, move it in reading order, and fit its region on the image by
// dragging corner handles. Each goes through its JSON endpoint (recognition/editing.py), which
// answers every line of the page; the page's rows and regions are then drawn anew from that.
// A conflict (someone changed the page meanwhile) shows the message and the page's lines now.
(function () {
  "use strict";

  const N = window.NoteLines;
  if (!N || !N.editable) return;
  const editor = N.editor;
  const SVG = "http://www.w3.org/2000/svg";
  const HANDLE_PX = 9; // handle radius on screen, whatever the zoom
  const MIN_SIZE = 4; // a region's smallest side, page image pixels

  const pageLines = (page) => page.ids.map((id) => N.lines.get(id));

  // The page's lines as the server answered them; unsure-word marks carry over for lines whose
  // words are unchanged (only the server knows the threshold, and it marked them on load).
  const replacePage = (page, answer) => {
    editor.dataset.revision = answer.revision;
    const before = new Map(pageLines(page).map((line) => [line.id, line]));
    page.ids.forEach((id) => N.lines.delete(id));
    page.ids = answer.lines.map((data) => {
      const id = String(data.id);
      const old = before.get(id);
      const words = data.words || [];
      const same = old && old.words.map((w) => w.text).join(" ") === words.map((w) => w.text).join(" ");
      N.lines.set(id, {
        id: id, page: page.number, text: data.text, corrected: data.corrected, read: data.read,
        confidence: data.confidence, words: words, flags: same ? old.flags : [],
        polygon: data.polygon || [],
      });
      return id;
    });
    N.renderPage(page);
  };

  // The message of a refused edit; for a conflict also what the page holds now.
  const refused = (where, answer) => {
    const error = answer.body.error || {};
    const message = error.message || "The change could not be saved (" + answer.status + ").";
    const note = N.problem(where, message);
    if (answer.status !== 409 || !note) return;
    const page = where ? N.pageOf(N.lines.get(where.id)) : null;
    const current = error.current_lines || {};
    const known = page ? page.ids.filter((id) => id in current) : [];
    const ids = known.concat(Object.keys(current).filter((id) => !known.includes(id)));
    const now = document.createElement("ol");
    now.className = "current-lines";
    ids.forEach((id) => {
      const item = document.createElement("li");
      item.textContent = current[id];
      now.append(item);
    });
    const reload = N.button("Reload the page", "secondary");
    reload.addEventListener("click", () => window.location.reload());
    note.append(" The page now has " + ids.length + " line" + (ids.length === 1 ? "" : "s") + ":", now, reload);
  };

  // Saves the line's typed text first, then sends the edit; on success redraws the page and
  // calls `then(page, answer)`. Answers whether it went through.
  let running = false;
  const act = async (editing, url, data, then) => {
    if (running) return false;
    running = true;
    try {
      if (editing && !(await N.flush())) return false;
      const page = N.pageOf(N.lines.get(editing.id));
      const answer = await N.post(url, Object.assign({ revision: Number(editor.dataset.revision) }, data));
      if (!answer.ok) {
        refused(N.current(), answer);
        return false;
      }
      N.close();
      replacePage(page, answer.body);
      if (then) then(page, answer);
      return true;
    } catch (error) {
      N.problem(N.current(), "The change could not be saved: " + error.message);
      return false;
    } finally {
      running = false;
    }
  };

  const urlOf = (name, id) => N.urlFor(editor.dataset[name + "Url"], id);
  const neighbour = (editing, step) => {
    const page = N.pageOf(N.lines.get(editing.id));
    return page.ids[page.ids.indexOf(editing.id) + step];
  };

  const split = (editing) => {
    const line = N.lines.get(editing.id);
    const typed = editing.input.value;
    // The cursor in the saved text: the server trims what was typed around it.
    const lead = typed.length - typed.trimStart().length;
    const at = editing.input.selectionStart - lead;
    if (at <= 0 || at >= typed.trim().length) {
      N.problem(editing, "Put the cursor where the line should be split (inside its text).");
      return;
    }
    const before = new Set(N.pageOf(line).ids);
    act(editing, urlOf("split", line.id), { at: at }, (page) => {
      const added = page.ids.find((id) => !before.has(id));
      N.open(added || line.id, { caret: 0 });
      N.announce("Line split in two.");
    });
  };

  const merge = (editing, step) => {
    const other = neighbour(editing, step);
    if (!other) {
      N.problem(editing, step < 0 ? "There is no line before this one on the page."
        : "There is no line after this one on the page.");
      return;
    }
    const first = N.lines.get(step < 0 ? other : editing.id);
    const join = first.text.length + (first.text ? 1 : 0);
    act(editing, urlOf("merge", editing.id), { with: Number(other) }, () => {
      N.open(first.id, { caret: join });
      N.announce("Lines joined.");
    });
  };

  const move = (editing, step) => {
    const page = N.pageOf(N.lines.get(editing.id));
    const to = page.ids.indexOf(editing.id) + step;
    if (to < 0 || to >= page.ids.length) return;
    const caret = editing.input.selectionStart;
    act(editing, urlOf("move", editing.id), { to: to }, () => {
      N.open(editing.id, { caret: caret });
      N.announce("Line moved " + (step < 0 ? "up." : "down."));
    });
  };

  const remove = (editing) => {
    const next = neighbour(editing, 1) || neighbour(editing, -1);
    act(editing, urlOf("delete", editing.id), {}, () => {
      if (next) N.highlight(next, false);
      const item = next && N.itemOf(next);
      if (item) item.focus();
      N.announce("Line deleted; the note's history can bring it back.");
    });
  };

  // Adding a line: a row to type it in, sent on Enter (a line is never added empty).
  const draft = (page, afterId, place) => {
    editor.querySelectorAll("li.draft").forEach((row) => row.remove());
    const row = document.createElement("li");
    row.className = "draft";
    const box = document.createElement("div");
    box.className = "line-editor";
    const input = document.createElement("input");
    input.type = "text";
    input.setAttribute("aria-label", "New line");
    input.placeholder = "Type the new line: Enter adds it, Esc cancels";
    box.append(input);
    row.append(box);
    place(row);
    const editing = { id: afterId, item: row, box: box, input: input };
    input.focus();
    input.addEventListener("keydown", async (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        row.remove();
        if (afterId) N.open(afterId);
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (!input.value.trim()) {
          N.problem(editing, "Type the text of the line to add.");
          return;
        }
        const answer = await N.post(page.insertUrl, {
          revision: Number(editor.dataset.revision), after: afterId ? Number(afterId) : null,
          text: input.value, polygon: [] });
        if (!answer.ok) {
          refused(editing.id ? editing : null, answer);
          if (!editing.id) N.problem(editing, (answer.body.error || {}).message || "Not added.");
          return;
        }
        const before = new Set(page.ids);
        replacePage(page, answer.body);
        const added = page.ids.find((id) => !before.has(id));
        const next = page.ids[page.ids.indexOf(added) + 1];
        N.announce("Line added.");
        if (next) N.open(next, { caret: 0 });
        else N.itemOf(added).focus();
      }
    });
  };

  const insert = async (editing) => {
    if (!(await N.commit())) return;
    const page = N.pageOf(N.lines.get(editing.id));
    draft(page, editing.id, (row) => N.itemOf(editing.id).after(row));
  };

  // Tools of the open line (buttons for touch) and their keys --------------------------------
  const TOOLS = [
    ["split", "Split at cursor", "Ctrl+Enter"],
    ["join-previous", "Join with previous", "Ctrl+Backspace at the start"],
    ["join-next", "Join with next", "Ctrl+Delete at the end"],
    ["insert", "Add line after", "Alt+Enter"],
    ["up", "Move up", "Alt+↑"],
    ["down", "Move down", "Alt+↓"],
    ["delete", "Delete line", ""],
  ];

  const run = (name, editing) => {
    ({
      split: () => split(editing),
      "join-previous": () => merge(editing, -1),
      "join-next": () => merge(editing, 1),
      insert: () => insert(editing),
      up: () => move(editing, -1),
      down: () => move(editing, 1),
      delete: () => remove(editing),
    })[name]();
  };

  editor.addEventListener("line-editor-open", (event) => {
    const editing = event.detail;
    const tools = document.createElement("div");
    tools.className = "line-tools";
    tools.setAttribute("role", "group");
    tools.setAttribute("aria-label", "Line tools");
    TOOLS.forEach(([name, label, keys]) => {
      const tool = N.button(label, name === "delete" ? "danger" : "");
      tool.dataset.action = name;
      if (keys) tool.title = keys;
      tools.append(tool);
    });
    tools.addEventListener("click", (click) => {
      const tool = click.target.closest("button[data-action]");
      if (tool) run(tool.dataset.action, editing);
    });
    editing.box.append(tools);
    editing.input.addEventListener("keydown", (key) => {
      const input = editing.input;
      const control = key.ctrlKey || key.metaKey;
      const collapsed = input.selectionStart === input.selectionEnd;
      let name = null;
      if (key.key === "Enter" && control && !key.altKey) name = "split";
      else if (key.key === "Enter" && key.altKey && !control) name = "insert";
      else if (key.key === "Backspace" && control && collapsed && input.selectionStart === 0) name = "join-previous";
      else if (key.key === "Delete" && control && collapsed && input.selectionStart === input.value.length) name = "join-next";
      else if (key.key === "ArrowUp" && key.altKey && !control) name = "up";
      else if (key.key === "ArrowDown" && key.altKey && !control) name = "down";
      if (!name) return;
      key.preventDefault();
      run(name, editing);
    });
    handles(editing);
  });

  // An empty page gets a button to add its first line.
  N.pages.forEach((page) => {
    const empty = page.list.querySelector("li.empty");
    if (!empty || page.ids.length) return;
    const add = N.button("Add a line", "secondary");
    add.addEventListener("click", () => draft(page, null, (row) => page.list.prepend(row)));
    empty.append(" ", add);
  });

  // Region handles -----------------------------------------------------------------------------
  const boxOf = (polygon) => {
    const xs = polygon.map((p) => p[0]);
    const ys = polygon.map((p) => p[1]);
    return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
  };

  // The polygon stretched so that its box's corner (cx, cy) goes to (x, y), the opposite fixed.
  const stretch = (polygon, box, corner, x, y, page) => {
    const ox = corner.cx === box.x0 ? box.x1 : box.x0;
    const oy = corner.cy === box.y0 ? box.y1 : box.y0;
    const sign = (v) => (v < 0 ? -1 : 1);
    const clampTo = (value, origin, was, limit) => {
      const inside = Math.min(Math.max(value, 0), limit);
      return sign(inside - origin) === sign(was - origin) && Math.abs(inside - origin) >= MIN_SIZE
        ? inside : origin + sign(was - origin) * MIN_SIZE;
    };
    const nx = clampTo(x, ox, corner.cx, page.width);
    const ny = clampTo(y, oy, corner.cy, page.height);
    const sx = (nx - ox) / (corner.cx - ox || 1);
    const sy = (ny - oy) / (corner.cy - oy || 1);
    return polygon.map(([px, py]) => [Math.round(ox + (px - ox) * sx), Math.round(oy + (py - oy) * sy)]);
  };

  const handles = (editing) => {
    const line = N.lines.get(editing.id);
    const page = N.pageOf(line);
    const svg = page.svg;
    svg.querySelectorAll(".handle").forEach((h) => h.remove());
    if (line.polygon.length < 3) return;
    const region = document.getElementById("region-" + line.id);
    let polygon = line.polygon.map((p) => p.slice());
    const dots = [];
    const draw = () => {
      const box = boxOf(polygon);
      const ctm = svg.getScreenCTM();
      const r = HANDLE_PX / (ctm && ctm.a ? ctm.a : 1);
      [[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]].forEach(([x, y], i) => {
        dots[i].setAttribute("cx", x);
        dots[i].setAttribute("cy", y);
        dots[i].setAttribute("r", r);
      });
      region.setAttribute("points", polygon.map((p) => p.join(",")).join(" "));
    };
    ["top left", "top right", "bottom right", "bottom left"].forEach((name) => {
      const dot = document.createElementNS(SVG, "circle");
      dot.classList.add("handle");
      dot.dataset.corner = name;
      dot.dataset.line = line.id;
      const label = document.createElementNS(SVG, "title");
      label.textContent = "Drag the " + name + " corner of the line's region";
      dot.append(label);
      svg.append(dot);
      dots.push(dot);
      let drag = null;
      dot.addEventListener("pointerdown", (down) => {
        down.preventDefault(); // keeps the focus (and the editor) in the line's box
        down.stopPropagation(); // not a pan of the image
        const box = boxOf(polygon);
        const corner = { cx: Number(dot.getAttribute("cx")), cy: Number(dot.getAttribute("cy")) };
        drag = { box: box, corner: corner, start: polygon };
        N.state.holding = true;
        svg.closest("[data-viewer]").classList.add("adjusting");
        dot.setPointerCapture(down.pointerId);
      });
      dot.addEventListener("pointermove", (moved) => {
        if (!drag) return;
        const at = new DOMPoint(moved.clientX, moved.clientY).matrixTransform(svg.getScreenCTM().inverse());
        polygon = stretch(drag.start, drag.box, drag.corner, at.x, at.y, page);
        draw();
      });
      const release = async () => {
        if (!drag) return;
        drag = null;
        N.state.holding = false;
        svg.closest("[data-viewer]").classList.remove("adjusting");
        if (polygon.every((p, i) => p[0] === line.polygon[i][0] && p[1] === line.polygon[i][1])) return;
        const selection = [editing.input.selectionStart, editing.input.selectionEnd];
        const ok = await act(editing, urlOf("region", line.id), { polygon: polygon }, () => {
          const reopened = N.open(line.id);
          if (reopened) reopened.input.setSelectionRange(selection[0], selection[1]);
          N.announce("Region saved.");
        });
        if (!ok) {
          polygon = line.polygon.map((p) => p.slice());
          if (dots[0].isConnected) draw();
        }
      };
      dot.addEventListener("pointerup", release);
      dot.addEventListener("pointercancel", release);
      dot.addEventListener("click", (click) => click.stopPropagation());
    });
    draw();
    svg.addEventListener("viewchange", draw);
    // The handles go with the editor.
    new MutationObserver((changes, observer) => {
      if (!editing.box.isConnected) {
        dots.forEach((dot) => dot.remove());
        svg.removeEventListener("viewchange", draw);
        observer.disconnect();
      }
    }).observe(editing.item.parentNode || editor, { childList: true, subtree: true });
  };
})();
