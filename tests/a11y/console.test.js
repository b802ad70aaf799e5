// The staff console end to end in a real browser (Debian's Chromium driven by
// playwright-core, axe-core on every page), run by scripts/check-console, which starts
// ten `postroom console --demo` servers (each on the demo post in a fresh home) and
// passes their addresses:
//   CONSOLE_URL    the page sweep, the keyboard-only journey, the CSRF checks, sign-out;
//   CONSOLE_URL_2  the triage journey with JavaScript on;
//   CONSOLE_URL_3  the triage journey with JavaScript off;
//   CONSOLE_URL_UPLOAD_JS, CONSOLE_URL_UPLOAD_NOJS  the upload journey, JavaScript on / off;
//   CONSOLE_URL_FOI      logging an FOI request, its moves, its response letter, publication;
//   CONSOLE_URL_LETTERS  the letters journey: a template, a CSV batch with errors, a good one;
//   CONSOLE_URL_ROLE_LETTERS, CONSOLE_URL_ROLE_FOI  signed in with the role "letters" only,
//     or "foi-officer" only (POSTROOM_CONSOLE_ROLES), for the 403s;
//   CONSOLE_URL_OIDC  a tenth, signing people in only with the OpenID Connect provider at
//     OIDC_ISSUER (the local stand-in for Cognito), for the AWS sign-in flow.
// CONSOLE_TOKEN is the sign-in token (POSTROOM_CONSOLE_TOKEN), CONSOLE_WHO the person it
// signs in (USER), SCREENSHOT_DIR where each page's screenshot goes, per mode.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { chromium } = require('playwright-core');

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (scripts/check-console sets it)`);
  return v.replace(/\/+$/, '');
};
const BASE = need('CONSOLE_URL');
const BASE_JS = need('CONSOLE_URL_2');
const BASE_NOJS = need('CONSOLE_URL_3');
const BASE_UPLOAD_JS = need('CONSOLE_URL_UPLOAD_JS');
const BASE_UPLOAD_NOJS = need('CONSOLE_URL_UPLOAD_NOJS');
const BASE_FOI = need('CONSOLE_URL_FOI');
const BASE_LETTERS = need('CONSOLE_URL_LETTERS');
const BASE_ROLE_LETTERS = need('CONSOLE_URL_ROLE_LETTERS');
const BASE_ROLE_FOI = need('CONSOLE_URL_ROLE_FOI');
const TOKEN = need('CONSOLE_TOKEN');
const WHO = process.env.CONSOLE_WHO || '';
const SHOTS = process.env.SCREENSHOT_DIR || path.resolve(__dirname, '../../target/console-screenshots');

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa', 'best-practice'];
const NAV_TIMEOUT = 20_000;
const STEP_TIMEOUT = 10_000;
const NARROW = { width: 320, height: 640 };
const WIDE = { width: 1280, height: 900 };

// Which case each unfiled demo document belongs to (by its file name).
const FILE_TO = [
  [/internal-review/, 'FOI_7001'],
  [/letter-without-reference/, 'CNST/25/008879'],
];
const WRONG_REF = 'CNST/99/000000';
// The cases the demo makes (the cases list may show only some kinds by default).
const DEMO_CASES = ['CNST/25/008879', 'FOI_7001', 'SHA/22961'];

let browser;
// The signed-in pages of CONSOLE_URL, found once (before anything is filed there).
let PAGES;
// Every axe violation found, for the summary printed at the end.
const FINDINGS = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  // The axe violations, grouped by rule and element, with the pages (and modes) they are on.
  if (FINDINGS.length) {
    const groups = new Map();
    for (const f of FINDINGS) {
      const key = `${f.id} (${f.impact}) at ${f.target}: ${f.help}`;
      if (!groups.has(key)) groups.set(key, new Set());
      groups.get(key).add(f.where);
    }
    console.log(`\naxe violations: ${FINDINGS.length} in all, ${groups.size} distinct (rule, element):`);
    for (const [key, where] of groups) {
      console.log(`  ${key}\n    on ${where.size} page view(s): ${[...where].join(', ')}`);
    }
  }
  if (browser) await browser.close();
});

// ---------------------------------------------------------------- helpers

async function newContext(options = {}) {
  const context = await browser.newContext({ viewport: WIDE, ...options });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(NAV_TIMEOUT);
  return context;
}

/** Signs the context in by token on `base`; returns a page on the home page. */
async function signIn(context, base) {
  const page = await context.newPage();
  const answer = await page.goto(`${base}/sign-in?token=${encodeURIComponent(TOKEN)}`);
  assert.equal(answer.status(), 200, `sign-in by token on ${base} should end on a page (status)`);
  assert.equal(page.url(), `${base}/`, 'sign-in by token should redirect home');
  const cookies = await context.cookies(base);
  const session = cookies.find((c) => c.name === 'postroom-session');
  assert.ok(session, 'sign-in should set the postroom-session cookie');
  assert.equal(session.httpOnly, true, 'the session cookie should be HttpOnly');
  assert.equal(session.sameSite, 'Lax', 'the session cookie should be SameSite=Lax');
  return page;
}

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

async function shot(page, mode, name) {
  const dir = path.join(SHOTS, mode);
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true, timeout: STEP_TIMEOUT });
}

/** Runs axe-core on the page; returns the violations as lines of text. */
async function axe(page, where) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.addScriptTag({ content: AXE_SOURCE });
  }
  const violations = await page.evaluate(async (tags) => {
    // iframes: false — the only frame is a PDF preview, which axe cannot enter.
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
      iframes: false,
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.replace(/\s+/g, ' ').slice(0, 160) })),
    }));
  }, AXE_TAGS);
  const lines = [];
  for (const v of violations) {
    for (const n of v.nodes) {
      lines.push(`${where}: axe ${v.id} (${v.impact}): ${v.help} — ${n.target} — ${n.html}`);
      FINDINGS.push({ where, id: v.id, impact: v.impact, help: v.help, target: n.target });
    }
  }
  return lines;
}

/** Whether the page scrolls sideways at its width (320 px: WCAG 1.4.10 reflow); returns problems. */
async function sideways(page, where) {
  const wide = await page.evaluate(() => {
    const w = document.documentElement.scrollWidth;
    if (w <= 321) return null;
    // The elements that stick out, to say what to fix.
    const out = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > 321)
      .filter((el) => !el.parentElement || el.parentElement.getBoundingClientRect().right <= 321)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).trim().split(/\s+/).join('.') : ''}`);
    return { w, out };
  });
  return wide ? [`${where}: scrolls sideways (scrollWidth ${wide.w} > 321); widest: ${wide.out.join(', ')}`] : [];
}

/** Checks a page's status and that it has one non-empty h1; returns problems. */
async function rendered(page, answer, spec, where, checkTitle = false) {
  const problems = [];
  if (!answer) {
    problems.push(`${where}: no answer`);
    return problems;
  }
  if (answer.status() !== spec.status) {
    problems.push(`${where}: status ${answer.status()}, expected ${spec.status}`);
  }
  const h1s = await page.locator('h1').allTextContents();
  if (h1s.length !== 1 || !h1s[0].trim()) {
    problems.push(`${where}: expected one non-empty h1, found ${JSON.stringify(h1s)}`);
  }
  // GOV.UK's pattern: "<what the page is> – <service>", words spaced.
  const title = await page.title();
  if (checkTitle && !/\S \u2013 postroom$/.test(title)) {
    problems.push(`${where}: title "${title}" should end with " \u2013 postroom" (a space before the dash)`);
  }
  if (spec.h1 && h1s[0] && !spec.h1.test(h1s[0])) {
    problems.push(`${where}: h1 "${h1s[0].trim()}" does not match ${spec.h1}`);
  }
  return problems;
}

/** A PDF preview's frame loads the original inline as a PDF; waits (briefly) for
 * Chromium's PDF viewer so the screenshot shows it. */
async function previewOpens(page, where) {
  const frame = page.locator('iframe.app-preview');
  if ((await frame.count()) === 0) return [];
  const src = await frame.first().getAttribute('src');
  if (!src) return [`${where}: the preview frame has no src`];
  const problems = [];
  const answer = await page.request.get(new URL(src, page.url()).href);
  if (answer.status() !== 200) problems.push(`${where}: the preview ${src} answered ${answer.status()}`);
  const type = answer.headers()['content-type'] || '';
  const how = answer.headers()['content-disposition'] || '';
  if (!type.startsWith('application/pdf')) problems.push(`${where}: the preview ${src} is ${type}, not a PDF`);
  if (!how.startsWith('inline')) problems.push(`${where}: the preview ${src} is not inline (${how})`);
  // Best effort: the viewer is a chrome-extension frame inside the preview's frame.
  for (let i = 0; i < 20 && !page.frames().some((f) => f.url().startsWith('chrome-extension://')); i += 1) {
    await page.waitForTimeout(250);
  }
  await page.waitForTimeout(750);
  return problems;
}

/** The links in <main> whose href matches `re`, as absolute paths, in page order. */
async function mainLinks(page, re) {
  const hrefs = await page.$$eval('main a[href]', (as) => as.map((a) => a.getAttribute('href')));
  return [...new Set(hrefs.filter((h) => re.test(h)))];
}

