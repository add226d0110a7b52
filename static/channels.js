// OPTIMUM BCP web app: the two readiness actions of "Mi perfil" — receive alerts in this
// browser (Web Push) and verify my phone (a six-digit code by SMS).
//
// Push: the service worker (sw.js, scope of the app) shows the alerts. Subscribing asks for
// the notification permission, subscribes with the server's VAPID key
// (GET /api/v1/push/vapid-public-key) and saves the subscription
// (POST /api/v1/push/subscriptions); the card lists the person's browsers
// (GET …/subscriptions, DELETE …/subscriptions/{id}), sends a test (POST /api/v1/push/test)
// and stops this browser (pushSubscription.unsubscribe() and DELETE …/subscriptions
// {endpoint}). A browser that has a subscription sends it again when the app opens, so a
// subscription the browser renewed while no session was open reaches the server.
//
// Phone: POST /api/v1/me/phone/verification sends the code, …/confirm {code} checks it and
// answers the person, whose channels.phone_verified_at is then set.

import { state, t, h, $, view, api, ProblemError, NetworkError, errorText, nav, fmtDuration, fmtCountdown } from './core.js';
import { newCooldown, startCooldown, tickCooldown, stopCooldown, coolingDown } from './account.js';

const READY_TIMEOUT_MS = 15_000;
// PUSH_TIMEOUT_MS bounds the browser's push service: past it, the person is told that the
// browser's service (not our server) did not answer. Tests shorten it (setPushTimeout).
let PUSH_TIMEOUT_MS = 10_000;

// setPushTimeout changes how long subscribing may take (for the browser test).
export function setPushTimeout(ms) { PUSH_TIMEOUT_MS = ms; }
const PUSH_OWNER_KEY = 'optimum.push.person';

// ---------------------------------------------------------------- small helpers

function locale() { return state.lang === 'es' ? 'es-MX' : 'en-GB'; }

function fmtDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'long', timeStyle: 'short', hourCycle: 'h23' }).format(d);
}

function ago(iso) {
  const ts = Date.parse(iso);
  if (!Number.isFinite(ts)) return '';
  return t('ago', { d: fmtDuration(Date.now() - ts) });
}

