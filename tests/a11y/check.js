// Opens a page in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), runs axe-core on it, and fails on any violation it finds.
// Usage: node tests/a11y/check.js FILE.html
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

(async () => {
  const file = path.resolve(process.argv[2]);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto('file://' + file);
    const title = await page.title();
    const rows = await page.locator('tbody tr').count();
    await page.addScriptTag({ content: fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
    const result = await page.evaluate(async () => await axe.run(document, { resultTypes: ['violations'] }));
    console.log(`a11y: "${title}", ${rows} row(s), ${result.passes.length} rules passed, ${result.violations.length} violation(s)`);
    for (const v of result.violations) {
      console.log(`  ${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} element(s)`);
    }
    const ok = title && rows > 0 && result.violations.length === 0;
    console.log(`accessibility: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
    if (!ok) process.exitCode = 1;
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exitCode = 2; });
