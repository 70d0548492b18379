// Firefox ESR for tests/cross_browser.py: puppeteer-core over WebDriver BiDi (Firefox speaks it itself,
// so no geckodriver), driven by Python through JSON lines on stdin/stdout.
//
//   node tests/firefox_driver.mjs [/usr/bin/firefox-esr]
//   in:  {"id": 1, "cmd": "goto", "url": "..."}          out: {"id": 1, "ok": true, "value": ...}
//                                                          or {"id": 1, "ok": false, "error": "..."}
// Commands: newPage (a fresh profile: a new user context), goto, evaluate ({fn: source of an async
// function of one argument, arg}), setFiles ({selector, files: [{name, mime, b64}]}), click,
// waitForFunction ({fn, arg, timeoutMs}), screenshot ({path}), setOffline ({offline}), close.
// Only one page is open at a time; newPage closes the one before.

import { createInterface } from 'node:readline';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const executablePath = process.argv[2] || '/usr/bin/firefox-esr';
const browser = await puppeteer.launch({
  browser: 'firefox', protocol: 'webDriverBiDi', executablePath, headless: true,
  defaultViewport: { width: 1280, height: 900 },
});
let context = null;
let page = null;
const files = mkdtempSync(join(tmpdir(), 'pixelpress-ff-'));

const call = (fn, arg) => `(${fn})(${JSON.stringify(arg)})`;

const commands = {
  async newPage() {
    if (context) await context.close();
    context = await browser.createBrowserContext();
    page = await context.newPage();
    page.setDefaultTimeout(120_000);
    return (await browser.version());
  },
  async goto({ url }) {
    await page.goto(url, { waitUntil: 'load' });
  },
  async evaluate({ fn, arg }) {
    // The source is evaluated as an expression so the page's own structured data (JSON) comes back.
    return page.evaluate(call(fn, arg));
  },
  async waitForFunction({ fn, arg, timeoutMs }) {
    await page.waitForFunction(call(fn, arg), { timeout: timeoutMs, polling: 100 });
  },
  async setFiles({ selector, files: list }) {
    const paths = list.map((f, i) => {
      const dir = mkdtempSync(join(files, `f${i}-`));
      const path = join(dir, f.name);
      writeFileSync(path, Buffer.from(f.b64, 'base64'));
      return path;
    });
    const input = await page.$(selector);
    if (!input) throw new Error(`no element matches ${selector}`);
    await input.uploadFile(...paths);
  },
  async click({ selector }) {
    await page.click(selector);
  },
  async screenshot({ path }) {
    await page.screenshot({ path, fullPage: true });
  },
  async setOffline({ offline }) {
    await page.setOfflineMode(offline);
  },
  async close() {
    await browser.close();
    rmSync(files, { recursive: true, force: true });
    process.exit(0);
  },
};

const reply = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
reply({ id: 0, ok: true, value: await browser.version() });

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { id, cmd, ...args } = JSON.parse(line);
  try {
    const value = await commands[cmd](args);
    reply({ id, ok: true, value: value ?? null });
  } catch (e) {
    reply({ id, ok: false, error: String(e?.message ?? e) });
  }
}
await browser.close();
