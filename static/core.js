// OPTIMUM BCP web app: the shared kernel of the pages — state, i18n lookup, DOM and
// formatting helpers, the JSON API client and hash routing helpers.

import { I18N } from './i18n.js';

export const LANGS = ['es', 'en'];

export const state = {
  lang: 'es',
  me: null,
  meta: null,
  booting: false,
  // The board: active incidents by id; the updated_at (ms) of the newest state seen of
  // every incident, active or not, so an older snapshot never overwrites a newer one.
  board: new Map(),
  seen: new Map(),
  acks: new Map(), // incident id → Set of person ids that acknowledged
  mine: new Set(), // incident ids the signed-in person acknowledged
  acking: new Set(),
  itemErrors: new Map(),
  flash: new Map(), // incident id → time until which it is highlighted
  listError: null,
  listLoaded: false,
  declare: null,
};

// ---------------------------------------------------------------- i18n

export function t(key, vars) {
  let s = I18N[state.lang][key] ?? I18N.es[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

export function storedLang() {
  try { return localStorage.getItem('optimum.lang'); } catch { return null; }
}

export function initialLang() {
  const fromQuery = new URLSearchParams(location.search).get('lang') || hashParams().get('lang');
  if (LANGS.includes(fromQuery)) {
    saveLang(fromQuery);
    return fromQuery;
  }
  const saved = storedLang();
  return LANGS.includes(saved) ? saved : 'es';
}

export function saveLang(lang) {
  try { localStorage.setItem('optimum.lang', lang); } catch { /* private mode: keep it for this page only */ }
}

export function teamName(id) {
  const team = state.meta?.teams?.find((x) => x.id === id);
  if (!team) return id;
  if (typeof team.name === 'string') return team.name;
  return team.name?.[state.lang] || team.name?.es || team.name?.en || id;
}

// ---------------------------------------------------------------- DOM helpers

export const $ = (sel, root = document) => root.querySelector(sel);

// h builds an element: h('button', {class: 'btn', testid: 'x', onclick: fn}, 'text', child…).
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function view() { return $('#view'); }

export function show(...nodes) {
  const v = view();
  v.replaceChildren(...nodes.flat().filter(Boolean));
}

// focusHeading starts a new screen at its top, for eyes and for screen readers.
export function focusHeading() {
  const hd = $('h1, h2', view());
  window.scrollTo(0, 0);
  if (hd) {
    hd.tabIndex = -1;
    hd.focus({ preventScroll: true });
  }
}

// ---------------------------------------------------------------- formatting

export function fmtDuration(ms) {
  let s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('dur.s', { n: s });
  const min = Math.floor(s / 60);
  if (min < 60) return t('dur.min', { n: min });
  const hours = Math.floor(min / 60);
  if (hours < 24) return min % 60 ? t('dur.hmin', { h: hours, m: min % 60 }) : t('dur.h', { n: hours });
  const days = Math.floor(hours / 24);
  return hours % 24 ? t('dur.dh', { d: days, h: hours % 24 }) : t('dur.d', { n: days });
}

// fmtCountdown is a clock for the last hour (4:07) and a duration beyond it.
export function fmtCountdown(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s >= 3600) return fmtDuration(s * 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function fmtTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const sameDay = new Date().toDateString() === d.toDateString();
  const opts = sameDay ? { hour: '2-digit', minute: '2-digit', hour12: false } : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false };
  return new Intl.DateTimeFormat(state.lang === 'es' ? 'es-MX' : 'en-GB', opts).format(d);
}

export function priorityRank(p) {
  const n = parseInt(String(p || '').replace(/^P/i, ''), 10);
  return Number.isFinite(n) ? n : 99;
}

export function priorityBadge(p, testid) {
  const rank = priorityRank(p);
  const cls = rank >= 1 && rank <= 5 ? `badge badge-p${rank}` : 'badge';
  return h('span', { class: cls, testid, title: `${t('priority')} ${p || '?'}` }, p || '?');
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Outside a secure context randomUUID is missing; getRandomValues is not.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function splitList(s) {
  return String(s || '').split(',').map((x) => x.trim()).filter(Boolean);
}

// ---------------------------------------------------------------- API

export const API_BASE = new URL('api/v1/', document.baseURI);

export class NetworkError extends Error {}

// ProblemError carries an RFC 9457 problem: {type, title, status, detail, errors}, and
// the answer's headers (a 429 says in Retry-After when to try again).
export class ProblemError extends Error {
  constructor(status, problem, headers = null) {
    super(problem.detail);
    this.status = status;
    this.problem = problem;
    this.headers = headers;
  }
}

// retryAfter is how many seconds a 429 (or 503) asks to wait: its Retry-After header, in
// seconds or as a date, at least 1; 0 when err is no such answer.
export function retryAfter(err) {
  if (!(err instanceof ProblemError) || (err.status !== 429 && err.status !== 503)) return 0;
  const v = err.headers?.get('Retry-After') || '';
  let s = /^\s*\d+\s*$/.test(v) ? parseInt(v, 10) : Math.ceil((Date.parse(v) - Date.now()) / 1000);
  if (!Number.isFinite(s) || s < 1) s = err.status === 429 ? 5 : 0;
  return Math.min(s, 3600);
}

export function problemOf(status, body) {
  const p = body && typeof body === 'object' ? body : {};
  return {
    ...p,
    status: p.status || status,
    detail: p.detail || p.title || t('error.status', { status }),
    errors: Array.isArray(p.errors) ? p.errors : [],
  };
}

export function errorText(err) {
  if (err instanceof ProblemError) return err.problem.detail;
  return t('error.network');
}

// hooks are set by app.js: what to do when the session turns out to be gone, and when
// a page other than the board acknowledged an incident (the board counts it too).
export const hooks = { signedOut: () => {}, acked: () => {}, stale: () => {} };

// api calls the JSON API with the session cookie. A 401 outside the sign-in calls means
// the session is gone: the app goes back to the sign-in view. raw sends a body as is with
// its own Content-Type (a file upload); withHeaders answers {data, headers}.
export async function api(method, path, { body, raw, contentType, headers = {}, signin = false, withHeaders = false } = {}) {
  const init = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json, application/problem+json', 'Accept-Language': state.lang, ...headers },
  };
  if (raw !== undefined) {
    init.headers['Content-Type'] = contentType || 'application/octet-stream';
    init.body = raw;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  let text;
  try {
    res = await fetch(new URL(path, API_BASE), init);
    text = await res.text();
  } catch {
    throw new NetworkError();
  }
  // Offline, the service worker answers a few reads from its copy and says since when.
  hooks.stale(res.headers.get('X-Optimum-Stale'));
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (res.ok) return withHeaders ? { data, headers: res.headers } : data;
  const err = new ProblemError(res.status, problemOf(res.status, data), res.headers);
  if (res.status === 401 && !signin && state.me) hooks.signedOut();
  throw err;
}

// ---------------------------------------------------------------- routing

export function hashParts() {
  const raw = location.hash.replace(/^#\/?/, '');
  const i = raw.indexOf('?');
  return { path: (i < 0 ? raw : raw.slice(0, i)).replace(/\/+$/, ''), query: i < 0 ? '' : raw.slice(i + 1) };
}

export function hashParams() { return new URLSearchParams(hashParts().query); }

export function replaceHash(hash) {
  history.replaceState(history.state, '', location.pathname + location.search + hash);
}


// ---------------------------------------------------------------- roles

// ROLES from the least to the most allowed.
export const ROLES = ['reporter', 'responder', 'manager', 'admin'];

// can says whether the signed-in user has at least the role.
export function can(role) {
  const mine = ROLES.indexOf(state.me?.role);
  return mine >= 0 && mine >= ROLES.indexOf(role);
}

// nav counts hash navigations, so a page knows to fetch fresh data when it is opened
// again (and not when it is only redrawn, e.g. for a change of language).
export const nav = { seq: 0 };

// ---------------------------------------------------------------- plurals

// tn is t for a count: it picks `${key}.one` when n is 1 and `${key}.other` otherwise, and
// fills {n}. Every sentence with a number in it goes through here, so none reads
// "1 necesitan ayuda" or "14 enviado".
export function tn(key, n, vars) {
  return t(`${key}.${Number(n) === 1 ? 'one' : 'other'}`, { n, ...vars });
}

// userName is how a user is called on screen: the first administrator's account, which
// the server names in English ("first admin", "bootstrap admin"), in the page's language.
export function userName(me) {
  const name = me?.name || me?.id || '';
  return name === 'first admin' || name === 'bootstrap admin' ? t('user.firstAdmin') : name;
}
