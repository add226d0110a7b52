// OPTIMUM BCP service worker: shows crisis alerts pushed by the server (Web Push) and
// acknowledges them from the notification, and keeps an offline copy of the app: its
// page and versioned files, and the last answers of the few API reads the board and an
// incident page need (me, meta, the incident list, an incident, the templates). Offline,
// those answers are served from the copy with an X-Optimum-Stale header (when it was
// fetched), which the app shows as "sin conexión". Every other request passes untouched.
//
// A push payload is the JSON of broadcast/webpush.Notification:
//   {title, body, url, tag, lang, delivery_id, actions: [{action, title}], timestamp}
// where url is the recipient's one-tap acknowledgement link. A plain click opens it; the
// "ack" action POSTs to it (the link needs no session) and confirms in a notification.
// A safety poll offers two actions instead, "safe" and "help_needed", posted as the answer.
'use strict';

const texts = {
  es: {
    ack: 'Confirmar recepción',
    title: 'OPTIMUM BCP',
    body: 'Hay un aviso nuevo.',
    done: 'Recepción confirmada',
    doneBody: 'Gracias; el equipo de continuidad ya lo sabe.',
    failed: 'No se pudo confirmar',
    failedBody: 'Abre el aviso para confirmar la recepción.',
    safe: 'Registramos que estás a salvo',
    help_needed: 'Registramos que necesitas ayuda',
    pollBody: 'El equipo de continuidad ya lo sabe.',
  },
  en: {
    ack: 'Acknowledge',
    title: 'OPTIMUM BCP',
    body: 'There is a new alert.',
    done: 'Receipt acknowledged',
    doneBody: 'Thank you; the continuity team knows.',
    failed: 'Could not acknowledge',
    failedBody: 'Open the alert to acknowledge it.',
    safe: 'We recorded that you are safe',
    help_needed: 'We recorded that you need help',
    pollBody: 'The continuity team knows.',
  },
};

function textsFor(lang) {
  return String(lang || '').toLowerCase().startsWith('en') ? texts.en : texts.es;
}

const SHELL = 'optimum-shell-v1';
const DATA = 'optimum-data-v1';
// READS are the API reads kept for offline use (path after api/v1/, query allowed).
const READS = [/^me$/, /^meta$/, /^incidents$/, /^incidents\/[^/]+$/, /^templates$/];

function scoped(path) { return new URL(path, self.registration.scope).href; }

// precache keeps the page and every versioned file it names, so the app opens offline.
async function precache() {
  const res = await fetch(scoped('./'), { cache: 'no-cache', credentials: 'same-origin' });
  if (!res.ok) return;
  const html = await res.clone().text();
  const cache = await caches.open(SHELL);
  await cache.put(scoped('./'), res);
  const files = [...html.matchAll(/(?:href|src)="(v\/[^"]+)"/g)].map((m) => scoped(m[1]));
  await cache.addAll(files);
}

self.addEventListener('install', (event) => {
  self.skipWaiting();
  event.waitUntil(precache().catch(() => { /* kept on the first visits instead */ }));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const keep = new Set([SHELL, DATA]);
    for (const name of await caches.keys()) if (name.startsWith('optimum-') && !keep.has(name)) await caches.delete(name);
    await self.clients.claim();
  })());
});

// stale answers from the copy, saying since when it is.
async function stale(cached) {
  const headers = new Headers(cached.headers);
  headers.set('X-Optimum-Stale', cached.headers.get('Date') || new Date(0).toUTCString());
  return new Response(await cached.blob(), { status: cached.status, statusText: cached.statusText, headers });
}

async function networkFirst(request, cacheName, markStale) {
  const cache = await caches.open(cacheName);
  try {
    const res = await fetch(request);
    if (res.ok) await cache.put(request, res.clone());
    else if (res.status === 401) await caches.delete(DATA); // signed out: forget the person's data
    return res;
  } catch (err) {
    const cached = await cache.match(request, { ignoreVary: true });
    if (!cached) throw err;
    return markStale ? stale(cached) : cached;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL);
  const cached = await cache.match(request, { ignoreVary: true });
  if (cached) return cached;
  const res = await fetch(request);
  if (res.ok) await cache.put(request, res.clone());
  return res;
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  const path = url.pathname.slice(scope.pathname.length);
  if (path === '' || path === 'index.html') {
    // The page: fresh when the network answers, the kept copy when it does not.
    event.respondWith(networkFirst(new Request(scoped('./'), { credentials: 'same-origin' }), SHELL, false));
  } else if (path.startsWith('v/')) {
    event.respondWith(cacheFirst(req));
  } else if (path.startsWith('api/v1/') && READS.some((re) => re.test(path.slice('api/v1/'.length)))) {
    event.respondWith(networkFirst(req, DATA, true));
  }
});

