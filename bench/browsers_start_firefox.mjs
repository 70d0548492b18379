// Firefox ESR's half of bench/browsers_start.py: one profile, a visit of the
// start page for each line read on stdin, and each visit's result (the page's
// window.__start) as one JSON line on stdout. Firefox speaks WebDriver BiDi
// itself, so puppeteer-core drives Debian's firefox-esr without a geckodriver.
//
//   node bench/browsers_start_firefox.mjs URL PROFILE_DIR

/* global process, console, window -- Node, and the page for the one function evaluated there */

import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';

const [url, profile] = process.argv.slice(2);

const browser = await puppeteer.launch({
  browser: 'firefox',
  protocol: 'webDriverBiDi',
  executablePath: process.env.PIXELPRESS_FIREFOX || '/usr/bin/firefox-esr',
  headless: true,
  userDataDir: profile,
});
try {
  const page = await browser.newPage();
  for await (const _ of createInterface({ input: process.stdin })) { // eslint-disable-line no-unused-vars
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const handle = await page.waitForFunction(() => window.__start, { polling: 20, timeout: 120_000 });
    console.log(JSON.stringify(await handle.jsonValue()));
  }
} finally {
  await browser.close();
}
