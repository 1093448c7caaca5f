#!/usr/bin/env node
// The browser of tests/integration/login.rs (the program FCI_BROWSER names): headless Chromium driven by
// playwright-core opens the URL it is given, signs in as OIDC_USER (default alice@contoso.com) on oidc-provider's
// development pages, consents, and stops on the reader's loopback page (/callback) or on the device flow's success
// page. Only loopback addresses are reached: every other request is refused (the provider's pages import a web font).
// OIDC_RECORD=FILE: write the callback URL reached there (the replay test sends its code again).
import { writeFileSync } from 'node:fs';
import { launchChromium, loopbackContext } from './chromium.mjs';

const url = process.argv[2];
const user = process.env.OIDC_USER ?? 'alice@contoso.com';
const browser = await launchChromium();
let outcome = 1;
try {
  const context = await loopbackContext(browser);
  const page = await context.newPage();
  await page.goto(url);
  for (let step = 0; step < 12; step += 1) {
    await page.waitForLoadState('load');
    const here = new URL(page.url());
    if (here.pathname === '/callback') {
      if (process.env.OIDC_RECORD) writeFileSync(process.env.OIDC_RECORD, page.url());
      outcome = 0;
      break;
    }
    const text = await page.content();
    if (text.includes('Sign-in Success')) { outcome = 0; break; }
    const click = (selector) => Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
    if (await page.locator('input[name=login]').count()) {
      await page.fill('input[name=login]', user);
      await page.fill('input[name=password]', 'any password');
      await click('button[type=submit]');
    } else if (await page.locator('form[id="op.deviceConfirmForm"]').count()) {
      await click('button[autofocus]');
    } else if (await page.locator('input[name=user_code]').count()) {
      throw new Error('the device page asks for the code: open verification_uri_complete');
    } else if (await page.locator('form[action$="/confirm"] button, button[autofocus]').count()) {
      await click('button[autofocus]');
    } else {
      throw new Error(`unexpected page ${page.url()}: ${text.slice(0, 500)}`);
    }
  }
} catch (e) {
  console.error(`browser.mjs: ${e.message}`);
} finally {
  await browser.close();
}
if (outcome !== 0) console.error(`browser.mjs: did not finish the sign-in at ${url}`);
process.exit(outcome);
