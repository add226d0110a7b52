// OPTIMUM BCP service worker. For now it only installs and takes control of the page;
// web push notifications come later. It has no fetch handler, so it never caches or
// changes a request.
self.addEventListener('install', () => {
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});