function base64UrlToBytes(s) {
  const b64 = String(s).replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function sameBytes(a, b) {
  if (!a || !b) return false;
  const x = new Uint8Array(a instanceof ArrayBuffer ? a : a.buffer || a);
  if (x.length !== b.length) return false;
  return x.every((v, i) => v === b[i]);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(what)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

function storeGet(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

function storeSet(key, value) {
  try {
    if (value == null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch { /* private mode */ }
}

// redrawCard swaps the card with the given testid for a fresh one, keeping the focus on
// the element of the same testid (else on the card's status line) when it was inside.
function redrawCard(testid, build) {
  const old = $(`[data-testid="${testid}"]`, view());
  if (!old) return;
  const active = document.activeElement;
  const had = active && old.contains(active) ? active.dataset.testid || '' : null;
  const fresh = build();
  old.replaceWith(fresh);
  if (had == null) return;
  const same = had && fresh.querySelector(`[data-testid="${had}"]`);
  const target = same && !same.disabled ? same : fresh.querySelector('[data-focus]');
  target?.focus();
}

// problemText is a problem's detail and its field errors, as text.
function problemText(err) {
  // Only a failed request to our server is "no connection"; anything else says what failed.
  if (!(err instanceof ProblemError)) return err instanceof NetworkError || !err?.message ? errorText(err) : err.message;
  const extra = err.problem.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message || String(e)));
  return [err.problem.detail, ...extra].join(' ');
}

function alertBox(text, testid, cls = 'alert-error') {
  if (!text) return null;
  return h('div', { class: `alert ${cls}`, role: cls === 'alert-error' ? 'alert' : 'status', testid, tabindex: '-1', 'data-focus': '' },
    (Array.isArray(text) ? text : [text]).map((x) => h('p', {}, x)));
}

// ---------------------------------------------------------------- push: the browser side

function scopeURL() { return new URL('./', document.baseURI).href; }

// pushSupport says whether this browser can receive pushes here, and if not, why.
export function pushSupport() {
  if (!window.isSecureContext) return { ok: false, reason: 'insecure' };
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    const ios = /iP(hone|ad|od)/.test(navigator.userAgent) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
    return { ok: false, reason: ios ? 'ios' : 'api' };
  }
  return { ok: true, reason: '' };
}

function permission() {
  return 'Notification' in window ? Notification.permission : 'default';
}

// registration registers the service worker (a no-op when it is already) and waits until
// it is active, which pushManager.subscribe requires.
// Registering and starting the app's own service worker has its own bound (a busy phone
// may take seconds), apart from the push service's: both the registration and the wait
// are bounded, so the button never stays on "Activando…".
async function registration() {
  const ready = navigator.serviceWorker.register(new URL('sw.js', document.baseURI).href, { scope: scopeURL() })
    .then(() => navigator.serviceWorker.ready);
  return withTimeout(ready, READY_TIMEOUT_MS, t('push.swTimeout', { s: Math.round(READY_TIMEOUT_MS / 1000) }));
}

async function currentSubscription() {
  const reg = await navigator.serviceWorker.getRegistration(scopeURL());
  return reg ? reg.pushManager.getSubscription() : null;
}

// syncPush sends this browser's subscription to the server when the app opens, if the
// person signed in is the one who subscribed it here (so a colleague who signs in on a
// shared computer does not take over its alerts).
export async function syncPush() {
  try {
    const owner = state.me?.person_id;
    if (!owner || storeGet(PUSH_OWNER_KEY) !== owner || !pushSupport().ok || permission() !== 'granted') return;
    const sub = await currentSubscription();
    if (sub) await api('POST', 'push/subscriptions', { body: sub.toJSON() });
  } catch { /* the profile page shows the state; this is a quiet retry */ }
}

// ---------------------------------------------------------------- push: the card

function freshPush() {
  return {
    nav: -1,
    loading: false,
    list: null, // the person's browsers, from the server
    server: null, // null | 'ok' | 'off' (503) | 'unlinked' (404) | 'error'
    serverDetail: '',
    sub: null, // this browser's PushSubscription
    thisId: null, // its id on the server
    busy: '', // 'subscribe' | 'test' | 'unsubscribe' | 'remove:<id>'
    problem: null,
    notice: null,
    dismissed: false,
    someoneElse: false, // this browser's subscription was made by another account
    test: null, // {sent, results} of the last test
  };
}

let push = freshPush();
let pushOpts = { linked: false, onCount: () => {} };

function pushState() {
  if (pushOpts.linked == null) return 'loading';
  if (!pushOpts.linked) return 'nolink';
  if (push.server === 'off') return 'off';
  if (push.server === 'unlinked') return 'unlinked';
  if (!push.server) return 'loading';
  if (!pushSupport().ok) return 'unsupported';
  if (permission() === 'denied') return 'denied';
  if (push.sub && push.thisId) return 'subscribed';
  if (push.server === 'error') return 'error';
  return 'ready';
}

function setList(list) {
  push.list = Array.isArray(list) ? list : [];
  pushOpts.onCount(push.list.length);
}

async function fetchList() {
  setList(await api('GET', 'push/subscriptions'));
}

async function loadPush() {
  push.loading = true;
  push.nav = nav.seq;
  push.problem = null;
  push.notice = null;
  push.test = null;
  try {
    await fetchList();
    push.server = 'ok';
  } catch (err) {
    if (err instanceof ProblemError && err.status === 401) { push.loading = false; return; }
    push.list = null;
    push.sub = null;
    push.thisId = null;
    if (err instanceof ProblemError && err.status === 503) push.server = 'off';
    else if (err instanceof ProblemError && err.status === 404) push.server = 'unlinked';
    else push.server = 'error';
    push.serverDetail = errorText(err);
  }
  if (push.server === 'ok' && pushSupport().ok) {
    try {
      push.sub = await currentSubscription();
      push.thisId = null;
      // The browser keeps its subscription; saving it again (200 when the server has it)
      // tells which of the list is this browser, and restores it if the server lost it.
      // A subscription someone else made here stays theirs until this person asks for it.
      push.someoneElse = !!push.sub && storeGet(PUSH_OWNER_KEY) !== (state.me?.person_id || null);
      if (push.sub && !push.someoneElse && permission() === 'granted') {
        const saved = await api('POST', 'push/subscriptions', { body: push.sub.toJSON() });
        push.thisId = saved?.id || null;
        storeSet(PUSH_OWNER_KEY, state.me?.person_id || null);
        if (saved && !push.list.some((b) => b.id === saved.id)) setList([...push.list, saved]);
      }
    } catch (err) {
      if (err instanceof ProblemError && err.status === 401) { push.loading = false; return; }
      push.problem = problemText(err);
    }
  }
  push.loading = false;
  redrawPush();
}

function redrawPush() { redrawCard('push-card', buildPushCard); }

async function pushAction(name, fn) {
  if (push.busy) return;
  push.busy = name;
  push.problem = null;
  push.notice = null;
  push.dismissed = false;
  redrawPush();
  try {
    await fn();
  } catch (err) {
    if (err instanceof ProblemError && err.status === 401) { push.busy = ''; return; }
    push.problem = problemText(err);
  }
  push.busy = '';
  redrawPush();
  // Move the focus to what changed, for screen readers and keyboards.
  const card = $('[data-testid="push-card"]', view());
  const focus = card && (card.querySelector('.alert[data-focus]') || card.querySelector('[data-testid="push-test-result"]'));
  focus?.focus();
}

function subscribe() {
  return pushAction('subscribe', async () => {
    let perm = permission();
    if (perm === 'default') perm = await Notification.requestPermission();
    if (perm === 'denied') return; // the card explains how to allow it again
    if (perm !== 'granted') { push.dismissed = true; return; }
    const { key } = await api('GET', 'push/vapid-public-key');
    const appKey = base64UrlToBytes(key);
    const reg = await registration();
    let sub = await withTimeout(reg.pushManager.getSubscription(), PUSH_TIMEOUT_MS, t('push.timeout', { s: Math.round(PUSH_TIMEOUT_MS / 1000) }));
    // A subscription made with another server key (the keys changed) cannot be reused.
    if (sub && sub.options?.applicationServerKey && !sameBytes(sub.options.applicationServerKey, appKey)) {
      await sub.unsubscribe();
      sub = null;
    }
    if (!sub) {
      try {
        sub = await withTimeout(reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: appKey }),
          PUSH_TIMEOUT_MS, t('push.timeout', { s: Math.round(PUSH_TIMEOUT_MS / 1000) }));
      } catch (err) {
        if (permission() === 'denied') return;
        if (err?.message === t('push.timeout', { s: Math.round(PUSH_TIMEOUT_MS / 1000) })) throw err;
        throw new Error(t('push.failed', { detail: err?.message || String(err) }));
      }
    }
    let saved;
    try {
      try {
        saved = await api('POST', 'push/subscriptions', { body: sub.toJSON() });
      } catch (err) {
        // 409: this browser's subscription is registered to someone else (a shared
        // computer). The server never hands it over; a fresh subscription is this person's.
        if (!(err instanceof ProblemError && err.status === 409)) throw err;
        await sub.unsubscribe().catch(() => {});
        sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: appKey });
        saved = await api('POST', 'push/subscriptions', { body: sub.toJSON() });
      }
    } catch (err) {
      // The server refused it: drop it here too, so what the card shows is what is true.
      if (err instanceof ProblemError && err.status !== 401) await sub.unsubscribe().catch(() => {});
      push.sub = null;
      push.thisId = null;
      throw err;
    }
    push.sub = sub;
    push.thisId = saved?.id || null;
    push.someoneElse = false;
    storeSet(PUSH_OWNER_KEY, state.me?.person_id || null);
    push.test = null;
    await fetchList();
    push.notice = t('push.done');
  });
}

