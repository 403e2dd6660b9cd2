// Live status of notes on every page (issue 14). Every element marked
//
//   data-note-status="<note pk>" data-status="queued|processing|done|failed"
//
// holding a [data-status-label] (class "status status-<status>") and, while its note is being
// read, a <progress data-progress> (and maybe a [data-progress-text], "2 / 5 pages"), follows
// its note's recognition without a reload: Home's cards, a collection's, the note page's status
// box. One request asks for all of them (GET /notes/status/?ids=3,5,8, recognition/live.py),
// every few seconds; less often while nothing changes or the server does not answer; paused
// while the tab is hidden; over once no note on the page is being read.
//
// A note that is done (or failed) gets a toast linking to it and, where the user allowed it,
// a browser notification while the window is not in front. "Notify me when notes are ready"
// is offered next to notes being read; the browser asks for the permission only on its click.
//
// Each answer is also sent to the element as a "note-status" event (bubbling, cancelable;
// detail: {state, previous}). note.js reloads the note page on "done" and cancels the event:
// no toast for the note the page already shows.
(function () {
  "use strict";

  const ENDPOINT = "/notes/status/"; // recognition:notes-status (a test checks they agree)
  const BATCH = 100; // ids per request: live.MAX_IDS
  const ACTIVE = ["queued", "processing"];
  const FIRST_MS = 1500;
  const FASTEST_MS = 2000; // while something changes
  const SLOWEST_MS = 15000; // while nothing does (a long PDF waiting in the queue)
  const FAILING_MS = 30000; // while the server does not answer (restarting, offline)
  const TEXT = {
    done: (title) => "“" + title + "” is ready.",
    failed: (title) => "“" + title + "” could not be read.",
    open: "Open",
    notify: "Notify me when notes are ready",
    notifying: "You will be notified when your notes are ready.",
  };

  const gone = new Set(); // ids the server did not answer for (deleted, or not the user's)
  let timer = null;
  let delay = FASTEST_MS;
  let polling = false;
  let button = null;

  const watched = () => Array.from(document.querySelectorAll("[data-note-status]"))
    .filter((el) => ACTIVE.includes(el.dataset.status) && !gone.has(el.dataset.noteStatus));

  const pagesText = (state) => state.pages_done + " / " + state.pages_total + " pages";

  // One element: its label, progress and status; true when something shown changed.
  const update = (el, state) => {
    const previous = el.dataset.status;
    const label = el.querySelector("[data-status-label]");
    const bar = el.querySelector("[data-progress]");
    const text = el.querySelector("[data-progress-text]");
    const changed = previous !== state.status || (bar && Number(bar.value) !== state.progress)
      || (text && text.textContent !== pagesText(state));
    el.dataset.status = state.status;
    if (label) {
      label.textContent = state.status_label;
      Array.from(label.classList).filter((name) => name.startsWith("status-"))
        .forEach((name) => label.classList.remove(name));
      label.classList.add("status", "status-" + state.status);
    }
    if (ACTIVE.includes(state.status)) {
      if (bar) bar.value = state.progress;
      if (text) text.textContent = pagesText(state);
    } else {
      el.querySelectorAll("[data-progress], [data-progress-text]").forEach((node) => node.remove());
    }
    const event = new CustomEvent("note-status", {
      bubbles: true, cancelable: true, detail: { state: state, previous: previous },
    });
    const shown = el.dispatchEvent(event); // false: the page took care of it (note.js)
    return { changed: changed, finished: ACTIVE.includes(previous) && !ACTIVE.includes(state.status),
      shown: shown };
  };

  const apply = (state) => {
    let changed = false;
    let finished = false;
    let toast = false;
    document.querySelectorAll('[data-note-status="' + state.id + '"]').forEach((el) => {
      const result = update(el, state);
      changed = changed || result.changed;
      finished = finished || result.finished;
      toast = toast || (result.finished && result.shown);
    });
    if (finished) tell(state, toast);
    return changed;
  };

  // A note finished: a toast (unless its page shows it already), and a notification while the
  // window is not in front, where the user allowed them.
  const tell = (state, toast) => {
    const text = state.status === "done" ? TEXT.done(state.title) : TEXT.failed(state.title);
    if (toast && window.notesToast) {
      window.notesToast(text, { href: state.url, linkText: TEXT.open, timeout: 12000 });
    }
    if (!("Notification" in window) || Notification.permission !== "granted"
        || document.hasFocus()) return;
    const options = { tag: "note-" + state.id, data: { url: state.url } };
    try {
      const notice = new Notification(text, options);
      notice.addEventListener("click", () => {
        window.focus();
        window.location.assign(state.url);
      });
    } catch (error) {
      // Android's Chrome only shows notifications through the service worker (pwa.js).
      if (navigator.serviceWorker) {
        navigator.serviceWorker.getRegistration().then((registration) => {
          if (registration) registration.showNotification(text, options);
        });
      }
    }
  };

  const poll = async () => {
    timer = null;
    const elements = watched();
    if (polling || !elements.length || document.hidden) {
      schedule(delay);
      return;
    }
    polling = true;
    const ids = Array.from(new Set(elements.map((el) => el.dataset.noteStatus)));
    let changed = false;
    try {
      for (let start = 0; start < ids.length; start += BATCH) {
        const batch = ids.slice(start, start + BATCH);
        const response = await fetch(ENDPOINT + "?ids=" + batch.join(","), {
          headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
        });
        if (!response.ok) throw new Error("status " + response.status);
        const answer = await response.json(); // a login page (session over) throws here
        const answered = new Set(answer.notes.map((state) => String(state.id)));
        batch.filter((id) => !answered.has(id)).forEach((id) => gone.add(id));
        answer.notes.forEach((state) => { changed = apply(state) || changed; });
      }
      delay = changed ? FASTEST_MS : Math.min(SLOWEST_MS, Math.round(delay * 1.5));
    } catch (error) {
      delay = Math.min(FAILING_MS, delay * 2); // the next poll tries again, later
    }
    polling = false;
    schedule(delay);
  };

  // Polls again in `ms`, if a note on the page is being read and the tab is in view.
  const schedule = (ms) => {
    clearTimeout(timer);
    timer = null;
    offerNotifications();
    if (document.hidden || !watched().length) return;
    timer = setTimeout(poll, ms);
  };

  // "Notify me when notes are ready": only while notes are being read, and only where the
  // browser has notifications and the user has not answered yet.
  const offerNotifications = () => {
    const active = watched();
    const wanted = active.length > 0 && "Notification" in window
      && Notification.permission === "default";
    if (!wanted) {
      if (button) button.remove();
      button = null;
      return;
    }
    if (button) return;
    button = document.createElement("button");
    button.type = "button";
    button.className = "secondary notify-me";
    button.dataset.notify = "";
    button.textContent = TEXT.notify;
    button.addEventListener("click", async () => {
      // Older Safari answers through a callback, not a promise.
      const permission = await new Promise((resolve) => {
        const answer = Notification.requestPermission(resolve);
        if (answer && answer.then) answer.then(resolve, () => resolve("default"));
      });
      offerNotifications();
      if (permission === "granted" && window.notesToast) window.notesToast(TEXT.notifying);
    });
    const slot = document.querySelector("[data-notify-slot]");
    if (slot) slot.append(button);
    else (active[0].closest("ul, ol") || active[0]).before(button);
  };

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else {
      delay = FASTEST_MS;
      schedule(0);
    }
  });

  // For scripts that add notes to the page (an upload shown without a reload).
  window.notesLiveStatus = { refresh: () => { delay = FASTEST_MS; schedule(0); } };

  schedule(FIRST_MS);
})();
