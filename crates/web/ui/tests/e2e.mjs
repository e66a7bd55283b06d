// The dashboard in a real browser: Debian's Chromium driven by playwright-core (which never
// downloads a browser), against the real `stockd serve` on a free 127.0.0.1 port over a
// throw-away SQLite store with the bundled sample data (no key, no network).
//
// The server runs the `sim` news source (invented articles, scored by the lexicon), ingested for
// MSFT before it starts. A new user registers, watches MSFT (its card shows the news sentiment),
// sees the chart drawn, creates a `crosses_up` alert from the chart after seeing its backtest
// markers on it, reads the symbol's news with scores and a day's citations, edits the alert (an
// invalid threshold is refused beside its field, a new one is backtested on the chart, then
// saved), and walks every page; every request to
// another host is blocked and must never have been attempted; no CSP violation, no page error.
// When stockd serves `GET /v1/stream`, a notification must then arrive live, without a reload
// (skipped, saying so, while that route answers 404). Screenshots of each page at desktop and
// phone width go to SCREENSHOT_DIR. The JavaScript's size is checked against ui/budget.json and
// reported with the first-load time.
//
//   node crates/web/ui/tests/e2e.mjs
//   STOCKD_BIN=target/debug/stockd SCREENSHOT_DIR=/tmp/shots node crates/web/ui/tests/e2e.mjs

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../../..');
const bin = resolve(repo, process.env.STOCKD_BIN ?? join(process.env.CARGO_TARGET_DIR ?? 'target', 'debug', 'stockd'));
const shots = resolve(repo, process.env.SCREENSHOT_DIR ?? 'docs/screenshots');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const budget = JSON.parse(readFileSync(join(here, '..', 'budget.json'), 'utf8'));
const DEADLINE_MS = 150_000;

const started = Date.now();
const failures = [];
/** The stockd process, killed however the test ends. */
let stockdChild;
const log = (...args) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...args);
function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function freePort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/** A webhook receiver on 127.0.0.1, for the channel the live-notification step notifies. */
async function webhookReceiver() {
  const received = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, received, url: `http://127.0.0.1:${server.address().port}/hook` };
}

/** The environment of every stockd run here: sample data, no limits, sim news (unless `news` is false). */
function stockdEnv(work, news = true) {
  const env = { ...process.env };
  for (const key of ['STOCKD_BIN', 'STOCKD_DATABASE_URL', 'STOCKD_NATS_URL', 'APIKEY', 'STOCKD_ALPHAVANTAGE_API_KEY']) delete env[key];
  Object.assign(env, {
    STOCKD_DATA_DIR: join(work, 'data'),
    STOCKD_PROVIDER: 'sample',
    STOCKD_LIMITS__READ_RATE_PER_SECOND: '0',
    STOCKD_LIMITS__UPSTREAM_READS_PER_MINUTE: '0',
    STOCKD_SIGNUPS_PER_ADDRESS: '0',
    STOCKD_QUOTE_INTERVAL: '1s',
    STOCKD_WEBHOOK_ALLOW: '127.0.0.1',
    STOCKD_LOG: 'warn',
    STOCKD_SENTIMENT__POLL_INTERVAL: '1s',
  });
  if (news) env.STOCKD_NEWS__SOURCES = 'sim';
  else delete env.STOCKD_NEWS__SOURCES;
  return env;
}