// stopHere unsubscribes this browser here and on the server.
async function stopHere() {
  const sub = push.sub || await currentSubscription();
  if (sub) await api('DELETE', 'push/subscriptions', { body: { endpoint: sub.endpoint } });
  if (sub) await sub.unsubscribe().catch(() => false);
  push.sub = null;
  push.thisId = null;
  storeSet(PUSH_OWNER_KEY, null);
}

function unsubscribe() {
  return pushAction('unsubscribe', async () => {
    await stopHere();
    push.test = null;
    await fetchList();
    push.notice = t('push.stopped');
  });
}

function removeBrowser(b) {
  return pushAction(`remove:${b.id}`, async () => {
    const name = browserName(b.user_agent);
    if (b.id === push.thisId) {
      await api('DELETE', `push/subscriptions/${encodeURIComponent(b.id)}`);
      await push.sub?.unsubscribe().catch(() => false);
      push.sub = null;
      push.thisId = null;
      storeSet(PUSH_OWNER_KEY, null);
    } else {
      await api('DELETE', `push/subscriptions/${encodeURIComponent(b.id)}`);
    }
    if (push.test) push.test = { ...push.test, results: push.test.results.filter((r) => r.id !== b.id) };
    await fetchList();
    push.notice = t('push.removed', { name });
  });
}