// The app asks to forget the person's data at sign-out.
self.addEventListener('message', (event) => {
  if (event.data === 'forget-data') event.waitUntil(caches.delete(DATA));
});

// parsePayload reads the push data: JSON when it is, else the text as the body. A push
// without data still shows something (browsers require a notification for every push).
function parsePayload(data) {
  if (!data) return {};
  try {
    const v = data.json();
    return v && typeof v === 'object' ? v : { body: String(v) };
  } catch (e) {
    return { body: data.text() };
  }
}

self.addEventListener('push', (event) => {
  const p = parsePayload(event.data);
  const t = textsFor(p.lang);
  let actions = Array.isArray(p.actions)
    ? p.actions.filter((a) => a && a.action && a.title).map((a) => ({ action: String(a.action), title: String(a.title) }))
    : (p.url ? [{ action: 'ack', title: t.ack }] : []);
  const max = typeof Notification !== 'undefined' && Notification.maxActions;
  if (max) actions = actions.slice(0, max);
  const tag = p.tag || p.delivery_id || 'optimum-bcp';
  const options = {
    body: p.body || t.body,
    tag,
    renotify: true, // a newer alert about the same incident rings again
    requireInteraction: true, // stays until the person acts on it
    lang: p.lang || 'es',
    data: { url: p.url || '', delivery_id: p.delivery_id || '', lang: p.lang || 'es', tag },
    actions,
  };
  if (p.timestamp) options.timestamp = p.timestamp;
  event.waitUntil(self.registration.showNotification(p.title || t.title, options));
});

// withVia marks an acknowledgement as coming from the push notification, with the
// safety poll's answer when there is one.
function withVia(url, answer) {
  const u = new URL(url, self.registration.scope);
  u.searchParams.set('via', 'push');
  if (answer) u.searchParams.set('answer', answer);
  return u.href;
}

// openPage focuses a tab already showing url, or opens one.
async function openPage(url) {
  const target = new URL(url || './', self.registration.scope).href;
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const w of windows) {
    if (w.url === target && 'focus' in w) return w.focus();
  }
  if (self.clients.openWindow) return self.clients.openWindow(target);
  return undefined;
}

async function acknowledge(data, answer) {
  const t = textsFor(data.lang);
  let ok = false;
  try {
    const res = await fetch(withVia(data.url, answer), {
      method: 'POST',
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    ok = res.ok;
  } catch (e) {
    ok = false;
  }
  if (ok) {
    return self.registration.showNotification(answer ? t[answer] : t.done, {
      body: answer ? t.pollBody : t.doneBody,
      tag: data.tag ? data.tag + '-ack' : 'optimum-bcp-ack',
      lang: data.lang,
      data: { url: '', lang: data.lang },
    });
  }
  // Offline, an expired link or a refusal: open the link, where the person can try again.
  await self.registration.showNotification(t.failed, {
    body: t.failedBody,
    tag: data.tag ? data.tag + '-ack' : 'optimum-bcp-ack',
    lang: data.lang,
    data: { url: data.url, lang: data.lang },
  });
  return openPage(data.url);
}

self.addEventListener('notificationclick', (event) => {
  const data = (event.notification && event.notification.data) || {};
  event.notification.close();
  if (event.action === 'ack' && data.url) {
    event.waitUntil(acknowledge(data));
    return;
  }
  if ((event.action === 'safe' || event.action === 'help_needed') && data.url) {
    event.waitUntil(acknowledge(data, event.action));
    return;
  }
  event.waitUntil(openPage(data.url));
});

// The browser renewed (or dropped) the subscription: tell the server the new one, so
// alerts keep arriving without the person opening the app. Needs the session cookie;
// without one the app sends the subscription on the next visit instead.
function base64UrlToBytes(s) {
  const b64 = (s + '='.repeat((4 - (s.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

self.addEventListener('pushsubscriptionchange', (event) => {
  const api = (path) => new URL(path, self.registration.scope).href;
  const json = { 'Content-Type': 'application/json', Accept: 'application/json' };
  event.waitUntil((async () => {
    let sub = event.newSubscription;
    if (!sub) {
      const res = await fetch(api('api/v1/push/vapid-public-key'), { credentials: 'same-origin' });
      if (!res.ok) return;
      const { key } = await res.json();
      sub = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key) });
    }
    await fetch(api('api/v1/push/subscriptions'), { method: 'POST', headers: json, credentials: 'same-origin', body: JSON.stringify(sub) });
    if (event.oldSubscription && event.oldSubscription.endpoint !== sub.endpoint) {
      await fetch(api('api/v1/push/subscriptions'), {
        method: 'DELETE', headers: json, credentials: 'same-origin',
        body: JSON.stringify({ endpoint: event.oldSubscription.endpoint }),
      });
    }
  })().catch(() => { /* retried by the app on the next visit */ }));
});
