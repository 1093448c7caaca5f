#!/usr/bin/env node
// The browser of tests/integration/portal.rs: headless Chromium (playwright-core) driven one step at a time by the
// Rust test. Each line on standard input is a JSON command; each answer is one JSON line on standard output:
//   {"as":"alice","do":"signin","user":"alice@contoso.com"}   a new browser (context) for "alice", signed in to the
//                                                            site through the provider's login and consent pages
//   {"as":"alice","do":"goto","path":"/portal/"}             open a page
//   {"as":"alice","do":"click","selector":"#revoke"}         click and wait for the next page
//   {"as":"alice","do":"post","path":"...","form":{...}}     a POST with the browser's cookies (no page)
//   {"as":"alice","do":"screenshot","file":"/tmp/x.png"}     the current page, whole
//   {"as":"alice","do":"get","path":"..."}                   a GET with the browser's cookies (status, headers)
//   {"as":"alice","do":"cookies"}                            the browser's cookies
//   {"as":"eve","do":"set-cookie","name":N,"value":V}        add a cookie for the site
//   {"as":"carol","do":"client-cert","cert":F,"key":F}       a new browser presenting that client certificate
//   {"as":"alice","do":"axe"}                                axe-core on the current page: violations
//   {"do":"quit"}
// A page answer: status, url, title, h1, the main text, the rows of its tables (with their data-* attributes), and
// every dialog the page opened (an injected script would open one). Only loopback addresses are reached.
// Environment: BASE (the service, https://127.0.0.1:PORT), CHROMIUM (default /usr/bin/chromium).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import readline from 'node:readline';
import { launchChromium, loopbackContext } from './chromium.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const base = process.env.BASE;
const browser = await launchChromium();
const people = new Map();

async function person(name, clientCertificates) {
  let p = people.get(name);
  if (!p) {
    // The service's certificate is from the test's own CA.
    const options = { ignoreHTTPSErrors: true, viewport: { width: 1200, height: 800 }, timezoneId: 'Europe/Paris' };
    if (clientCertificates) options.clientCertificates = clientCertificates;
    const context = await loopbackContext(browser, options);
    const page = await context.newPage();
    p = { context, page, dialogs: [], status: 0 };
    page.on('dialog', async (d) => { p.dialogs.push(d.message()); await d.dismiss(); });
    page.on('response', (r) => { if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) p.status = r.status(); });
    people.set(name, p);
  }
  return p;
}

async function describe(p) {
  const { page } = p;
  await page.waitForLoadState('load');
  const info = await page.evaluate(() => {
    const rows = [...document.querySelectorAll('table')].map((t) => ({
      class: t.className,
      rows: [...t.tBodies].flatMap((b) => [...b.rows]).map((r) => ({
        data: { ...r.dataset },
        cells: [...r.cells].map((c) => c.textContent.trim()),
      })),
    }));
    const h1 = document.querySelector('h1');
    const main = document.querySelector('main');
    return {
      title: document.title,
      h1: h1 ? h1.textContent : null,
      text: main ? main.innerText : document.body.innerText,
      tables: rows,
      imgs: document.querySelectorAll('main img').length,
      tz_note: document.getElementById('tz-note')?.textContent ?? null,
      csrf: document.querySelector('input[name=csrf]')?.value ?? null,
      signed_in_as: document.querySelector('.who')?.textContent ?? null,
      times: [...document.querySelectorAll('time[datetime]')].map((t) => [t.getAttribute('datetime'), t.textContent]),
    };
  });
  return { status: p.status, url: page.url(), dialogs: p.dialogs, ...info };
}

async function signin(p, user) {
  const { page } = p;
  await page.goto(`${base}/portal/`);
  for (let step = 0; step < 12; step += 1) {
    await page.waitForLoadState('load');
    const here = new URL(page.url());
    if (here.origin === new URL(base).origin && here.pathname.startsWith('/portal')) return describe(p);
    const click = (selector) => Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
    if (await page.locator('input[name=login]').count()) {
      await page.fill('input[name=login]', user);
      await page.fill('input[name=password]', 'any password');
      await click('button[type=submit]');
    } else if (await page.locator('button[autofocus]').count()) {
      await click('button[autofocus]');
    } else {
      throw new Error(`unexpected page ${page.url()}: ${(await page.content()).slice(0, 500)}`);
    }
  }
  throw new Error(`the sign-in did not come back to the site: ${page.url()}`);
}

async function run(cmd) {
  if (cmd.do === 'quit') return { ok: true };
  if (cmd.do === 'client-cert') {
    const p = await person(cmd.as, [{ origin: base, certPath: cmd.cert, keyPath: cmd.key }]);
    await p.page.goto(`${base}/portal/`);
    return describe(p);
  }
  const p = await person(cmd.as ?? 'default');
  switch (cmd.do) {
    case 'cookies': return { cookies: await p.context.cookies() };
    case 'set-cookie':
      await p.context.addCookies([{ name: cmd.name, value: cmd.value, url: `${base}/portal/`, httpOnly: true, secure: true, sameSite: 'Lax' }]);
      return { ok: true };
    case 'signin': return signin(p, cmd.user);
    case 'goto': await p.page.goto(`${base}${cmd.path}`); return describe(p);
    case 'click':
      await Promise.all([p.page.waitForNavigation({ waitUntil: 'load' }), p.page.click(cmd.selector)]);
      return describe(p);
    case 'post': {
      const r = await p.context.request.post(`${base}${cmd.path}`, { form: cmd.form ?? {}, maxRedirects: 0 });
      return { status: r.status(), location: r.headers().location ?? null, text: await r.text() };
    }
    case 'get': {
      const r = await p.context.request.get(`${base}${cmd.path}`, { maxRedirects: 0 });
      return { status: r.status(), headers: r.headers(), text: await r.text() };
    }
    case 'screenshot': await p.page.screenshot({ path: cmd.file, fullPage: true }); return { ok: true };
    case 'axe': {
      await p.page.addScriptTag({ content: axeSource }).catch(async () => {
        // The site's CSP refuses an inline script tag: evaluate axe through the debugger instead.
        await p.page.evaluate(axeSource);
      });
      const result = await p.page.evaluate(async () => {
        // eslint-disable-next-line no-undef
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
      });
      return { url: p.page.url(), violations: result };
    }
    default: throw new Error(`unknown command ${JSON.stringify(cmd)}`);
  }
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let cmd;
  let answer;
  try {
    cmd = JSON.parse(line);
    answer = await run(cmd);
  } catch (e) {
    answer = { error: String(e && e.stack ? e.stack : e) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
  if (cmd && cmd.do === 'quit') break;
}
await browser.close();