function sendTest() {
  return pushAction('test', async () => {
    push.test = null;
    push.test = await api('POST', 'push/test');
    // The outcome is recorded on each browser (last success or failure; an expired one is
    // removed): show the list as it is now.
    await fetchList().catch(() => {});
  });
}

// browserName makes "Chrome en Android" of a User-Agent.
export function browserName(ua) {
  const s = String(ua || '');
  const browser = /Edg(e|A|iOS)?\//.test(s) ? 'Edge'
    : /OPR\/|Opera/.test(s) ? 'Opera'
      : /SamsungBrowser/.test(s) ? 'Samsung Internet'
        : /Firefox\/|FxiOS/.test(s) ? 'Firefox'
          : /Chrome\/|CriOS|Chromium/.test(s) ? 'Chrome'
            : /Safari\//.test(s) ? 'Safari' : '';
  const os = /iPhone/.test(s) ? 'iPhone' : /iPad/.test(s) ? 'iPad' : /Android/.test(s) ? 'Android'
    : /Windows/.test(s) ? 'Windows' : /CrOS/.test(s) ? 'ChromeOS' : /Mac OS X|Macintosh/.test(s) ? 'Mac'
      : /Linux/.test(s) ? 'Linux' : '';
  if (browser && os) return t('push.browserOn', { browser, os });
  return browser || os || t('push.browser');
}

function browserItem(b) {
  const here = b.id === push.thisId;
  const name = browserName(b.user_agent);
  const removing = push.busy === `remove:${b.id}`;
  const okAt = Date.parse(b.last_success_at || '');
  const badAt = Date.parse(b.last_failure_at || '');
  const health = [];
  if (Number.isFinite(okAt)) health.push(h('span', { class: 'cb cb-ok', testid: 'push-last-ok' }, `✓ ${t('push.lastOk', { ago: ago(b.last_success_at) })}`));
  if (Number.isFinite(badAt) && (!Number.isFinite(okAt) || badAt > okAt)) {
    health.push(h('span', { class: 'cb cb-bad', testid: 'push-last-fail' }, t('push.lastFail', { ago: ago(b.last_failure_at) })));
  }
  return h('li', { class: 'push-item', testid: 'push-browser', 'data-id': b.id, 'data-this': String(here) },
    h('div', { class: 'push-item-text' },
      h('p', { class: 'push-item-name' },
        h('strong', { testid: 'push-browser-name' }, name),
        here ? h('span', { class: 'cb cb-ok push-here', testid: 'push-this' }, t('push.this')) : null),
      h('p', { class: 'muted small' }, [b.endpoint_host, t('push.since', { ago: ago(b.created_at) })].filter(Boolean).join(' · ')),
      health.length ? h('p', { class: 'cbs' }, health) : null),
    h('button', {
      type: 'button', class: 'btn btn-small btn-warn', testid: 'push-remove', disabled: !!push.busy,
      'aria-label': t('push.removeLabel', { name }), onclick: () => removeBrowser(b),
    }, removing ? t('push.removing') : t('push.remove')));
}

