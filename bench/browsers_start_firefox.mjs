// Firefox ESR's half of bench/browsers_start.py: one profile, several visits
// of the start page, each visit's result (the page's window.__start) as one
// JSON line on stdout. Firefox speaks WebDriver BiDi itself, so puppeteer-core
// drives Debian's firefox-esr without a geckodriver.
//
//   node bench/browsers_start_firefox.mjs URL PROFILE_DIR VISITS [SETTLE_MS]

/* global process, console, setTimeout, window -- Node, and the page for the one function evaluated there */

import puppeteer from 'puppeteer-core';

const [url, profile, visits, settle = '1000'] = process.argv.slice(2);

const browser = await puppeteer.launch({
  browser: 'firefox',
  protocol: 'webDriverBiDi',
  executablePath: process.env.PIXELPRESS_FIREFOX || '/usr/bin/firefox-esr',
  headless: true,
  userDataDir: profile,
});
try {
  const page = await browser.newPage();
  for (let visit = 0; visit < Number(visits); visit++) {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const handle = await page.waitForFunction(() => window.__start, { polling: 20, timeout: 120_000 });
    console.log(JSON.stringify(await handle.jsonValue()));
    // The interpreter snapshot and the caches are written after the first file.
    await new Promise((resolve) => setTimeout(resolve, Number(settle)));
  }
} finally {
  await browser.close();
}