/** `stockd news ingest` for MSFT into the store the server will use (scored once it runs). */
async function ingestNews(work) {
  const child = spawn(bin, ['news', 'ingest', '--symbols', 'MSFT', '--quiet'], { env: stockdEnv(work), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise((ok, fail) => {
    child.on('error', fail);
    child.on('exit', ok);
  });
  if (code !== 0) throw new Error(`stockd news ingest failed (${code}):\n${output}`);
  return output.trim();
}

async function startStockd(work, news = true) {
  const port = await freePort();
  const env = stockdEnv(work, news);
  const child = spawn(bin, ['serve', '--bind', '127.0.0.1', '--port', String(port)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  stockdChild = child;
  let spawnError;
  child.on('error', (err) => (spawnError = err));
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (spawnError) throw new Error(`cannot start ${bin} (set STOCKD_BIN, or build it): ${spawnError.message}`);
    if (child.exitCode != null) throw new Error(`stockd exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${base}/health`)).ok) return { child, base, output: () => output };
    } catch {
      // not listening yet
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  child.kill();
  throw new Error(`stockd did not answer /health:\n${output}`);
}

/**
 * News off (no source, nothing stored): the symbol page shows stockd's hint quietly, after one
 * request (the `news-off` 404, the only failed request), and the watchlist card shows no
 * sentiment; no page or console error besides the browser's own line for that 404.
 */
async function newsOffCheck(browser, work) {
  const server = await startStockd(join(work, 'news-off'), false);
  try {
    const { base } = server;
    const json = { 'content-type': 'application/json' };
    const user = { email: `off-${Date.now()}@example.com`, password: 'correct horse battery staple' };
    check((await fetch(`${base}/v1/auth/register`, { method: 'POST', headers: json, body: JSON.stringify(user) })).ok, 'register on the news-off server');
    const { access_token: token } = await (await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: json, body: JSON.stringify(user) })).json();
    await fetch(`${base}/v1/me/watchlist/MSFT`, { method: 'PUT', headers: { authorization: `Bearer ${token}` } });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.route('**/*', (route) => (route.request().url().startsWith(`${base}/`) ? route.continue() : route.abort('blockedbyclient')));
    await context.addInitScript((t) => localStorage.setItem('stockd.session', t), token);
    const page = await context.newPage();
    const problems = [];
    const failed = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/^Failed to load resource: the server responded with a status of 404/.test(msg.text())) problems.push(`console: ${msg.text()}`);
    });
    page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`));
    await page.goto(`${base}/app/symbols/MSFT`);
    const hint = page.getByTestId('news-off');
    await hint.waitFor();
    check(/STOCKD_NEWS__SOURCES|news\.sources|sources/.test(await hint.textContent()), `the news-off hint says how to turn news on (got ${await hint.textContent()})`);
    check((await page.locator('.error').count()) === 0, 'news off is not shown as an error');
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByTestId('card-MSFT').getByTestId('last-price').filter({ hasText: /\d/ }).waitFor();
    check((await page.getByTestId('card-sentiment').count()) === 0, 'with news off the card shows no sentiment');
    check(failed.length === 1 && /^404 GET \/v1\/stocks\/MSFT\/(news|sentiment)$/.test(failed[0]), `one news-off request for the page, then none (failed: ${failed.join(', ')})`);
    check(problems.length === 0, `news off: no page or console error:\n  ${problems.join('\n  ')}`);
    await context.close();
    log(`news off: the hint is shown quietly (${failed[0]})`);
  } finally {
    server.child.kill();
  }
}

async function bundleFigures(base) {
  const html = await (await fetch(`${base}/app/`)).text();
  const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
  check(scripts.length > 0, 'the dashboard page loads a script (is this binary built with npm?)');
  let raw = 0;
  let gzip = 0;
  for (const src of scripts) {
    const response = await fetch(`${base}${src}`, { headers: { 'accept-encoding': 'identity' } });
    check(response.ok, `${src} answers 200`);
    check(/immutable/.test(response.headers.get('cache-control') ?? ''), `${src} is cached as immutable`);
    const bytes = Buffer.from(await response.arrayBuffer());
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gzip };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'stockd-e2e-'));
  mkdirSync(shots, { recursive: true });
  const receiver = await webhookReceiver();
  log(`news: ${(await ingestNews(work)).split('\n').pop()}`);
  const stockd = await startStockd(work);
  const { base } = stockd;
  log(`stockd on ${base}`);
  let browser;
  try {
    // The HTTP contract of the dashboard, before the browser.
    const app = await fetch(`${base}/app/`);
    check(app.ok, '/app/ answers 200');
    const csp = app.headers.get('content-security-policy') ?? '';
    check(/script-src 'self'[;]/.test(csp) && /connect-src 'self'/.test(csp) && !/unsafe-inline|unsafe-eval|https?:/.test(csp), `strict CSP on /app/ (got ${csp})`);
    check((await fetch(`${base}/app/symbols/MSFT`)).ok, 'an app path answers the page');
    const apiRoot = await fetch(`${base}/`, { headers: { accept: 'application/json' } });
    check(apiRoot.ok && (apiRoot.headers.get('content-type') ?? '').includes('json'), 'API clients keep the JSON at /');
    const figures = await bundleFigures(base);
    log(`bundle: JavaScript ${figures.raw} bytes, ${figures.gzip} gzipped (budget ${budget.js_raw_bytes} / ${budget.js_gzip_bytes})`);
    check(figures.raw <= budget.js_raw_bytes && figures.gzip <= budget.js_gzip_bytes, 'the JavaScript is within ui/budget.json');

    // The sim articles are scored by the server's lexicon scorer in its first rounds.
    let scoredDays = 0;
    for (let i = 0; i < 150 && scoredDays === 0; i++) {
      const sentiment = await (await fetch(`${base}/v1/stocks/MSFT/sentiment?days=7`)).json();
      scoredDays = (sentiment.days ?? []).filter((d) => d.score != null).length;
      if (!scoredDays) await new Promise((ok) => setTimeout(ok, 200));
    }
    check(scoredDays > 0, 'the sim news of MSFT is scored by the lexicon');
    log(`news: MSFT has sentiment on ${scoredDays} of the last 7 days`);

    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    const offOrigin = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${base}/`) || url.startsWith('data:')) return route.continue();
      offOrigin.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    // Failed requests are checked by URL below (the console message does not name it).
    const failed = [];
    const expectedFailures = [];
    page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.request().method()} ${r.url()}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/^Failed to load resource: the server responded/.test(msg.text())) problems.push(`console: ${msg.text()}`);
    });
    page.setDefaultTimeout(15_000);

    const shot = async (name) => {
      await page.screenshot({ path: join(shots, `${name}-desktop.png`), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(150);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 1, `${name}: no sideways scrolling at 390px (overflow ${overflow}px)`);
      await page.screenshot({ path: join(shots, `${name}-phone.png`), fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });
    };

    // A browser opening / lands on the dashboard; first load measured to the sign-in form.
    const t0 = Date.now();
    await page.goto(`${base}/`);
    await page.getByRole('button', { name: 'Create account' }).or(page.getByRole('button', { name: 'Sign in', exact: true })).first().waitFor();
    const firstLoad = Date.now() - t0;
    const nav = await page.evaluate(() => {
      const entry = performance.getEntriesByType('navigation')[0];
      return { domContentLoaded: Math.round(entry.domContentLoadedEventEnd), load: Math.round(entry.loadEventEnd) };
    });
    check(new URL(page.url()).pathname === '/app/', `/ redirects a browser to /app/ (at ${page.url()})`);
    log(`first load: ${firstLoad} ms to the sign-in form (DOMContentLoaded ${nav.domContentLoaded} ms, load ${nav.load} ms)`);
    // Keyboard: the first Tab reaches the form's controls.
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement && document.activeElement !== document.body), 'Tab moves focus into the page');
    await shot('signin');

    // Register (then signed in).
    const email = `e2e-${Date.now()}@example.com`;
    const password = 'correct horse battery staple';
    await page.getByRole('tab', { name: 'Register' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Display name (optional)').fill('E2E');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Watchlist' }).waitFor();
    log('registered and signed in');

    // Watch MSFT: its card shows a price.
    await page.getByRole('textbox', { name: 'Symbol' }).fill('MSFT');
    await page.getByRole('button', { name: 'Watch', exact: true }).click();
    const card = page.getByTestId('card-MSFT');
    await card.waitFor();
    await card.getByTestId('last-price').filter({ hasText: /\d/ }).waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="card-MSFT"] svg polyline'));
    log(`watching MSFT at ${await card.getByTestId('last-price').textContent()}`);
    const mood = card.getByTestId('card-sentiment');
    await mood.waitFor();
    check(/(bullish|bearish|neutral) [+-]?\d\.\d\d/.test(await mood.textContent()), `the card shows the news sentiment (got ${await mood.textContent()})`);
    await shot('overview');

    // The symbol page: the chart is drawn (canvas pixels), then an alert from the chart.
    await card.getByRole('link', { name: 'MSFT' }).click();
    await page.getByRole('heading', { name: 'MSFT', level: 1 }).waitFor();
    const chart = page.getByTestId('price-chart');
    await chart.waitFor();
    await page.waitForFunction(() => {
      let drawn = 0;
      for (const canvas of document.querySelectorAll('[data-testid="price-chart"] canvas')) {
        if (!canvas.width || !canvas.height) continue;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const [r, g, b, a] = data;
        for (let i = 0; i < data.length; i += 16) {
          if (data[i] !== r || data[i + 1] !== g || data[i + 2] !== b || data[i + 3] !== a) drawn++;
        }
      }
      return drawn > 2000;
    });
    log('chart drawn');
    // A click on the chart picks the alert's level.
    const box = await chart.boundingBox();
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.3);
    const picked = Number(await page.getByRole('spinbutton', { name: 'Price' }).inputValue());
    check(picked > 0, `a click on the chart picks a level (got ${picked})`);
    // A level the range crosses several times: the middle of its closes.
    const daily = await (await fetch(`${base}/v1/stocks/MSFT/daily?days=126`)).json();
    const closes = daily.bars.map((b) => b.close).sort((a, b) => a - b);
    const level = closes[Math.floor(closes.length / 2)].toFixed(2);
    await page.getByRole('combobox', { name: 'Condition' }).selectOption('crosses_up');
    await page.getByRole('combobox', { name: 'How often' }).selectOption('once_per_day');
    await page.getByRole('spinbutton', { name: 'Price' }).fill(level);
    await page.getByRole('button', { name: 'Preview backtest' }).click();
    const result = page.getByTestId('backtest-result');
    await result.waitFor();
    const fires = Number(await result.locator('strong').textContent());
    check(fires > 0, `the backtest of crosses_up ${level} fires over the range (got ${fires})`);
    check(Number(await chart.getAttribute('data-markers')) === fires, 'every backtest fire is a marker on the chart');
    log(`backtest: ${fires} fires drawn on the chart before saving`);
    // News with sentiment: articles with their scores, links to the publisher in a new tab
    // (a navigation, not a load), and a day's citations reached by keyboard from the plot.
    const news = page.getByTestId('news');
    const articles = news.getByTestId('news-list').getByTestId('news-article');
    await articles.first().waitFor();
    check((await articles.count()) > 0, 'the news list shows articles');
    await news.getByTestId('news-list').getByTestId('sentiment-score').first().waitFor();
    const links = await news.getByTestId('news-list').locator('a').evaluateAll((as) => as.map((a) => ({ href: a.href, rel: a.rel, target: a.target })));
    check(links.length > 0 && links.every((l) => l.rel.includes('noopener') && l.rel.includes('noreferrer') && l.target === '_blank' && !l.href.startsWith(base)), `article links open the publisher in a new tab without opener or referrer (${JSON.stringify(links[0])})`);
    check(Number(await news.getByTestId('sentiment-plot').getAttribute('data-days')) > 0, 'the sentiment plot has scored days');
    const dayButton = news.getByTestId('sentiment-plot').getByRole('button').first();
    const dayLabel = await dayButton.getAttribute('aria-label');
    await dayButton.focus();
    await page.keyboard.press('Enter');
    await news.getByTestId('sentiment-day').getByRole('heading', { name: new RegExp(`^${dayLabel.slice(0, 10)}`) }).waitFor();
    log(`news: ${await articles.count()} articles with scores; ${dayLabel}`);
    await shot('symbol');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(shots, 'symbol-dark-desktop.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByRole('button', { name: 'Save alert' }).click();
    await page.getByTestId('alert-saved').waitFor();
    log('alert saved');

    // Channels: a webhook to the local receiver.
    await page.getByRole('link', { name: 'Channels' }).click();
    await page.getByRole('heading', { name: 'Channels' }).waitFor();
    await page.getByRole('textbox', { name: 'URL' }).fill(receiver.url);
    await page.getByRole('button', { name: 'Add channel' }).click();
    await page.getByText('signing secret').waitFor();
    // Send a test: the receiver answers 204, the page says it was delivered.
    const before = receiver.received.length;
    await page.getByRole('button', { name: /^Send a test to channel/ }).first().click();
    await page.getByTestId('channel-test-result').getByText(/^Test delivered/).waitFor();
    if (receiver.received.length !== before + 1) throw new Error('the test webhook did not arrive once');
    log('channel test delivered');
    await shot('channels');

    // Alerts: the rule with its live state; pause and resume.
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    const table = page.getByTestId('alerts-table');
    await table.waitFor();
    await table.getByText('crosses up').first().waitFor();
    await page.getByRole('button', { name: /^Pause alert/ }).first().click();
    await table.getByText('paused').waitFor();
    await page.getByRole('button', { name: /^Resume alert/ }).first().click();
    await table.getByText('active').waitFor();

    // Edit the alert from the chart: the stored rule's backtest is drawn on opening; a bad
    // threshold is refused beside its field; a new one is backtested, then saved.
    const token = await page.evaluate(() => localStorage.getItem('stockd.session'));
    const mine = async () => (await (await fetch(`${base}/v1/alerts`, { headers: { authorization: `Bearer ${token}` } })).json()).alerts;
    const rule = (await mine())[0];
    const edit = page.getByRole('button', { name: `Edit alert ${rule.id}` });
    await edit.focus();
    await page.keyboard.press('Enter');
    const editor = page.getByTestId('alert-editor');
    await editor.waitFor();
    check(await page.evaluate(() => document.activeElement?.tagName === 'H2' && document.activeElement.closest('[data-testid="alert-editor"]') != null), 'opening the editor moves focus to its heading');
    const editChart = editor.getByTestId('price-chart');
    const editResult = editor.getByTestId('edit-backtest');
    await editResult.waitFor();
    const openFires = Number(await editResult.locator('strong').textContent());
    check(openFires > 0 && Number(await editChart.getAttribute('data-markers')) === openFires, `the stored rule's backtest is drawn on opening (${openFires} fires)`);
    const priceInput = editor.getByRole('spinbutton', { name: 'Price' });
    check(Number(await priceInput.inputValue()) === Number(level), 'the editor starts from the stored threshold');
    await priceInput.fill('-5');
    // The one request meant to fail: the API's 422 for the price.
    const refused = page.waitForResponse((r) => r.url().includes('/v1/alerts/backtest') && r.status() === 422);
    await editor.getByRole('button', { name: 'Preview backtest' }).click();
    expectedFailures.push(`422 POST ${(await refused).url()}`);
    const priceError = editor.getByTestId('error-price');
    await priceError.waitFor();
    check(/^price: /.test(await priceError.textContent()), `the API's message is shown beside the price (got ${await priceError.textContent()})`);
    check((await priceInput.getAttribute('aria-invalid')) === 'true' && (await priceInput.getAttribute('aria-describedby')).includes(await priceError.getAttribute('id')), 'the price field is marked invalid and described by the message');
    check(await editor.getByRole('button', { name: 'Save changes' }).isDisabled(), 'nothing to save without a backtest');
    const newLevel = closes[Math.floor(closes.length * 0.3)].toFixed(2);
    await priceInput.fill(newLevel);
    await editor.getByRole('combobox', { name: 'How often' }).selectOption('every_time');
    await editor.getByRole('textbox', { name: 'Cooldown' }).fill('2h');
    await priceInput.press('Enter');
    await editResult.waitFor();
    const editFires = Number(await editResult.locator('strong').textContent());
    check(editFires > 0 && Number(await editChart.getAttribute('data-markers')) === editFires, `the edited rule's ${editFires} backtest fires are redrawn on the chart`);
    log(`edit: crosses_up ${newLevel} every 2h would have fired ${editFires} times (was ${openFires} at ${level})`);
    await shot('alert-edit');
    await editor.getByRole('button', { name: 'Save changes' }).click();
    await page.getByTestId('alert-updated').waitFor();
    await table.getByText(Number(newLevel).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })).first().waitFor();
    const saved = (await mine()).find((r) => r.id === rule.id);
    check(saved.price === Number(newLevel) && saved.frequency === 'every_time' && saved.cooldown === '2h', `the edit is stored (${JSON.stringify(saved)})`);
    check(await page.evaluate((id) => document.activeElement?.getAttribute('data-edit') === String(id), rule.id), 'focus returns to the Edit button after saving');
    log('alert edited and saved');
    await shot('alerts');

    // Live notifications, once the stream exists.
    const openapi = await (await fetch(`${base}/openapi.json`)).json();
    const hasStream = '/v1/stream' in openapi.paths;
    const hasInstances = '/v1/system/instances' in openapi.paths;
    if (!hasStream) {
      log('SKIPPED live notification: this stockd does not serve GET /v1/stream (not in /openapi.json); the pages poll');
    } else {
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const channels = await (await fetch(`${base}/v1/me/channels`, { headers: auth })).json();
      const quote = await (await fetch(`${base}/v1/stocks/MSFT/quote`)).json();
      await page.getByRole('link', { name: 'Notifications' }).click();
      await page.getByRole('heading', { name: 'Notifications' }).waitFor();
      await page.getByTestId('stream-status').filter({ hasText: 'live' }).waitFor();
      for (const kind of ['crosses_up', 'crosses_down']) {
        const created = await fetch(`${base}/v1/alerts`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ symbol: 'MSFT', kind, price: quote.price, frequency: 'once', channels: [channels.channels[0].id] }),
        });
        check(created.status === 201, `a ${kind} alert at the live price is created`);
      }
      await page.getByTestId('notifications').locator('li').first().waitFor({ timeout: 60_000 });
      log('a notification arrived live, without a reload');
    }
    await page.getByRole('link', { name: 'Notifications' }).click();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    await shot('notifications');

    // System: real values.
    await page.getByRole('link', { name: 'System' }).click();
    await page.getByTestId('health').waitFor();
    await page.getByTestId('providers').getByRole('row').nth(1).waitFor();
    if (hasInstances) await page.getByTestId('instances').getByRole('row').nth(1).waitFor();
    else log('SKIPPED instances: this stockd does not serve GET /v1/system/instances');
    await shot('system');

    await newsOffCheck(browser, work);

    check(offOrigin.length === 0, `no request left the origin (attempted: ${offOrigin.join(', ')})`);
    // Without the stream the client probes it once (an older stockd answers 400 from its
    // `/{symbol}/{days}` route) and then polls.
    const unexpected = failed.filter(
      (f) => !expectedFailures.includes(f) && (hasStream || !/\/v1\/stream\?/.test(f)) && (hasInstances || !/\/v1\/system\/instances$/.test(f)),
    );
    check(unexpected.length === 0, `no request failed: ${unexpected.join(', ')}`);
    check(problems.length === 0, `no page error, console error or CSP violation:\n  ${problems.join('\n  ')}`);
    log(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${shots}`);
    console.log(`DASHBOARD js_bytes=${figures.raw} js_gzip_bytes=${figures.gzip} first_load_ms=${firstLoad}`);
  } catch (err) {
    failures.push(err);
    console.error(stockd.output().split('\n').slice(-30).join('\n'));
  } finally {
    await browser?.close();
    stockd.child.kill();
    receiver.server.close();
    rmSync(work, { recursive: true, force: true });
  }
  if (failures.length) {
    console.error(failures.map((e) => e.stack ?? String(e)).join('\n'));
    process.exit(1);
  }
}

const timer = setTimeout(() => {
  console.error(`the browser test took more than ${DEADLINE_MS / 1000} s`);
  stockdChild?.kill();
  process.exit(1);
}, DEADLINE_MS);
timer.unref();
await main();
