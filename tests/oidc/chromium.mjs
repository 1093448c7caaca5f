// Headless Chromium for the tests' browsers (browser.mjs, portal.mjs), through playwright-core: Debian's chromium
// (CHROMIUM overrides /usr/bin/chromium), nothing fetched in the background, and no address but loopback reachable
// (the provider's pages import a web font; a test must not depend on, or leak to, the network).
import { chromium } from 'playwright-core';

const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
}

// A browser context whose requests to anything but loopback are refused.
export async function loopbackContext(browser, options = {}) {
  const context = await browser.newContext(options);
  await context.route((u) => !loopback.has(u.hostname), (route) => route.abort());
  return context;
}
