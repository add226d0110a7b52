// What every browser test file shares: the server under test, the admin token, where
// screenshots go, and how Debian's Chromium is started here.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

export const BASE = (process.env.OPTIMUM_URL || '').replace(/\/+$/, '');
export const TOKEN = process.env.OPTIMUM_TOKEN || '';
export const ARTIFACTS = process.env.ARTIFACTS || path.join(os.tmpdir(), 'optimum-browser-artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// skip is the reason to skip when no server is given (the Go wrapper always gives one).
export const skip = !BASE || !TOKEN ? 'set OPTIMUM_URL and OPTIMUM_TOKEN to run the browser test' : false;

// Only a server on this machine is a target.
if (BASE) {
  const host = new URL(BASE).hostname;
  if (!/^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(host)) {
    throw new Error(`OPTIMUM_URL must be a loopback address, got ${host}`);
  }
}

// apiCall calls the API the way another client would: bearer token, no browser. A
// declaration gets an Idempotency-Key, as the web app sends one.
export async function apiCall(method, p, { json, csv, want = 200 } = {}) {
  const headers = { Authorization: `Bearer ${TOKEN}` };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (csv !== undefined) {
    headers['Content-Type'] = 'text/csv';
    body = csv;
  }
  if (method === 'POST' && p === 'incidents') headers['Idempotency-Key'] = randomUUID();
  const res = await fetch(`${BASE}/api/v1/${p}`, { method, headers, body });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  assert.equal(res.status, want, `${method} ${p}: ${res.status} ${text}`);
  return data;
}

// watchErrors collects a page's uncaught errors and Content-Security-Policy violations.
export function watchErrors(page, into) {
  page.on('pageerror', (err) => into.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) into.push(`console: ${msg.text()}`);
  });
}

// noSidewaysScroll fails when the page is wider than the screen (a phone must never
// scroll sideways).
export async function noSidewaysScroll(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
}
