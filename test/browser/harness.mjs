// What every browser test file shares: the server under test, the admin token, where
// screenshots go, and how Debian's Chromium is started here.
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
