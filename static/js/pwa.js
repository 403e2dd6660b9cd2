// The installable web app (issue 14, recognition/pwa.py): registers the service worker, and
// keeps the offline upload queue.
//
// The queue: a note captured without network (static/js/capture.js) waits in IndexedDB, its
// photos with its fields, until this script sends it: on every page load while online, when
// the browser comes back online, and when the service worker's Background Sync asks. Each note
// sent gets a toast linking to it. One the server refuses for what it is (400, 413, 415: too
// many pages, not a photo...) is dropped with a toast saying why, never retried for ever; one
// that meets trouble that may pass (no network, a server error, a signed-out session) stays
// for the next try. A note carries the account that captured it: on a shared phone, another
// account signed in does not receive it (the server answers 409 and the note waits).
(function () {
  "use strict";
  const DB_NAME = "notes-offline";
  const STORE = "uploads";
  const LOCK = "notes-upload-queue";
  const DROPPED = [400, 413, 415];

  function request(idbRequest) {
    return new Promise((resolve, reject) => {
      idbRequest.addEventListener("success", () => resolve(idbRequest.result));
      idbRequest.addEventListener("error", () => reject(idbRequest.error));
    });
  }

  function openDb() {
    const opening = indexedDB.open(DB_NAME, 1);
    opening.addEventListener("upgradeneeded", () => {
      opening.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
    });
    return request(opening);
  }

  async function withStore(mode, work) {
    const db = await openDb();
    try {
      const transaction = db.transaction(STORE, mode);
      const done = new Promise((resolve, reject) => {
        transaction.addEventListener("complete", resolve);
        transaction.addEventListener("error", () => reject(transaction.error));
        transaction.addEventListener("abort", () => reject(transaction.error));
      });
      const result = await request(work(transaction.objectStore(STORE)));
      await done;
      return result;
    } finally {
      db.close();
    }
  }

  // entries: [{name, value}] and [{name, blob, filename}], in the order the form sends them.
  async function add(item) {
    const entries = [];
    for (const entry of item.entries) {
      if (entry.blob) {
        // Bytes rather than a Blob: every browser stores an ArrayBuffer in IndexedDB.
        entries.push({ name: entry.name, filename: entry.filename, type: entry.blob.type,
                       bytes: await entry.blob.arrayBuffer() });
      } else {
        entries.push({ name: entry.name, value: String(entry.value) });
      }
    }
    const id = await withStore("readwrite", (store) => store.add({
      url: item.url, label: item.label, entries: entries, created: Date.now() }));
    askForSync();
    return id;
  }

  function all() {
    return withStore("readonly", (store) => store.getAll());
  }

  function remove(id) {
    return withStore("readwrite", (store) => store.delete(id));
  }

  function askForSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready
      .then((registration) => registration.sync && registration.sync.register(LOCK))
      .catch(() => {});  // no Background Sync here: page loads and `online` replay the queue
  }

  function cookieToken() {
    const found = document.cookie.split(";").map((c) => c.trim())
      .find((c) => c.startsWith("csrftoken="));
    return found ? decodeURIComponent(found.slice("csrftoken=".length)) : "";
  }

  // A token from the page that posts (it also renews the cookie).
  async function fetchedToken(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    const html = new DOMParser().parseFromString(await response.text(), "text/html");
    const input = html.querySelector("input[name=csrfmiddlewaretoken]");
    return cookieToken() || (input ? input.value : "");
  }

  function body(item) {
    const data = new FormData();
    for (const entry of item.entries) {
      if (entry.bytes) data.append(entry.name, new Blob([entry.bytes], { type: entry.type }), entry.filename);
      else data.append(entry.name, entry.value);
    }
    return data;
  }

  function post(item, token) {
    return fetch(item.url, {
      method: "POST", body: body(item), credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token },
    });
  }

  // "next": done with this one (sent, dropped or not this account's); "stop": try later.
  async function send(item) {
    let response;
    try {
      response = await post(item, cookieToken() || await fetchedToken(item.url));
      if (response.status === 403) response = await post(item, await fetchedToken(item.url));
    } catch (error) {
      return "stop";
    }
    const isJson = (response.headers.get("Content-Type") || "").includes("application/json");
    const answer = isJson ? await response.json().catch(() => ({})) : {};
    if (response.status === 201 && !response.redirected) {
      await remove(item.id);
      window.notesToast("“" + item.label + "” was uploaded from this phone.",
                        { href: answer.redirect, linkText: "Open the note", timeout: 0 });
      return "next";
    }
    const error = answer.error || {};
    if (response.status === 409 && error.code === "wrong_user") return "next";
    if (isJson && DROPPED.includes(response.status)) {
      await remove(item.id);
      const why = Object.values(error.fields || {}).flat().join(" ") || error.message || "";
      window.notesToast("“" + item.label + "” could not be uploaded and was removed from this phone: " + why,
                        { timeout: 0 });
      return "next";
    }
    return "stop";
  }

  let replaying = false;

  async function replay() {
    if (replaying || !navigator.onLine || !window.indexedDB) return;
    replaying = true;
    const run = async () => {
      for (const item of await all()) {
        if (await send(item) === "stop") break;
      }
    };
    try {
      // One tab at a time sends the queue (two would upload a note twice).
      if (navigator.locks) await navigator.locks.request(LOCK, { ifAvailable: true },
                                                          (lock) => lock && run());
      else await run();
    } catch (error) {
      console.warn("The offline queue could not be sent:", error);
    } finally {
      replaying = false;
    }
  }

  window.notesQueue = { add: add, all: all, replay: replay };

  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", () => {
      navigator.serviceWorker.register("/sw.js", { scope: "/" })
        .catch((error) => console.warn("The service worker could not be registered:", error));
    });
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "notes-replay-queue") replay();
    });
  }
  window.addEventListener("online", replay);
  if (window.indexedDB) {
    if (navigator.onLine) {
      replay();
    } else {
      all().then((items) => {
        if (items.length) {
          window.notesToast(items.length + " captured note(s) wait on this phone; they upload when you are back online.");
        }
      }).catch(() => {});
    }
  }
})();