/** Finds every page of the console to check, from a signed-in page on CONSOLE_URL. */
async function discoverPages(page) {
  const pages = [
    { name: 'sign-in', path: '/sign-in', status: 200, h1: /Sign in/ },
    { name: 'sign-in-refused', path: '/sign-in?token=not-the-right-token-at-all', status: 403, h1: /Sign in/ },
    { name: 'home', path: '/', status: 200, h1: /What needs doing/ },
    { name: 'inbox', path: '/inbox', status: 200, h1: /Inbox/ },
  ];
  await page.goto(`${BASE}/inbox`);
  const unfiled = await mainLinks(page, /^\/documents\//);
  assert.ok(unfiled.length >= 2, `the demo inbox should list 2 documents, found ${unfiled.length}`);
  for (const href of unfiled) {
    const name = await page.locator(`main a[href="${href}"]`).first().textContent();
    pages.push({ name: `document-unfiled-${slug(name)}`, path: href, status: 200 });
  }
  pages.push({ name: 'cases', path: '/cases', status: 200, h1: /Cases/ });
  await page.goto(`${BASE}/cases`);
  const cases = await mainLinks(page, /^\/cases\/./);
  for (const ref of DEMO_CASES) {
    const href = `/cases/${encodeURIComponent(ref)}`;
    if (!cases.includes(href)) cases.push(href);
  }
  const documents = [];
  for (const href of cases) {
    pages.push({ name: `case-${slug(decodeURIComponent(href.slice(7)))}`, path: href, status: 200 });
    await page.goto(BASE + href);
    for (const d of await mainLinks(page, /^\/documents\//)) {
      if (documents.includes(d) || unfiled.includes(d)) continue;
      documents.push(d);
      const name = await page.locator(`main a[href="${d}"]`).first().textContent();
      pages.push({ name: `document-filed-${slug(name)}`, path: d, status: 200 });
    }
  }
  assert.ok(pages.some((p) => /^document-filed-.*-pdf$/.test(p.name)),
    'the case pages should link to at least one filed PDF document');
  pages.push({ name: 'foi-register', path: '/foi', status: 200, h1: /FOI register/ });
  const requests = [];
  for (const view of ['open', 'due', 'overdue', 'closed']) {
    pages.push({ name: `foi-register-${view}`, path: `/foi?view=${view}`, status: 200, h1: /FOI register/ });
    await page.goto(`${BASE}/foi?view=${view}`);
    for (const r of await mainLinks(page, /^\/foi\/./)) if (!requests.includes(r)) requests.push(r);
  }
  assert.ok(requests.length >= 1, 'the FOI register should list at least one request (FOI_7001)');
  for (const r of requests) {
    pages.push({ name: `foi-request-${slug(decodeURIComponent(r.slice(5)))}`, path: r, status: 200 });
  }
  pages.push({ name: 'not-found', path: '/no-such-page', status: 404, h1: /not found/i });
  pages.push({ name: 'signed-out', path: '/signed-out', status: 200, h1: /signed out/i });
  return pages;
}

async function pagesToCheck() {
  if (!PAGES) {
    const context = await newContext();
    try {
      PAGES = await discoverPages(await signIn(context, BASE));
    } finally {
      await context.close();
    }
  }
  return PAGES;
}

function report(t, problems, what) {
  assert.equal(problems.length, 0, `${what}: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
}

/** What has the keyboard focus, described. */
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el) return null;
    const cs = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      href: el.getAttribute('href'),
      text: (el.textContent || '').trim().replace(/\s+/g, ' '),
      value: el.value,
      inSummary: !!el.closest('.govuk-error-summary'),
      // GOV.UK's focus state: a yellow outline or background with a box shadow.
      visible: (cs.outlineStyle !== 'none' && cs.outlineWidth !== '0px' && cs.outlineColor !== 'rgba(0, 0, 0, 0)')
        || cs.boxShadow !== 'none',
    };
  });
}

/** Presses Tab until `want(focused)` holds (at most `max` times); returns what is focused. */
async function tabTo(page, want, label, max = 40) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f && want(f)) {
      assert.ok(f.visible, `the focus on ${label} should be visible (outline or box shadow)`);
      return f;
    }
  }
  throw new assert.AssertionError({ message: `${label} was not reached in ${max} presses of Tab` });
}

function caseFor(fileName) {
  const hit = FILE_TO.find(([re]) => re.test(fileName));
  assert.ok(hit, `the demo inbox has a document this test does not know where to file: ${fileName}`);
  return hit[1];
}

function historyRows(page) {
  return page.$$eval('table', (tables) => {
    const t = tables.find((x) => /History/.test(x.querySelector('caption')?.textContent || ''));
    if (!t) return null;
    return [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent.trim()));
  });
}

async function checkFiledHistory(page, base, href, ref) {
  const answer = await page.goto(base + href);
  assert.equal(answer.status(), 200, `${href} should open after filing`);
  const rows = await historyRows(page);
  assert.ok(rows, `${href}: the document page should have a history table`);
  const who = WHO ? `console:${WHO}` : null;
  const filed = rows.find((r) => r[2] === 'Filed by hand');
  assert.ok(filed, `${href}: the history should record "Filed by hand"; rows: ${JSON.stringify(rows)}`);
  if (who) {
    assert.equal(filed[1], who, `${href}: the filing should name the signed-in person`);
  } else {
    assert.match(filed[1], /^console:/, `${href}: the filing should name the signed-in person`);
  }
  const summary = await page.locator('main dl.govuk-summary-list').first().textContent();
  assert.match(summary, /Filed/, `${href}: its status should now be filed`);
  assert.ok(summary.includes(ref), `${href}: its summary should name case ${ref}`);
}

// ---------------------------------------------------------------- 1. no session

test('without a session: pages redirect to sign-in, a wrong token is refused', async () => {
  const context = await newContext();
  try {
    const page = await context.newPage();
    for (const p of ['/', '/inbox', '/cases/CNST%2F25%2F008879']) {
      const answer = await page.goto(BASE + p);
      assert.equal(page.url(), `${BASE}/sign-in`, `${p} without a session should redirect to /sign-in`);
      assert.equal(answer.request().redirectedFrom()?.url(), BASE + p, `${p} should be the redirect's start`);
      assert.equal(answer.status(), 200, 'the sign-in page should show');
      await assert.doesNotReject(page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor(),
        'the sign-in page should have the heading "Sign in"');
      assert.equal(await page.locator('.govuk-error-summary').count(), 0, 'no error summary without a token');
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'no sign-out button without a session');
    }
    const api = await context.request.get(`${BASE}/inbox`, { maxRedirects: 0 });
    assert.equal(api.status(), 401, 'a non-page request without a session should get 401');
    assert.ok(!(await api.text()).includes('.eml'), 'the 401 answer should show no data');

    const refused = await page.goto(`${BASE}/sign-in?token=not-the-right-token-at-all`);
    assert.equal(refused.status(), 403, 'a wrong token should be refused with 403');
    const summary = page.locator('.govuk-error-summary');
    await assert.doesNotReject(summary.waitFor(), 'the refusal page should show an error summary');
    assert.match(await summary.textContent(), /not valid/, 'the error summary should say the link is not valid');
    assert.match(await page.title(), /^Sign in/, 'the refusal page should be the sign-in page');
    const cookies = await context.cookies(BASE);
    assert.ok(!cookies.some((c) => c.name === 'postroom-session'), 'a wrong token should set no session cookie');
    await shot(page, 'anonymous', 'sign-in-refused');
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------- 2. every page

test('every page, JavaScript on: renders and axe finds no violations', { timeout: 300_000 }, async (t) => {
  const pages = await pagesToCheck();
  const context = await newContext({ bypassCSP: true });
  const problems = [];
  try {
    const page = await signIn(context, BASE);
    for (const spec of pages) {
      const where = `[js] ${spec.name} (${spec.path})`;
      const answer = await page.goto(BASE + spec.path);
      problems.push(...(await rendered(page, answer, spec, where, true)));
      const js = await page.evaluate(() => document.body.classList.contains('js-enabled'));
      if (!js) problems.push(`${where}: body has no js-enabled class (body-start.js did not run)`);
      problems.push(...(await previewOpens(page, where)));
      await shot(page, 'js', spec.name);
      problems.push(...(await axe(page, where)));
    }
  } finally {
    await context.close();
  }
  t.diagnostic(`${pages.length} pages checked`);
  report(t, problems, 'pages with JavaScript on');
});

test('every page, JavaScript off: renders; axe on the no-script rendering', { timeout: 300_000 }, async (t) => {
  const pages = await pagesToCheck();
  const problems = [];
  // Really off: status, one h1, no js-enabled class, a screenshot.
  const off = await newContext({ javaScriptEnabled: false });
  try {
    const page = await signIn(off, BASE);
    for (const spec of pages) {
      const where = `[no-js] ${spec.name} (${spec.path})`;
      const answer = await page.goto(BASE + spec.path);
      problems.push(...(await rendered(page, answer, spec, where)));
      const cls = await page.locator('body').getAttribute('class');
      if (/js-enabled/.test(cls || '')) problems.push(`${where}: body has js-enabled with JavaScript off`);
      await shot(page, 'no-js', spec.name);
    }
  } finally {
    await off.close();
  }
  // axe needs JavaScript: the same pages with the console's own scripts not served, so the
  // markup stays exactly as without JavaScript (no js-enabled class, no component set up).
  const noScripts = await newContext({ bypassCSP: true });
  try {
    await noScripts.route(/\/assets\/(body-start|console|govuk-frontend\.min)\.js/, (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }));
    const page = await signIn(noScripts, BASE);
    for (const spec of pages) {
      const where = `[no-js] ${spec.name} (${spec.path})`;
      await page.goto(BASE + spec.path);
      problems.push(...(await axe(page, where)));
    }
  } finally {
    await noScripts.close();
  }
  t.diagnostic(`${pages.length} pages checked`);
  report(t, problems, 'pages with JavaScript off');
});

test('every page at 320 px wide: no horizontal scrolling and axe finds no violations', { timeout: 300_000 }, async (t) => {
  const pages = await pagesToCheck();
  const context = await newContext({ bypassCSP: true, viewport: NARROW });
  const problems = [];
  try {
    const page = await signIn(context, BASE);
    for (const spec of pages) {
      const where = `[320px] ${spec.name} (${spec.path})`;
      const answer = await page.goto(BASE + spec.path);
      problems.push(...(await rendered(page, answer, spec, where)));
      problems.push(...(await sideways(page, where)));
      await shot(page, 'narrow-320', spec.name);
      problems.push(...(await axe(page, where)));
    }
  } finally {
    await context.close();
  }
  t.diagnostic(`${pages.length} pages checked`);
  report(t, problems, 'pages at 320 px');
});

test('every page under the real Content Security Policy: no violation, no script error', { timeout: 300_000 }, async (t) => {
  const pages = await pagesToCheck();
  const context = await newContext(); // no bypassCSP
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`
        + ` at ${e.sourceFile || '?'}:${e.lineNumber || 0}${e.sample ? ` "${e.sample}"` : ''}`);
    });
  });
  const problems = [];
  let current = '';
  try {
    const page = await signIn(context, BASE);
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(`${current}: console: ${msg.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${current}: script error: ${e.message}`));
    for (const spec of pages) {
      current = `[csp] ${spec.name} (${spec.path})`;
      await page.goto(BASE + spec.path, { waitUntil: 'load' });
      // GOV.UK Frontend marks each component it starts: proof that the module ran.
      const state = await page.evaluate(() => ({
        js: document.body.classList.contains('js-enabled'),
        supported: document.body.classList.contains('govuk-frontend-supported'),
        skip: document.querySelector('.govuk-skip-link')?.getAttributeNames().filter((n) => n.endsWith('-init')) || [],
      }));
      if (!state.js || !state.supported) problems.push(`${current}: body-start.js did not run (${JSON.stringify(state)})`);
      if (!state.skip.length) problems.push(`${current}: GOV.UK Frontend did not start (the skip link has no *-init attribute)`);
      for (const frame of page.frames()) {
        const seen = await frame.evaluate(() => window.__cspViolations || []).catch(() => []);
        for (const v of seen) problems.push(`${current}: ${frame === page.mainFrame() ? '' : `frame ${frame.url()}: `}${v}`);
      }
    }
  } finally {
    await context.close();
  }
  t.diagnostic(`${pages.length} pages checked`);
  report(t, problems, 'Content Security Policy');
});

// ---------------------------------------------------------------- 3. keyboard only

test('keyboard only: skip link, inbox, a document, a wrong then a right reference, save and next, save', { timeout: 120_000 }, async () => {
  await pagesToCheck(); // the sweep has seen the unfiled documents before they are filed
  const context = await newContext();
  try {
    const page = await signIn(context, BASE);
    await page.goto(`${BASE}/`);
    let f = await tabTo(page, () => true, 'the first focusable element', 1);
    assert.equal(f.text, 'Skip to main content', 'the first Tab should reach the skip link');
    await page.keyboard.press('Enter');
    f = await focused(page);
    assert.equal(f.id, 'main-content', 'Enter on the skip link should move the focus to <main>');

    f = await tabTo(page, (x) => x.tag === 'a' && x.href === '/inbox', 'a link to the inbox');
    await Promise.all([page.waitForURL(`${BASE}/inbox`), page.keyboard.press('Enter')]);
    f = await tabTo(page, (x) => x.tag === 'a' && /^\/documents\//.test(x.href || ''), 'the first document in the inbox');
    await Promise.all([page.waitForURL(BASE + f.href), page.keyboard.press('Enter')]);

    for (let n = 1; n <= 2; n += 1) {
      const title = (await page.locator('h1').textContent()).trim();
      const ref = caseFor(title);
      const last = n === 2;
      const button = last ? 'Save' : 'Save and file next';
      await tabTo(page, (x) => x.id === 'case_ref', `the "File to case" field of ${title}`);
      if (!last) {
        // A wrong reference first: the error summary takes the focus, its link leads back.
        await page.keyboard.press('ControlOrMeta+A');
        await page.keyboard.type(WRONG_REF);
        await tabTo(page, (x) => x.tag === 'button' && x.text === button, `the "${button}" button`);
        const [answer] = await Promise.all([
          page.waitForResponse((r) => r.request().method() === 'POST'),
          page.keyboard.press('Enter'),
        ]);
        assert.equal(answer.status(), 422, 'a wrong reference should be answered 422');
        await page.waitForLoadState('load');
        await page.locator('.govuk-error-summary').waitFor();
        await page.waitForFunction(() => document.activeElement?.closest('.govuk-error-summary'),
          null, { timeout: STEP_TIMEOUT }).catch(() => {});
        f = await focused(page);
        assert.ok(f.inSummary, `the error summary should take the focus (focus is on ${JSON.stringify(f)})`);
        f = await tabTo(page, (x) => x.tag === 'a' && x.href === '#case_ref', 'the error summary link', 3);
        await page.keyboard.press('Enter');
        f = await focused(page);
        assert.equal(f.id, 'case_ref', 'the error summary link should move the focus to the field');
        assert.equal(f.value, WRONG_REF, 'the field should keep the wrong reference typed');
      }
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.type(ref);
      await tabTo(page, (x) => x.tag === 'button' && x.text === button, `the "${button}" button`);
      const to = last ? /\/inbox\?filed=/ : /\/documents\/[^?]+\?filed=/;
      await Promise.all([page.waitForURL(to), page.keyboard.press('Enter')]);
      const banner = page.locator('.govuk-notification-banner--success');
      assert.match(await banner.textContent(), new RegExp(`filed to case ${ref.replace(/\//g, '\\/')}`),
        `the success banner should name case ${ref}`);
    }
    assert.match(await page.locator('main').textContent(), /every document is filed/,
      'after the last document the inbox should say every document is filed');
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------- 4. triage

async function triage(base, javaScriptEnabled) {
  const mode = javaScriptEnabled ? 'triage-js' : 'triage-no-js';
  // With JavaScript on, axe also checks the pages only a journey reaches (bypassCSP to add it).
  const context = await newContext({ javaScriptEnabled, bypassCSP: javaScriptEnabled });
  try {
    // Problems of markup (not of the journey) are gathered and reported at the end.
    const problems = [];
    const page = await signIn(context, base);
    await page.getByRole('link', { name: /unfiled documents/ }).click();
    await page.waitForURL(`${base}/inbox`);
    const rows = page.locator('main table tbody tr');
    assert.equal(await rows.count(), 2, 'the demo inbox should list two documents');
    await shot(page, mode, '1-inbox');
    const first = page.locator('main table tbody tr a').first();
    const firstName = (await first.textContent()).trim();
    await first.click();
    await page.waitForURL(/\/documents\//);
    await assert.doesNotReject(page.getByRole('heading', { level: 1, name: firstName }).waitFor(),
      `the document page should be headed ${firstName}`);
    const firstHref = new URL(page.url()).pathname;

    // A reference with no case: error summary, field error, the typed value kept.
    const field = page.getByLabel('File to case');
    await field.fill(WRONG_REF);
    const [bad] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/file')),
      page.getByRole('button', { name: 'Save and file next' }).click(),
    ]);
    assert.equal(bad.status(), 422, 'a wrong reference should be answered 422');
    await page.waitForLoadState('load');
    const summary = page.locator('.govuk-error-summary');
    await assert.doesNotReject(summary.waitFor(), 'a wrong reference should show the error summary');
    assert.match(await summary.textContent(), /There is no case CNST\/99\/000000/, 'the error summary should name the problem');
    assert.match(await page.locator('#case_ref-error').textContent(), /There is no case CNST\/99\/000000/,
      'the field should show its error message');
    assert.equal(await page.getByLabel('File to case').inputValue(), WRONG_REF, 'the field should keep what was typed');
    assert.match(await page.title(), /^Error:/, 'the page title should start with "Error:"');
    const described = await page.evaluate(() => {
      const input = document.getElementById('case_ref');
      const ids = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
      return {
        ids,
        missing: ids.filter((id) => !document.getElementById(id)),
        inputClass: input.className,
        groupClass: input.closest('form > div')?.className || '',
      };
    });
    if (!described.ids.includes('case_ref-error') || !described.ids.includes('case_ref-hint') || described.missing.length) {
      problems.push(`the field's aria-describedby should be "case_ref-hint case_ref-error" (ids that exist), `
        + `it is ${JSON.stringify(described.ids.join(' '))}, missing ${JSON.stringify(described.missing)}`);
    }
    if (!described.inputClass.split(/\s+/).includes('govuk-input--error')) {
      problems.push(`the field should have the class govuk-input--error, it has "${described.inputClass}"`);
    }
    if (!described.groupClass.split(/\s+/).includes('govuk-form-group--error')) {
      problems.push(`the form group should have the class govuk-form-group--error, it has "${described.groupClass}"`);
    }
    if (javaScriptEnabled) problems.push(...(await axe(page, `[${mode}] document with a wrong reference`)));
    await shot(page, mode, '2-wrong-reference');

    // The right reference, then save and file next.
    const firstRef = caseFor(firstName);
    await page.getByLabel('File to case').fill(firstRef);
    await page.getByRole('button', { name: 'Save and file next' }).click();
    await page.waitForURL(/\/documents\/[^?]+\?filed=/);
    const secondHref = new URL(page.url()).pathname;
    assert.notEqual(secondHref, firstHref, 'save and file next should open the next document');
    const banner = page.locator('.govuk-notification-banner--success');
    assert.match(await banner.textContent(), new RegExp(`The last document was filed to case ${firstRef}`),
      'the next document should show a success banner naming the case');
    const secondName = (await page.locator('h1').textContent()).trim();
    await shot(page, mode, '3-next-document');
    if (javaScriptEnabled) problems.push(...(await axe(page, `[${mode}] next document with the success banner`)));

    // The last one: no "next", just save (back to the inbox).
    assert.equal(await page.getByRole('button', { name: 'Save and file next' }).count(), 0,
      'the last unfiled document should offer no "Save and file next"');
    const secondRef = caseFor(secondName);
    await page.getByLabel('File to case').fill(secondRef);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\/inbox\?filed=/);
    assert.match(await page.locator('.govuk-notification-banner--success').textContent(),
      new RegExp(`filed to case ${secondRef}`), 'the inbox should show a success banner naming the case');
    assert.match(await page.locator('main').textContent(), /every document is filed/,
      'the inbox should say every document is filed');
    await shot(page, mode, '4-inbox-empty');
    if (javaScriptEnabled) problems.push(...(await axe(page, `[${mode}] empty inbox with the success banner`)));

    // Each filing is in the document's history, with the person.
    await checkFiledHistory(page, base, firstHref, firstRef);
    await checkFiledHistory(page, base, secondHref, secondRef);
    await shot(page, mode, '5-filed-document');
    // And the case lists it.
    await page.goto(`${base}/cases/${encodeURIComponent(secondRef)}`);
    assert.ok(await page.locator(`main a[href="${secondHref}"]`).count() === 1,
      `the page of case ${secondRef} should list the filed document`);
    assert.equal(problems.length, 0,
      `the journey worked, but its pages have ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  } finally {
    await context.close();
  }
}

test('triage with save and next, JavaScript on (fresh console)', { timeout: 120_000 }, async () => {
  await triage(BASE_JS, true);
});

test('triage with save and next, JavaScript off (fresh console)', { timeout: 120_000 }, async () => {
  await triage(BASE_NOJS, false);
});

// ---------------------------------------------------------------- 5. CSRF

/** A tiny web site on another origin whose page posts a form to the console. */
async function forger() {
  let form = '';
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html lang="en"><head><title>Win a prize</title></head><body>${form}</body></html>`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    set(action, token) {
      form = `<form method="post" action="${action}"><input type="hidden" name="csrf_token" value="${token}">`
        + '<button type="submit">Claim your prize</button></form>';
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function stillSignedIn(page, why) {
  const answer = await page.goto(`${BASE}/`);
  assert.equal(page.url(), `${BASE}/`, `${why}: the session should still be valid (no redirect to sign-in)`);
  assert.equal(answer.status(), 200, `${why}: the home page should still show`);
  assert.equal(await page.locator('h1').textContent(), 'What needs doing', `${why}: the home page should still show`);
}

test('a cross-site POST is refused and the session stays', { timeout: 120_000 }, async () => {
  const site = await forger();
  const context = await newContext();
  try {
    const page = await signIn(context, BASE);
    const realToken = await page.locator('input[name="csrf_token"]').first().getAttribute('value');
    assert.ok(realToken, 'the sign-out form should carry a csrf_token');
    const cases = [
      // Same site (127.0.0.1), another origin: the Lax cookie is sent; the token is forged.
      [`http://127.0.0.1:${site.port}/`, 'forged-token', 'another origin, forged token'],
      // Even the right token does not help a form from another origin (Origin/Sec-Fetch-Site check).
      [`http://127.0.0.1:${site.port}/`, realToken, 'another origin, the real token'],
      // Another site altogether (localhost is not 127.0.0.1).
      [`http://localhost:${site.port}/`, realToken, 'another site, the real token'],
    ];
    for (const [origin, token, label] of cases) {
      site.set(`${BASE}/sign-out`, token);
      await page.goto(origin);
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${BASE}/sign-out` && r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Claim your prize' }).click(),
      ]);
      assert.equal(answer.status(), 403, `a POST to /sign-out from ${label} should be refused with 403`);
      await page.waitForLoadState('load');
      assert.match(await page.locator('h1').textContent(), /You cannot do this/, `${label}: the refusal page should show`);
      await stillSignedIn(page, label);
    }

    // Same origin without the right token: refused too.
    const none = await page.request.post(`${BASE}/sign-out`, { form: {}, maxRedirects: 0 });
    assert.equal(none.status(), 403, 'a same-origin POST without csrf_token should get 403');
    const wrong = await page.request.post(`${BASE}/sign-out`, { form: { csrf_token: 'wrong' }, maxRedirects: 0 });
    assert.equal(wrong.status(), 403, 'a same-origin POST with a wrong csrf_token should get 403');
    await page.goto(`${BASE}/`);
    const fromPage = await page.evaluate(async () => {
      const r = await fetch('/sign-out', {
        method: 'POST', body: new URLSearchParams({ csrf_token: 'wrong' }), redirect: 'manual',
      });
      return r.status;
    });
    assert.equal(fromPage, 403, 'a fetch POST from a console page with a wrong csrf_token should get 403');
    await stillSignedIn(page, 'after the same-origin POSTs without the token');
  } finally {
    await context.close();
    await site.close();
  }
});

// ---------------------------------------------------------------- 6. sign out

test('sign out ends the session', { timeout: 60_000 }, async () => {
  const context = await newContext();
  try {
    const page = await signIn(context, BASE);
    const before = (await context.cookies(BASE)).find((c) => c.name === 'postroom-session');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${BASE}/signed-out`);
    assert.match(await page.locator('h1').textContent(), /You have signed out/, 'the signed-out page should show');
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'no sign-out button once signed out');
    await page.goto(`${BASE}/`);
    assert.equal(page.url(), `${BASE}/sign-in`, 'after signing out, / should redirect to sign-in');

    // The old cookie is dead on the server too, not just removed from the browser.
    const replay = await newContext();
    try {
      await replay.addCookies([{ ...before, expires: -1 }]);
      const p2 = await replay.newPage();
      await p2.goto(`${BASE}/`);
      assert.equal(p2.url(), `${BASE}/sign-in`, 'the signed-out session cookie should no longer work');
    } finally {
      await replay.close();
    }
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------- journeys: helpers

const CLAIM = 'CNST/25/008879';
const FOI_REQUESTER = 'Bronwen Ellis-Tudor';
const REFUSED_H1 = /You cannot do this/;
// How long a page that refreshes itself (an upload being read, a batch running) may take.
const SELF_REFRESH_TIMEOUT = 30_000;

/** A page a journey reached, checked where it stands (a POST's answer cannot be opened
 * again): one h1, the title, axe; then at 320 px wide no sideways scrolling (the sweep
 * runs axe at 320 px on the shared layout; here it would only add time); a screenshot at
 * each width. Markup problems go to `problems`. */
async function journeyPage(page, mode, name, problems) {
  const u = new URL(page.url());
  const where = `[${mode}] ${name} (${u.pathname}${u.search})`;
  const h1s = await page.locator('h1').allTextContents();
  if (h1s.length !== 1 || !h1s[0].trim()) problems.push(`${where}: expected one non-empty h1, found ${JSON.stringify(h1s)}`);
  const title = await page.title();
  if (!/\S \u2013 postroom$/.test(title)) {
    problems.push(`${where}: title "${title}" should end with " \u2013 postroom" (a space before the dash)`);
  }
  problems.push(...(await axe(page, where)));
  await shot(page, mode, name);
  await page.setViewportSize(NARROW);
  try {
    problems.push(...(await sideways(page, `${where} at 320 px`)));
    await shot(page, mode, `${name}-320`);
  } finally {
    await page.setViewportSize(WIDE);
  }
}

/** Waits, without reloading, until `done()` holds on a page that refreshes itself (meta
 * refresh); returns how many times it loaded meanwhile. */
async function waitForSelfRefresh(page, done, what, timeout = SELF_REFRESH_TIMEOUT) {
  let loads = 0;
  const onLoad = () => { loads += 1; };
  page.on('load', onLoad);
  const deadline = Date.now() + timeout;
  try {
    for (;;) {
      // A check during a reload may find no document: it just did not hold yet.
      if (await done().catch(() => false)) {
        await page.waitForLoadState('load');
        return loads;
      }
      if (Date.now() > deadline) {
        throw new assert.AssertionError({
          message: `${what} did not happen within ${timeout / 1000} s (the page loaded itself ${loads} time(s))`,
        });
      }
      await page.waitForTimeout(300);
    }
  } finally {
    page.off('load', onLoad);
  }
}

/** The meta refresh of the page now (its content), or null. */
async function metaRefresh(page) {
  const meta = page.locator('meta[http-equiv="refresh"]');
  return (await meta.count()) ? meta.first().getAttribute('content') : null;
}

/** Clicks a submit button and waits for the answer to the POST (and the page it shows);
 * returns the status of the POST's answer (before any redirect). */
async function submit(page, button) {
  const origin = new URL(page.url()).origin;
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(origin)),
    // The page the POST leads to (its answer, or where it redirects) has loaded.
    page.waitForEvent('load', { timeout: NAV_TIMEOUT }),
    button.click(),
  ]);
  return answer.status();
}

/** The rows of the table in <main> whose caption matches `caption` (or the only table),
 * as arrays of cell texts. */
function tableRows(page, caption) {
  return page.$$eval('main table', (tables, src) => {
    const re = src ? new RegExp(src) : null;
    const t = re ? tables.find((x) => re.test(x.querySelector('caption')?.textContent || '')) : tables[0];
    if (!t) return null;
    return [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent.trim().replace(/\s+/g, ' ')));
  }, caption ? caption.source : null);
}

/** The texts of the error summary's links, with their targets. */
function errorSummary(page) {
  return page.$$eval('.govuk-error-summary a', (as) => as.map((a) => [a.getAttribute('href'), a.textContent.trim()]));
}

/** The value of a row of the first summary list in <main>. */
async function summaryValue(page, key) {
  const rows = await page.$$eval('main dl.govuk-summary-list .govuk-summary-list__row', (rs) =>
    rs.map((r) => [r.querySelector('dt')?.textContent.trim(), r.querySelector('dd')?.textContent.trim()]));
  return rows.find(([k]) => k === key)?.[1];
}

async function bannerText(page) {
  const banner = page.locator('.govuk-notification-banner--success');
  return (await banner.count()) ? (await banner.textContent()).replace(/\s+/g, ' ').trim() : '';
}

/** The service navigation's labels. */
async function navLabels(page) {
  return (await page.locator('.govuk-service-navigation__link').allTextContents()).map((t) => t.trim());
}

/** GETs `href` (relative to the page) in the page's session; checks it is a PDF. */
async function isPdf(page, href, what) {
  const answer = await page.request.get(new URL(href, page.url()).href);
  assert.equal(answer.status(), 200, `${what} (${href}) should open`);
  const type = answer.headers()['content-type'] || '';
  assert.ok(type.startsWith('application/pdf'), `${what} (${href}) should be application/pdf, it is "${type}"`);
  const body = await answer.body();
  assert.equal(body.subarray(0, 5).toString('latin1'), '%PDF-', `${what} (${href}) should start like a PDF`);
}

function isoDaysAgo(days) {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- 7. upload

const LETTER_TXT = 'Our ref: FOI_7001\n\nDear FOI team,\n\nThank you for your answer to my request. '
  + 'I would like the authority to carry out an internal review of it.\n\nYours sincerely\n';
// A Windows executable (the "MZ" header and DOS stub) named as a PDF.
const FAKE_PDF = Buffer.concat([
  Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00]),
  Buffer.from('This program cannot be run in DOS mode.\r\r\n$'),
]);

async function uploadJourney(base, javaScriptEnabled) {
  const mode = javaScriptEnabled ? 'upload-js' : 'upload-no-js';
  const context = await newContext({ javaScriptEnabled, bypassCSP: javaScriptEnabled });
  const problems = [];
  const check = async (page, name) => {
    if (javaScriptEnabled) await journeyPage(page, mode, name, problems);
    else await shot(page, mode, name);
  };
  try {
    const page = await signIn(context, base);
    await page.locator('.govuk-service-navigation__link', { hasText: /^Upload$/ }).click();
    await page.waitForURL(`${base}/uploads/new`);
    assert.equal((await page.locator('h1').textContent()).trim(), 'Upload post', 'the upload form should be headed "Upload post"');
    await check(page, '1-upload-form');

    // Nothing chosen: the form again, with the error.
    assert.equal(await submit(page, page.getByRole('button', { name: 'Upload', exact: true })), 422,
      'an upload with no file should be answered 422');
    assert.deepEqual(await errorSummary(page), [['#files', 'Choose at least one file that is not empty']],
      'an upload with no file should show the error summary');
    assert.match(await page.title(), /^Error:/, 'the page title should start with "Error:"');
    await check(page, '2-upload-no-file');

    await page.getByLabel('Files').setInputFiles([
      { name: 'letter.txt', mimeType: 'text/plain', buffer: Buffer.from(LETTER_TXT) },
      { name: 'invoice.pdf', mimeType: 'application/pdf', buffer: FAKE_PDF },
    ]);
    await Promise.all([
      page.waitForURL((u) => /^\/uploads\/[^/]+$/.test(u.pathname) && u.pathname !== '/uploads/new'),
      page.getByRole('button', { name: 'Upload', exact: true }).click(),
    ]);
    await page.waitForLoadState('load');
    const uploadUrl = page.url();
    const first = await metaRefresh(page);
    // Every 2 s, to itself with a count (it stops after 10 minutes).
    if (first !== null) assert.match(first, /^2;url=\/uploads\/[^/?]+\?n=1$/, 'while reading, the upload page should refresh itself every 2 s, counting');
    const reading = first !== null;
    await shot(page, mode, '3-upload-reading');

    const loads = await waitForSelfRefresh(page,
      async () => (await page.locator('main').textContent({ timeout: 1000 })).includes('Every file has been read.'),
      'the upload page saying "Every file has been read."');
    assert.equal(new URL(page.url()).pathname, new URL(uploadUrl).pathname, 'the upload page should stay where it is while it refreshes');
    if (reading) assert.ok(loads >= 1, 'the upload page showed "Reading" first, so it should have reloaded itself');
    assert.equal(await metaRefresh(page), null, 'once every file is read the page should stop refreshing itself');
    const rows = await tableRows(page);
    const row = (name) => rows.find((r) => r[0] === name);
    assert.equal(rows.length, 2, `the upload page should list the two files: ${JSON.stringify(rows)}`);
    assert.ok(row('letter.txt'), `the upload page should list letter.txt: ${JSON.stringify(rows)}`);
    assert.match(row('letter.txt')[1], /^(Filed|In the inbox)$/, `letter.txt should be filed or in the inbox: ${JSON.stringify(row('letter.txt'))}`);
    if (row('letter.txt')[1] === 'Filed') {
      assert.match(row('letter.txt')[2], /FOI_7001/, 'letter.txt quotes FOI_7001, so it should be filed on that case');
    }
    assert.ok(row('invoice.pdf'), `the upload page should list invoice.pdf: ${JSON.stringify(rows)}`);
    assert.equal(row('invoice.pdf')[1], 'Quarantined', `the executable named invoice.pdf should be quarantined: ${JSON.stringify(row('invoice.pdf'))}`);
    assert.ok(row('invoice.pdf')[2], 'the quarantined file should say why');
    await check(page, '4-upload-result');
    report(null, problems, `the upload journey worked (${mode}; the page loaded itself ${loads} time(s)), but its pages`);
    return `the upload page showed ${reading ? '"Reading" first' : 'every file read at once'}, then loaded itself ${loads} time(s)`;
  } finally {
    await context.close();
  }
}

test('upload a letter and a disguised executable, JavaScript on (fresh console)', { timeout: 120_000 }, async (t) => {
  t.diagnostic(await uploadJourney(BASE_UPLOAD_JS, true));
});

test('upload a letter and a disguised executable, JavaScript off (fresh console)', { timeout: 120_000 }, async (t) => {
  t.diagnostic(await uploadJourney(BASE_UPLOAD_NOJS, false));
});

// ---------------------------------------------------------------- 8. FOI moves and publication

// The request the FOI journey logs (FOI_7002 on a fresh demo), for the publication test.
let FOI_REF;

/** Opens the <details> whose summary reads exactly `label`; returns it. */
async function openDetails(page, label) {
  const details = page.locator('main details').filter({
    has: page.locator('summary', { hasText: new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) }),
  });
  assert.equal(await details.count(), 1, `the page should offer "${label}" (a details element)`);
  // A form shown again with its error is open already: a click would close it.
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
  assert.equal(await details.evaluate((d) => d.open), true, `"${label}" should open`);
  return details;
}

/** Applies the move `label` (its form opened, filled by `fill`); expects the request again
 * with the "Done" banner. */
async function move(page, label, fill = async () => {}) {
  const details = await openDetails(page, label);
  await fill(details);
  assert.equal(await submit(page, details.getByRole('button', { name: label, exact: true })), 303,
    `the move "${label}" should be accepted (a redirect)`);
  assert.match(page.url(), /\?moved=/, `after "${label}" the request should show again`);
  assert.equal(await bannerText(page), `Success Done: ${label.toLowerCase()}.`, `"${label}" should be confirmed in a banner`);
}

test('FOI: log a request (errors first), start work, extend (a reason needed), respond, draft the response (fresh console)', { timeout: 150_000 }, async () => {
  const mode = 'foi';
  const context = await newContext({ bypassCSP: true });
  const problems = [];
  try {
    const page = await signIn(context, BASE_FOI);
    await page.locator('.govuk-service-navigation__link', { hasText: /^FOI$/ }).click();
    await page.waitForURL(`${BASE_FOI}/foi`);
    await page.getByRole('button', { name: 'Log an FOI request' }).click();
    await page.waitForURL(`${BASE_FOI}/foi/new`);
    await journeyPage(page, mode, '1-foi-new', problems);

    // Empty: who asked and what they asked for are needed (an empty date means today).
    const logIt = page.getByRole('button', { name: 'Log the request' });
    assert.equal(await submit(page, logIt), 422, 'an empty request should be answered 422');
    assert.deepEqual(await errorSummary(page), [
      ['#requester', 'Enter who asked'],
      ['#text', 'Enter what they asked for'],
    ], 'the error summary of an empty request should list who asked and what they asked for');
    assert.match(await page.title(), /^Error:/, 'the page title should start with "Error:"');
    await journeyPage(page, mode, '2-foi-new-empty', problems);
    // A date that is not one: all three fields in the summary, each linked to its field.
    await page.getByLabel('Received on').fill('yesterday');
    assert.equal(await submit(page, logIt), 422, 'a request with a wrong date should be answered 422');
    const three = await errorSummary(page);
    assert.deepEqual(three.map(([href]) => href), ['#requester', '#received', '#text'],
      `the error summary should list the three fields in page order: ${JSON.stringify(three)}`);
    assert.equal(await page.getByLabel('Received on').inputValue(), 'yesterday', 'the date field should keep what was typed');
    for (const id of ['requester', 'received', 'text']) {
      const described = await page.locator(`#${id}`).getAttribute('aria-describedby');
      assert.ok((described || '').split(/\s+/).includes(`${id}-error`), `#${id} should be described by its error message`);
    }
    await journeyPage(page, mode, '3-foi-new-errors', problems);

    await page.getByLabel('Who asked').fill(FOI_REQUESTER);
    await page.getByLabel('Received on').fill(isoDaysAgo(3));
    await page.getByLabel('What they asked for').fill('Please tell me how many clinical negligence claims '
      + 'the authority received in each month of 2025, and how many of them were settled.');
    assert.equal(await submit(page, logIt), 303, 'a complete request should be logged (a redirect)');
    assert.match(new URL(page.url()).pathname, /^\/foi\/FOI_\d+$/, `the new request's page should open, not ${page.url()}`);
    FOI_REF = decodeURIComponent(new URL(page.url()).pathname.slice(5));
    assert.match(await page.locator('.govuk-caption-l').first().textContent(), new RegExp(`FOI request ${FOI_REF}`),
      'the page should name the request');
    assert.equal(await summaryValue(page, 'Requester'), FOI_REQUESTER, 'the page should show who asked');
    await journeyPage(page, mode, '4-foi-request-received', problems);

    await move(page, 'Start work');
    assert.match(await summaryValue(page, 'Status'), /in progress/i, 'after "Start work" the request should be in progress');

    // A deadline change without a reason is refused, and says why.
    const extend = 'Extend for the public interest test';
    let details = await openDetails(page, extend);
    await details.getByLabel(/^Reason/).fill('');
    assert.equal(await submit(page, details.getByRole('button', { name: extend })), 422,
      'an extension without a reason should be answered 422');
    assert.deepEqual(await errorSummary(page), [['#extend_for_public_interest-reason', 'Give the reason for changing the deadline']],
      'the error summary should ask for the reason');
    assert.match(await page.locator('.govuk-error-summary').textContent(), /The request was not moved/);
    assert.match(await summaryValue(page, 'Status'), /in progress/i, 'the refused extension should change nothing');
    await journeyPage(page, mode, '5-foi-extend-refused', problems);
    await move(page, extend, async (d) => {
      await d.getByLabel(/^Reason/).fill('The public interest test needs the view of the medical director.');
    });
    assert.match(await summaryValue(page, 'Status'), /extended/i, 'after the extension the request should be extended');
    assert.match(await summaryValue(page, 'Extended by') || '', /working days/, 'the page should say by how much');

    await move(page, 'Respond', async (d) => {
      await d.getByLabel('Outcome').selectOption({ label: 'Information given' });
    });
    assert.match(await summaryValue(page, 'Status'), /responded/i, 'after "Respond" the request should be responded');
    assert.equal(await summaryValue(page, 'Outcome'), 'Information given', 'the outcome should show');
    await journeyPage(page, mode, '6-foi-responded', problems);

    const letterLinks = () => page.locator('main table', { has: page.locator('caption', { hasText: /^Letters$/ }) }).locator('a');
    const before = await letterLinks().count();
    details = await openDetails(page, 'Draft the response letter');
    await details.getByLabel('The information released').fill('In 2025 the authority received 1,204 claims.\n'
      + 'A table of the claims by month is attached.');
    assert.equal(await submit(page, details.getByRole('button', { name: 'Make the response letter' })), 303,
      'making the response letter should redirect back to the request');
    assert.match(page.url(), /\?moved=letter$/);
    assert.equal(await bannerText(page), 'Success The letter was made: it is listed under Letters.');
    assert.equal(await letterLinks().count(), before + 1, 'the response letter should be listed under Letters, with a link');
    const href = await letterLinks().last().getAttribute('href');
    assert.match(href, new RegExp(`^/cases/${encodeURIComponent(FOI_REF)}/letters/`), 'the letter link should be under its case');
    await isPdf(page, href, 'the response letter');
    await journeyPage(page, mode, '7-foi-letter-made', problems);
    report(null, problems, 'the FOI journey worked, but its pages');
  } finally {
    await context.close();
  }
});

test('FOI: publication shows what will be published, needs the check, then publishes', { timeout: 120_000 }, async () => {
  assert.ok(FOI_REF, 'the FOI journey before this test should have logged and answered a request');
  const mode = 'foi';
  const context = await newContext({ bypassCSP: true });
  const problems = [];
  try {
    const page = await signIn(context, BASE_FOI);
    const requestUrl = `${BASE_FOI}/foi/${encodeURIComponent(FOI_REF)}`;
    await page.goto(requestUrl);
    await page.getByRole('button', { name: 'Review and publish to the disclosure log' }).click();
    await page.waitForURL(`${requestUrl}/publish`);
    assert.equal((await page.locator('h1').textContent()).trim(), 'Check what will be published');
    const shown = await page.locator('body').textContent();
    for (const part of [FOI_REQUESTER, ...FOI_REQUESTER.split(/[ -]/)]) {
      assert.ok(!shown.includes(part), `the publication review should not show the requester's name ("${part}")`);
    }
    assert.match(shown, /clinical negligence claims/, 'the review should show the request as it will be published');
    await journeyPage(page, mode, '8-publish-review', problems);

    const publish = page.getByRole('button', { name: 'Publish to the disclosure log' });
    assert.equal(await submit(page, publish), 422, 'publishing without the check should be answered 422');
    assert.deepEqual(await errorSummary(page), [['#checked', 'Confirm that you have checked the text before publishing']],
      'the error summary should ask for the check');
    assert.match(await page.title(), /^Error:/, 'the page title should start with "Error:"');
    await journeyPage(page, mode, '9-publish-not-checked', problems);

    await page.getByLabel(/^I have checked/).check();
    assert.equal(await submit(page, publish), 303, 'publishing with the check should redirect to the request');
    assert.equal(page.url(), `${requestUrl}?published=1`);
    assert.equal(await bannerText(page), 'Success The response was published to the disclosure log.');
    await journeyPage(page, mode, '10-published', problems);
    report(null, problems, 'publication worked, but its pages');
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------- 9. letters

const EXAMPLE = JSON.parse(fs.readFileSync(
  path.resolve(__dirname, '../../templates/claim-acknowledgement/example.json'), 'utf8'));

/** A CSV of letters of `fields`: the example's values (address lines joined by |, yes-no
 * as yes/no) with each row's changes; `case_ref` first. */
function csvOf(fields, rows) {
  const cell = (v) => {
    const s = Array.isArray(v) ? v.join('|') : v === true ? 'yes' : v === false ? 'no' : String(v ?? '');
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [['case_ref', ...fields].join(',')];
  for (const changes of rows) {
    const data = { ...EXAMPLE, our_ref: changes.case_ref, ...changes };
    lines.push(['case_ref', ...fields].map((f) => cell(data[f])).join(','));
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

async function caseLetterCount(page, base) {
  await page.goto(`${base}/cases/${encodeURIComponent(CLAIM)}`);
  const rows = await tableRows(page, /^Letters$/);
  return rows ? rows.length : 0;
}

test('letters: a template and its PDF, a CSV batch with errors, then a good one to the end (fresh console)', { timeout: 150_000 }, async (t) => {
  const mode = 'letters';
  const base = BASE_LETTERS;
  const context = await newContext({ bypassCSP: true });
  const problems = [];
  try {
    const page = await signIn(context, base);
    const lettersBefore = await caseLetterCount(page, base);
    await page.locator('.govuk-service-navigation__link', { hasText: /^Letters$/ }).click();
    await page.waitForURL(`${base}/letters`);
    await journeyPage(page, mode, '1-letters', problems);

    await page.getByRole('link', { name: 'Acknowledgement of a letter of claim' }).click();
    const templateUrl = `${base}/letters/claim-acknowledgement`;
    await page.waitForURL(templateUrl);
    const preview = await page.locator('main .app-text').first().textContent();
    for (const value of [EXAMPLE.our_ref, EXAMPLE.claimant_name, EXAMPLE.salutation]) {
      assert.ok(preview.includes(value), `the example's plain text should show "${value}"`);
    }
    await isPdf(page, await page.getByRole('link', { name: 'Open the example as a PDF' }).getAttribute('href'), 'the example PDF');
    const fields = (await tableRows(page, /^Fields$/)).map((r) => r[0]);
    assert.ok(fields.length >= 5, `the template page should list its fields: ${JSON.stringify(fields)}`);
    const unknown = fields.filter((f) => !(f in EXAMPLE));
    assert.deepEqual(unknown, [], 'every field the page lists should be in the template\'s example.json');
    const columns = [...fields, ...Object.keys(EXAMPLE).filter((k) => !fields.includes(k))];
    await journeyPage(page, mode, '2-template', problems);

    await page.getByRole('button', { name: 'Send a batch from a spreadsheet' }).click();
    await page.waitForURL(`${templateUrl}/batch`);
    await journeyPage(page, mode, '3-batch-form', problems);

    // Three rows: the second's date is not a date, the third has no case. Checked whole.
    await page.getByLabel('The CSV file').setInputFiles({
      name: 'claims.csv',
      mimeType: 'text/csv',
      buffer: csvOf(columns, [
        { case_ref: CLAIM },
        { case_ref: CLAIM, received_date: 'yesterday' },
        { case_ref: '' , our_ref: CLAIM },
      ]),
    });
    const checkIt = () => page.getByRole('button', { name: 'Check the file' });
    assert.equal(await submit(page, checkIt()), 422, 'a batch with errors should be answered 422');
    assert.equal((await page.locator('h1').textContent()).trim(), 'Fix these rows');
    assert.match(await page.locator('.govuk-error-summary').textContent(), /2 problems in 3 rows: nothing was made/,
      'the error summary should count the problems and say nothing was made');
    const problemsByRow = (await tableRows(page, /Problems by row/)).map(([row, column]) => [row, column]);
    assert.deepEqual(problemsByRow, [['3', 'received_date'], ['4', 'case_ref']],
      'the problems should be listed by spreadsheet row (the header is row 1) and column');
    await journeyPage(page, mode, '4-batch-errors', problems);
    await page.goto(`${base}/jobs`);
    assert.match(await page.locator('main').textContent(), /You have sent no batches/, 'nothing should have been started');
    await journeyPage(page, mode, '5-jobs-none', problems);
    assert.equal(await caseLetterCount(page, base), lettersBefore, 'no letter should have been made');

    // Two good rows: checked, then made in the background.
    await page.goto(`${templateUrl}/batch`);
    await page.getByLabel('The CSV file').setInputFiles({
      name: 'claims.csv',
      mimeType: 'text/csv',
      buffer: csvOf(columns, [
        { case_ref: CLAIM, your_ref: 'HL/MED/3001' },
        { case_ref: CLAIM, your_ref: 'HL/MED/3002', records_requested: false },
      ]),
    });
    assert.equal(await submit(page, checkIt()), 200, 'a good batch should be answered 200');
    assert.equal((await page.locator('h1').textContent()).trim(), '2 letters ready to make');
    await journeyPage(page, mode, '6-batch-ready', problems);
    assert.equal(await submit(page, page.getByRole('button', { name: 'Make the letters' })), 303,
      'starting the batch should redirect to its page');
    const jobPath = new URL(page.url()).pathname;
    assert.match(jobPath, /^\/jobs\/[^/]+$/, `the batch's page should open, not ${page.url()}`);
    await shot(page, mode, '7-job-running');
    const loads = await waitForSelfRefresh(page,
      async () => (await page.locator('h1').textContent({ timeout: 1000 })).trim() === 'The batch is finished',
      'the batch page saying "The batch is finished"');
    assert.equal(await metaRefresh(page), null, 'a finished batch\'s page should stop refreshing itself');
    assert.equal(await summaryValue(page, 'Letters'), '2');
    assert.equal(await summaryValue(page, 'Made'), '2', 'both letters should be made');
    assert.equal(await summaryValue(page, 'Not made'), '0');
    await journeyPage(page, mode, '8-job-finished', problems);

    await page.goto(`${base}/jobs`);
    assert.equal(await page.locator(`main a[href="${jobPath}"]`).count(), 1, 'the batches list should link to the batch');
    assert.match((await tableRows(page))[0][2], /2 of 2 made, 0 not made/);
    await journeyPage(page, mode, '9-jobs', problems);
    assert.equal(await caseLetterCount(page, base), lettersBefore + 2, `case ${CLAIM} should list the two new letters`);

    await page.goto(`${base}/audit?case=${encodeURIComponent(CLAIM)}`);
    const events = (await tableRows(page, /Audit events/)) || [];
    // The demo made a letter there too (as "console"): the batch's two are the person's.
    // Columns: when, who, as (roles), what, on.
    const made = events.filter((r) => /letter generated/i.test(r[3]) && /^console:/.test(r[1])
      && (!WHO || r[1] === `console:${WHO}`));
    assert.equal(made.length, 2,
      `the audit trail of ${CLAIM} should record the batch's two letters, made by the person: ${JSON.stringify(events)}`);
    await journeyPage(page, mode, '10-audit-case', problems);
    report(null, problems, `the letters journey worked (the batch page loaded itself ${loads} time(s)), but its pages`);
    t.diagnostic(`the batch page loaded itself ${loads} time(s) before "The batch is finished"`);
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------- 10. one role only

async function refused(page, base, p, who) {
  const answer = await page.goto(base + p);
  assert.equal(answer.status(), 403, `${p} should be refused to ${who} with 403`);
  assert.match(await page.locator('h1').textContent(), REFUSED_H1, `${p} should show "You cannot do this" to ${who}`);
}

test('the role "letters" only: 403 on the inbox, cases, FOI and audit; the navigation shows Home and Letters', { timeout: 60_000 }, async () => {
  const base = BASE_ROLE_LETTERS;
  const who = 'a person with the role "letters"';
  const context = await newContext({ bypassCSP: true });
  const problems = [];
  try {
    const page = await signIn(context, base);
    assert.deepEqual(await navLabels(page), ['Home', 'Letters'], 'the navigation should show only Home and Letters');
    assert.match(await page.locator('.moj-identity-bar').textContent(), /\(Letters\)/, 'the identity bar should show the role');
    for (const p of ['/inbox', '/cases', '/foi', '/audit', '/uploads/new', `/cases/${encodeURIComponent(CLAIM)}`]) {
      await refused(page, base, p, who);
    }
    await journeyPage(page, 'roles', 'letters-refused', problems);
    const letters = await page.goto(`${base}/letters`);
    assert.equal(letters.status(), 200, '/letters should open for the role "letters"');
    assert.deepEqual(await navLabels(page), ['Home', 'Letters'], 'the navigation should show only Home and Letters');
    report(null, problems, 'the refusals were right, but their page');
  } finally {
    await context.close();
  }
});

test('the role "foi-officer" only: 403 on a claim and its document, the FOI register opens', { timeout: 60_000 }, async () => {
  // The demo's document ids are the same in every home: find a claim document where all
  // roles see it (the sweep's console; only read there).
  const all = await newContext();
  let documentHref;
  try {
    const page = await signIn(all, BASE);
    await page.goto(`${BASE}/cases/${encodeURIComponent(CLAIM)}`);
    [documentHref] = await mainLinks(page, /^\/documents\//);
    assert.ok(documentHref, `case ${CLAIM} should list a document`);
  } finally {
    await all.close();
  }
  const base = BASE_ROLE_FOI;
  const who = 'an FOI officer';
  const context = await newContext();
  try {
    const page = await signIn(context, base);
    const nav = await navLabels(page);
    assert.ok(nav.includes('FOI') && !nav.includes('Cases') && !nav.includes('Inbox') && !nav.includes('Audit'),
      `the navigation should show FOI, not Cases, Inbox or Audit: ${JSON.stringify(nav)}`);
    await refused(page, base, `/cases/${encodeURIComponent(CLAIM)}`, who);
    await refused(page, base, documentHref, who);
    await refused(page, base, `${documentHref}/original`, who);
    assert.ok(!(await page.locator('body').textContent()).includes(CLAIM), 'the refusal should not show the claim');
    const foi = await page.goto(`${base}/foi`);
    assert.equal(foi.status(), 200, '/foi should open for an FOI officer');
    assert.match(await page.locator('h1').textContent(), /FOI register/);
    await shot(page, 'roles', 'foi-officer-register');
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------- 11. sign-in with the provider (the AWS flow)
//
// CONSOLE_URL_OIDC is a console that signs people in only with the OpenID Connect
// provider at OIDC_ISSUER (as on AWS with Cognito): the local stand-in
// oidc-provider-mock (scripts/oidc-mock, a public client with PKCE), where a person's
// claims (`cognito:groups`) are set before they sign in and its authorization form takes
// their subject. The stand-in's own pages are not ours: axe does not check them.

const BASE_OIDC = need('CONSOLE_URL_OIDC');
const OIDC_ISSUER = need('OIDC_ISSUER');

/** Gives the person `sub` these claims at the provider. */
async function providerUser(sub, claims) {
  const answer = await fetch(`${OIDC_ISSUER}/users/${encodeURIComponent(sub)}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(claims),
  });
  assert.equal(answer.status, 204, `the provider should take ${sub}'s claims`);
}

/** A context for the provider's console, under the console's real Content Security
 * Policy (signing out crosses to the provider's origin, which the policy's form-action
 * must not block): axe-core comes in as an init script, which the policy does not
 * govern. The stand-in's pages ask a CDN for a stylesheet; nothing here leaves this
 * computer. */
async function oidcContext() {
  const context = await newContext();
  await context.addInitScript({ content: AXE_SOURCE });
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
  return context;
}

/** Opens `path` on the console without a session: the browser should end on the
 * provider's authorization form, asked for by this console with PKCE. */
async function toProvider(page, path) {
  await page.goto(BASE_OIDC + path);
  const at = new URL(page.url());
  assert.equal(`${at.origin}${at.pathname}`, `${OIDC_ISSUER}/oauth2/authorize`,
    `${path} without a session should lead to the provider's authorization form`);
  assert.equal(at.searchParams.get('redirect_uri'), `${BASE_OIDC}/auth/callback`, 'back to this console');
  assert.equal(at.searchParams.get('code_challenge_method'), 'S256', 'with PKCE');
  assert.ok(at.searchParams.get('state') && at.searchParams.get('nonce'), 'with a state and a nonce');
  return at;
}

/** At the provider's form, signs in as `sub` (or presses Deny); resolves with the
 * console's answer to the provider sending the browser back. */
async function atProvider(page, sub) {
  const back = page.waitForResponse((r) => r.url().startsWith(`${BASE_OIDC}/auth/callback`));
  if (sub === null) {
    await page.getByRole('button', { name: 'Deny' }).click();
  } else {
    await page.locator('input[name="sub"]').fill(sub);
    await page.getByRole('button', { name: 'Authorize' }).click();
  }
  const answer = await back;
  await page.waitForLoadState('load');
  return answer;
}

async function sessionCookie(context) {
  return (await context.cookies(BASE_OIDC)).find((c) => c.name === 'postroom-session');
}

test('sign-in with the provider refused: no postroom group, a state that is not the browser\'s, a denial', { timeout: 120_000 }, async () => {
  await providerUser('rowan', { name: 'Rowan Nogroup', email: 'rowan@example.org', 'cognito:groups': ['finance'] });
  await providerUser('casey', { name: 'Casey Handler', email: 'casey@example.org', 'cognito:groups': ['postroom-case-handler', 'finance'] });
  const context = await oidcContext();
  const problems = [];
  try {
    const page = await context.newPage();
    // Signed in at the provider, but in no postroom group: a clear refusal, no session.
    await toProvider(page, '/');
    const noRole = await atProvider(page, 'rowan');
    assert.equal(noRole.status(), 403, 'a person with no postroom group should be refused with 403');
    assert.match(await page.locator('h1').textContent(), REFUSED_H1);
    assert.match(await page.locator('main').textContent(), /no postroom role/, 'the page should say why');
    assert.ok(!(await page.locator('body').textContent()).includes('Rowan'), 'the refusal should not name the person');
    assert.equal(await sessionCookie(context), undefined, 'no session for a person with no role');
    await journeyPage(page, 'oidc', 'refused-no-role', problems);

    // The provider's answer for a sign-in with another state than the one this browser
    // started (a planted sign-in): refused.
    const at = await toProvider(page, '/');
    at.searchParams.set('state', `${at.searchParams.get('state').slice(0, -4)}AAAA`);
    await page.goto(at.href);
    const planted = await atProvider(page, 'casey');
    assert.equal(planted.status(), 400, 'a sign-in whose state is not the browser\'s should be refused with 400');
    assert.match(await page.locator('main').textContent(), /did not start in this browser/);
    assert.equal(await sessionCookie(context), undefined, 'no session for a tampered sign-in');
    await journeyPage(page, 'oidc', 'refused-state', problems);

    // Deny at the provider: a clear page, no session.
    await toProvider(page, '/');
    const denied = await atProvider(page, null);
    assert.equal(denied.status(), 401, 'a sign-in denied at the provider should end on 401');
    assert.match(await page.locator('main').textContent(), /cancelled or refused/);
    assert.equal(await sessionCookie(context), undefined, 'no session after a denial');
    await journeyPage(page, 'oidc', 'refused-denied', problems);
    report(null, problems, 'the refusals were right, but their pages');
  } finally {
    await context.close();
  }
});

test('sign-in with the provider: the role from cognito:groups, axe on each page, sign-out at the provider too, all audited', { timeout: 150_000 }, async () => {
  await providerUser('casey', { name: 'Casey Handler', email: 'casey@example.org', 'cognito:groups': ['postroom-case-handler', 'finance'] });
  await providerUser('ada', { name: 'Ada Admin', email: 'ada@example.org', 'cognito:groups': ['postroom-admin'] });
  const context = await oidcContext();
  const problems = [];
  try {
    const page = await context.newPage();
    await toProvider(page, '/inbox');
    await atProvider(page, 'casey');
    assert.equal(page.url(), `${BASE_OIDC}/`, 'signed in, the console should show its home page');
    assert.equal(await page.locator('h1').textContent(), 'What needs doing');
    const identity = await page.locator('.moj-identity-bar').textContent();
    assert.match(identity, /Casey Handler/, 'the identity bar should name the person (the ID token\'s name)');
    assert.match(identity, /\(Case handler\)/, 'the identity bar should show the role from postroom-case-handler');
    assert.deepEqual(await navLabels(page), ['Home', 'Inbox', 'Cases', 'Upload'], 'a case handler\'s navigation');
    const session = await sessionCookie(context);
    assert.ok(session && session.httpOnly && session.sameSite === 'Lax', 'an HttpOnly, SameSite=Lax session cookie');
    assert.ok(!(await context.cookies(BASE_OIDC)).some((c) => c.name === 'postroom-login'), 'the sign-in cookie is gone');
    await journeyPage(page, 'oidc', 'home-case-handler', problems);
    const inbox = await page.goto(`${BASE_OIDC}/inbox`);
    assert.equal(inbox.status(), 200, 'a case handler should open the inbox');
    await journeyPage(page, 'oidc', 'inbox-case-handler', problems);
    const foi = await page.goto(`${BASE_OIDC}/foi`);
    assert.equal(foi.status(), 403, 'a case handler should be refused the FOI register');

    // Sign out: the console's session ends, then the provider's (its end-session
    // endpoint, where the stand-in asks to confirm), and the browser comes back.
    await page.goto(`${BASE_OIDC}/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${OIDC_ISSUER}/oauth2/end_session`));
    const end = new URL(page.url());
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${BASE_OIDC}/signed-out`, 'back to this console');
    assert.ok(end.searchParams.get('client_id'), 'the provider is told which client');
    await page.getByRole('button', { name: 'End session' }).click();
    await page.waitForURL(`${BASE_OIDC}/signed-out`);
    assert.match(await page.locator('h1').textContent(), /You have signed out/);
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'no sign-out button once signed out');
    await journeyPage(page, 'oidc', 'signed-out', problems);

    // The old session cookie opens nothing: a page goes to sign in, anything else gets 401.
    const replay = await oidcContext();
    try {
      await replay.addCookies([{ ...session, expires: -1 }]);
      const api = await replay.request.get(`${BASE_OIDC}/inbox`, { maxRedirects: 0 });
      assert.equal(api.status(), 401, 'the signed-out session cookie should no longer work');
      await toProvider(await replay.newPage(), '/');
    } finally {
      await replay.close();
    }

    // An administrator finds the sign-in and the sign-out in the audit trail.
    await toProvider(page, '/');
    await atProvider(page, 'ada');
    assert.match(await page.locator('.moj-identity-bar').textContent(), /\(Admin/);
    const audit = await page.goto(`${BASE_OIDC}/audit?who=${encodeURIComponent('oidc:casey')}`);
    assert.equal(audit.status(), 200, 'an administrator should open the audit trail');
    const rows = await page.locator('main table tbody tr').allTextContents();
    const said = rows.map((r) => r.replace(/\s+/g, ' ').trim());
    assert.ok(said.some((r) => /Signed in/.test(r) && r.includes('oidc:casey')), `a "Signed in" row: ${JSON.stringify(said)}`);
    assert.ok(said.some((r) => /Signed out/.test(r) && r.includes('oidc:casey')), `a "Signed out" row: ${JSON.stringify(said)}`);
    await journeyPage(page, 'oidc', 'audit-sign-ins', problems);
    report(null, problems, 'the sign-in with the provider worked, but its pages');
  } finally {
    await context.close();
  }
});
