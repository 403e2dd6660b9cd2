// The service worker of the notes site (served at /sw.js by recognition/pwa.py).
//
// Privacy first: on a shared phone the next person must find none of the previous one's notes
// here. So this worker stores only the shell, files that are the same for everyone: static
// files (CSS, scripts, icons) and the offline page, fetched without cookies. Pages, JSON
// answers, page images and thumbnails go to the network and are never put in a cache.
"use strict";

const CONFIG = {{ config }};
const CACHE = "notes-shell-" + CONFIG.version;
const PREFIX = "notes-shell-";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(
        // No cookies: the cached copies are the anonymous ones, whoever is signed in.
        CONFIG.shell.concat([CONFIG.offline]).map((url) => new Request(url, { credentials: "omit" }))))
      .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names
        .filter((name) => name.startsWith(PREFIX) && name !== CACHE)
        .map((name) => caches.delete(name))))
      .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Pages: always from the network (they hold the user's notes), the offline page otherwise.
    event.respondWith(fetch(request).catch(() => offlinePage()));
    return;
  }
  if (url.pathname.startsWith(CONFIG.static)) {
    event.respondWith(CONFIG.hashed ? cacheFirst(request) : networkFirst(request));
  }
  // Anything else (a note's status, its images, the API): not handled, so never cached.
});

function offlinePage() {
  return caches.open(CACHE)
    .then((cache) => cache.match(CONFIG.offline))
    .then((response) => response || Response.error());
}

// Static files only: public, the same for everyone.
function keepStatic(request, response) {
  if (response.ok && response.type === "basic" && new URL(request.url).pathname.startsWith(CONFIG.static)) {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

// Hashed names (production): a name's content never changes.
function cacheFirst(request) {
  return caches.open(CACHE)
    .then((cache) => cache.match(request))
    .then((cached) => cached || fetch(request).then((response) => keepStatic(request, response)));
}

// Plain names (development): the newest copy, the cached one offline.
function networkFirst(request) {
  return fetch(request)
    .then((response) => keepStatic(request, response))
    .catch(() => caches.open(CACHE)
      .then((cache) => cache.match(request))
      .then((cached) => cached || Response.error()));
}

// Background Sync (where supported): the page queued a note while offline; ask an open page
// to send it (the queue is replayed by static/js/pwa.js, which has the page's cookies).
self.addEventListener("sync", (event) => {
  if (event.tag !== "notes-upload-queue") return;
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((clients) => {
    for (const client of clients) client.postMessage({ type: "notes-replay-queue" });
  }));
});