// shortError keeps a push service's address to its host: the rest of an endpoint is a
// long random path (and a capability to push to the browser).
function shortError(text) {
  return String(text || '').replace(/(https?:\/\/[^/\s"']+)\/[^\s"']*/g, '$1/…');
}

function testResults() {
  const res = push.test;
  if (!res) return null;
  const results = Array.isArray(res.results) ? res.results : [];
  const sent = Number(res.sent) || 0;
  const level = results.length && sent === results.length ? 'ok' : sent ? 'warn' : 'bad';
  return h('div', { class: `push-test push-test-${level}`, testid: 'push-test-result', tabindex: '-1', 'data-sent': String(sent), 'data-total': String(results.length) },
    h('p', { class: 'push-test-sum', testid: 'push-test-summary' },
      sent === 0 ? t('push.testNone') : sent === results.length ? t('push.testAll', { n: sent }) : t('push.testSome', { sent, n: results.length })),
    h('ul', {}, results.map((r) => {
      const name = browserName(r.user_agent);
      const text = r.status === 'sent' ? t('push.result.sent', { name })
        : r.status === 'gone' ? t('push.result.gone', { name })
          : t('push.result.failed', { name });
      return h('li', { class: `push-result push-result-${r.status === 'sent' ? 'ok' : 'bad'}`, testid: 'push-result', 'data-id': r.id, 'data-status': r.status },
        h('span', { class: 'push-result-icon', 'aria-hidden': 'true' }, r.status === 'sent' ? '✓' : '✗'),
        h('span', {},
          h('span', { testid: 'push-result-text' }, text),
          r.endpoint_host ? h('span', { class: 'muted small' }, ` (${r.endpoint_host})`) : null,
          r.status !== 'sent' && r.error ? h('span', { class: 'push-result-error small', testid: 'push-result-error' }, shortError(r.error)) : null,
          r.status === 'failed' && r.retryable ? h('span', { class: 'muted small' }, t('push.result.retry')) : null));
    })));
}

function buildPushCard() {
  const st = pushState();
  const support = pushSupport();
  const button = (props, text) => h('button', { type: 'button', class: 'btn btn-block', ...props }, text);
  const subscribeBtn = (enabled) => button({
    class: 'btn btn-primary btn-block btn-big', testid: 'push-subscribe', disabled: !enabled || !!push.busy,
    'aria-describedby': 'push-note', onclick: subscribe,
  }, push.busy === 'subscribe' ? t('push.subscribing') : t('push.subscribe'));

  let note;
  let actions;
  switch (st) {
    case 'nolink':
      note = t('push.nolink');
      actions = subscribeBtn(false);
      break;
    case 'loading':
      note = t('loading');
      actions = subscribeBtn(false);
      break;
    case 'off':
    case 'unlinked':
    case 'error':
      note = push.serverDetail;
      actions = [subscribeBtn(st === 'error' && support.ok && permission() !== 'denied'),
        st === 'error' ? button({ testid: 'push-retry', onclick: () => loadPush() }, t('retry')) : null];
      break;
    case 'unsupported':
      note = t(`push.unsupported.${support.reason}`);
      actions = subscribeBtn(false);
      break;
    case 'denied':
      note = [t('push.denied'), t('push.denied.how')];
      actions = subscribeBtn(false);
      break;
    case 'subscribed':
      note = t('push.on');
      actions = [
        button({ class: 'btn btn-primary btn-block', testid: 'push-test', disabled: !!push.busy, onclick: sendTest },
          push.busy === 'test' ? t('push.testing') : t('push.test')),
        button({ class: 'btn btn-block btn-warn', testid: 'push-unsubscribe', disabled: !!push.busy, onclick: unsubscribe },
          push.busy === 'unsubscribe' ? t('push.stopping') : t('push.unsubscribe')),
      ];
      break;
    default: // ready
      note = push.someoneElse && push.sub ? [t('push.lead'), t('push.someoneElse')] : t('push.lead');
      actions = subscribeBtn(true);
  }
  const notes = Array.isArray(note) ? note : [note];
  const list = push.list;
  const canTestOthers = st !== 'subscribed' && push.server === 'ok' && list?.length > 0;
  return h('section', {
    class: 'card stack push-card', testid: 'push-card', 'data-state': st, 'data-busy': push.busy || null,
    'aria-labelledby': 'push-title',
  },
  h('h2', { id: 'push-title' }, t('push.title')),
  h('div', { id: 'push-note', class: `push-note push-note-${st}`, testid: 'push-note' },
    notes.map((x) => h('p', { class: st === 'subscribed' ? 'push-on' : 'hint' }, x))),
  alertBox(push.problem, 'push-error'),
  push.dismissed ? alertBox(t('push.dismissed'), 'push-dismissed', 'alert-warn') : null,
  alertBox(push.notice, 'push-notice', 'alert-ok'),
  h('div', { class: 'push-actions' }, actions),
  testResults(),
  list && push.server === 'ok' ? h('div', { class: 'push-list-wrap' },
    h('h3', { class: 'push-list-title' }, t('push.list')),
    list.length
      ? h('ul', { class: 'push-list', testid: 'push-list' }, list.map(browserItem))
      : h('p', { class: 'muted', testid: 'push-none' }, t('push.none')),
    canTestOthers ? button({ class: 'btn btn-block', testid: 'push-test', disabled: !!push.busy, onclick: sendTest },
      push.busy === 'test' ? t('push.testing') : t('push.testOthers')) : null) : null);
}

// pushCard is the "Avisos en este navegador" card. linked: the user has a directory entry
// (false: the card only says so; null: not known yet); onCount(n) hears how many browsers
// the person has.
export function pushCard({ linked, onCount = () => {} }) {
  pushOpts = { linked: linked == null ? null : !!linked, onCount };
  if (linked && push.nav !== nav.seq && !push.loading) loadPush();
  return buildPushCard();
}

// ---------------------------------------------------------------- phone verification

function freshPhone() {
  return {
    phone: null, // the phone the code was sent to
    stage: 'idle', // 'idle' | 'sending' | 'code' | 'confirming'
    sentTo: '',
    expiresAt: 0,
    code: '',
    fieldError: null,
    problem: null,
    again: false, // the last code is over: offer a new one
    done: -1, // the navigation in which the phone was verified: say so there
  };
}

let ph = freshPhone();
let phonePerson = null;
let phoneDone = () => {};
let expiryTimer = 0;

const startCd = newCooldown(() => ({
  button: $('[data-testid="phone-start"]', view()) || $('[data-testid="phone-resend"]', view()),
  message: $('[data-testid="phone-wait"]', view()),
}));
const confirmCd = newCooldown(() => ({
  button: $('[data-testid="phone-confirm"]', view()),
  message: $('[data-testid="phone-confirm-wait"]', view()),
}));

function redrawPhone() { redrawCard('phone-card', () => buildPhoneCard(phonePerson)); }

function tickExpiry() {
  clearTimeout(expiryTimer);
  expiryTimer = 0;
  if (ph.stage !== 'code' && ph.stage !== 'confirming') return;
  const left = ph.expiresAt - Date.now();
  if (left <= 0) {
    if (ph.stage === 'confirming') { expiryTimer = setTimeout(tickExpiry, 1000); return; }
    ph.stage = 'idle';
    ph.again = true;
    ph.code = '';
    ph.fieldError = null;
    ph.problem = t('phone.expired');
    redrawPhone();
    return;
  }
  const el = $('[data-testid="phone-expires"]', view());
  if (el) el.textContent = t('phone.expires', { t: fmtCountdown(left) });
  expiryTimer = setTimeout(tickExpiry, (left % 1000) || 1000);
}

async function startVerification() {
  if (ph.stage === 'sending' || coolingDown(startCd)) return;
  const phone = phonePerson?.phone;
  ph.stage = 'sending';
  ph.problem = null;
  ph.fieldError = null;
  redrawPhone();
  try {
    const res = await api('POST', 'me/phone/verification');
    ph.phone = phone;
    ph.sentTo = res?.sent_to || '';
    ph.expiresAt = Date.now() + (Number(res?.expires_in_seconds) || 600) * 1000;
    ph.code = '';
    ph.again = false;
    ph.stage = 'code';
  } catch (err) {
    ph.stage = ph.sentTo && ph.expiresAt > Date.now() && !ph.again ? 'code' : 'idle';
    if (err instanceof ProblemError && err.status === 401) return; // signed out: the sign-in view shows
    if (!startCooldown(startCd, err)) ph.problem = problemText(err);
  }
  redrawPhone();
  tickExpiry();
  const card = $('[data-testid="phone-card"]', view());
  (card?.querySelector('[data-testid="phone-code"]') || card?.querySelector('.alert[data-focus]'))?.focus();
}

async function confirmCode(e) {
  e.preventDefault();
  if (ph.stage !== 'code' || coolingDown(confirmCd)) return;
  const code = ph.code.replace(/\s+/g, '');
  ph.problem = null;
  if (!/^\d{6}$/.test(code)) {
    ph.fieldError = t('phone.code.invalid');
    redrawPhone();
    $('[data-testid="phone-code"]', view())?.focus();
    return;
  }
  ph.fieldError = null;
  ph.stage = 'confirming';
  redrawPhone();
  let person = null;
  try {
    person = await api('POST', 'me/phone/verification/confirm', { body: { code } });
    stopCooldown(confirmCd);
  } catch (err) {
    ph.stage = 'code';
    if (err instanceof ProblemError && err.status === 401) return;
    if (startCooldown(confirmCd, err)) {
      // The countdown says it all.
    } else if (err instanceof ProblemError && err.status === 422) {
      // The server's message for the field is in English; the field gets ours.
      const others = err.problem.errors.filter((x) => x.field !== 'code');
      ph.fieldError = t('phone.code.wrong');
      ph.problem = [err.problem.detail, ...others.map((x) => (x.field ? `${x.field}: ${x.message}` : x.message))].join(' ');
    } else if (err instanceof ProblemError && err.status === 409) {
      // Expired, too many tries, or the phone changed: this code is over.
      ph.stage = 'idle';
      ph.again = true;
      ph.code = '';
      ph.problem = [err.problem.detail, t('phone.askNew')];
    } else {
      ph.problem = problemText(err);
    }
  }
  if (person) {
    ph = { ...freshPhone(), done: nav.seq };
    tickExpiry();
    phoneDone(person);
    return;
  }
  redrawPhone();
  tickExpiry();
  const card = $('[data-testid="phone-card"]', view());
  const target = ph.fieldError ? card?.querySelector('[data-testid="phone-code"]') : card?.querySelector('.alert[data-focus]');
  target?.focus();
}

function buildPhoneCard(person) {
  const p = person || {};
  const c = p.channels || {};
  // A code sent to another phone (the person changed it since) is over.
  if (ph.phone && ph.phone !== p.phone) ph = freshPhone();
  const verified = !!(p.phone && c.phone_verified_at);
  const st = !p.phone ? 'none' : verified ? 'verified' : (ph.stage === 'code' || ph.stage === 'confirming') ? 'code' : 'idle';
  const stop = c.sms_opted_out_at ? h('div', { class: 'alert alert-warn', testid: 'phone-stop' },
    h('p', {}, t('phone.stop', { date: fmtDate(c.sms_opted_out_at) })),
    h('p', {}, t('phone.stop.undo'))) : null;

  let body;
  if (st === 'none') {
    body = h('p', { class: 'hint', testid: 'phone-none' }, t('phone.none'));
  } else if (st === 'verified') {
    body = [
      h('p', { class: 'phone-verified', testid: 'phone-verified', tabindex: '-1', 'data-focus': '' },
        h('span', { class: 'phone-check', 'aria-hidden': 'true' }, '✓'), ' ',
        t('phone.verified', { date: fmtDate(c.phone_verified_at) })),
      h('p', { class: 'muted' }, p.phone),
      ph.done === nav.seq ? h('p', { class: 'alert alert-ok', role: 'status', testid: 'phone-done' }, t('phone.done')) : null,
    ];
  } else if (st === 'idle') {
    const sending = ph.stage === 'sending';
    body = [
      h('p', { class: 'hint', id: 'phone-lead' }, t('phone.lead', { phone: p.phone })),
      alertBox(ph.problem, 'phone-error'),
      h('p', { class: 'error', role: 'status', testid: 'phone-wait', hidden: true }),
      h('button', {
        type: 'button', class: 'btn btn-primary btn-block', testid: 'phone-start', disabled: sending,
        'aria-describedby': 'phone-lead', onclick: startVerification,
      }, sending ? t('phone.sending') : ph.again ? t('phone.resend') : t('phone.start')),
    ];
  } else {
    const confirming = ph.stage === 'confirming';
    const input = h('input', {
      id: 'phone-code', name: 'one-time-code', class: 'input input-code', testid: 'phone-code', type: 'text',
      inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', pattern: '[0-9]{6}', enterkeyhint: 'done',
      spellcheck: 'false', 'aria-describedby': 'phone-code-hint phone-err-code', 'aria-invalid': ph.fieldError ? 'true' : null,
      oninput: (ev) => {
        ph.code = ev.target.value;
        if (ph.fieldError) {
          ph.fieldError = null;
          ev.target.removeAttribute('aria-invalid');
          const line = $('#phone-err-code', view());
          if (line) { line.hidden = true; line.textContent = ''; }
        }
      },
    });
    input.value = ph.code;
    body = [
      h('p', { class: 'phone-sent', testid: 'phone-sent' }, t('phone.sent', { to: ph.sentTo || p.phone }), ' ',
        h('span', { class: 'muted', testid: 'phone-expires' }, t('phone.expires', { t: fmtCountdown(ph.expiresAt - Date.now()) }))),
      alertBox(ph.problem, 'phone-error'),
      h('form', { class: 'stack phone-code-form', testid: 'phone-code-form', novalidate: true, onsubmit: confirmCode },
        h('div', { class: 'field' },
          h('label', { for: 'phone-code', class: 'label' }, t('phone.code')),
          h('p', { class: 'hint', id: 'phone-code-hint' }, t('phone.code.hint')),
          input,
          h('p', { class: 'field-error', id: 'phone-err-code', testid: 'phone-err-code', hidden: !ph.fieldError }, ph.fieldError || '')),
        h('p', { class: 'error', role: 'status', testid: 'phone-confirm-wait', hidden: true }),
        h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'phone-confirm', disabled: confirming },
          confirming ? t('phone.confirming') : t('phone.confirm'))),
      h('p', { class: 'error', role: 'status', testid: 'phone-wait', hidden: true }),
      h('button', { type: 'button', class: 'btn btn-link btn-block', testid: 'phone-resend', disabled: confirming, onclick: startVerification },
        t('phone.resend')),
    ];
  }
  queueMicrotask(() => { tickCooldown(startCd); tickCooldown(confirmCd); });
  return h('section', { class: 'card stack phone-card', testid: 'phone-card', 'data-state': st, 'aria-labelledby': 'phone-title' },
    h('h2', { id: 'phone-title' }, st === 'verified' ? t('phone.titleDone') : t('phone.title')),
    stop,
    body);
}

// phoneCard is the "Verificar mi teléfono" card for the person of the profile; onVerified
// gets the person the server answers once the code is right.
export function phoneCard(person, { onVerified = () => {} } = {}) {
  phonePerson = person;
  phoneDone = onVerified;
  return buildPhoneCard(person);
}

// forgetChannels drops what the cards remember, at sign-out.
export function forgetChannels() {
  push = freshPush();
  ph = freshPhone();
  clearTimeout(expiryTimer);
  expiryTimer = 0;
  stopCooldown(startCd);
  stopCooldown(confirmCd);
}
