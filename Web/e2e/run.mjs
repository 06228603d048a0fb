// Browser tests of the dashboard in Debian's Chromium (headless, driven by playwright-core) against the real
// API, silo and PostgreSQL that scripts/web.sh started. Each step is a test; a failing one is recorded with a
// screenshot and the run goes on where it can. Writes "passed failed skipped" to $WEB_ARTIFACTS/totals.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BASE = process.env.WEB_BASE_URL ?? 'http://localhost:8000';
const KEY = process.env.WEB_API_KEY ?? '';
const OUT = process.env.WEB_ARTIFACTS ?? '../.state/web-e2e';
const CHROMIUM = process.env.WEB_CHROMIUM ?? '/usr/bin/chromium';
const API = `${BASE}/api/v1/nautilus/backtest`;
mkdirSync(OUT, { recursive: true });

const DAILY = {
  strategyClass: 'BollingerBands', strategyConfig: { period: 20, stdDevs: 2 },
  startDate: '2019-01-02', endDate: '2020-12-31', instruments: ['SPY.ARCA'], initialBalance: 100000, baseCurrency: 'USD',
};
// About two million ticks: long enough to pause or cancel in the middle (the cluster tests use the same run).
const TICKS = {
  strategyClass: 'MovingAverageCross', strategyConfig: { fastPeriod: 50, slowPeriod: 400 },
  startDate: '2013-10-07', endDate: '2013-10-11', instruments: ['SPY', 'IBM'], initialBalance: 100000,
  dataConfiguration: { resolution: 'tick', dataType: 'ticks', adjustment: 'raw' },
  executionSettings: { fillModel: 'nextTick' },
  riskSettings: { positionSizing: { mode: 'fixedQuantity', quantity: 10 } },
  useCache: false,
};

const RECONNECT_TEST = 'after the API restarts the page reconnects and shows the state reached meanwhile';
const CUSTOM_OPTIMIZATION_TEST =
  'a custom strategy uploaded in the editor is optimized from the Optimize page, and a trial opened as a backtest equals it';

// An uploaded strategy whose schema (threshold, period, band, side) is in neither alphabetical nor PostgreSQL's jsonb
// key order (band, side, period, threshold): a trial read back from the store must still run the trial's config.
const CUSTOM_STRATEGY = `using System.Collections.Generic;
using Backtesting.Engine.Data;
using Backtesting.Engine.Indicators;
using Backtesting.Engine.Strategies;

public sealed class E2eOrderProbe : Strategy
{
    private Sma[] _sma = [];

    [Parameter("Fraction above the average to enter", Min = 0, Max = 0.5)]
    public double Threshold { get; set; } = 0.0;

    [Parameter("SMA period", Min = 2, Max = 200, Required = true)]
    public int Period { get; set; } = 20;

    [Parameter("Fraction below the average to exit", Min = 0, Max = 0.5)]
    public double Band { get; set; } = 0.0;

    [Parameter("Which side", Allowed = ["long", "flat"])]
    public string Side { get; set; } = "long";

    public override int WarmupBars => Period;

    public override void OnStart()
    {
        _sma = new Sma[Instruments.Count];
        for (var i = 0; i < _sma.Length; i++)
        {
            _sma[i] = new Sma(Period);
        }
    }

    public override void OnBar(in MarketData bar)
    {
        var sma = _sma[bar.Instrument];
        sma.Update(bar.Close);
        if (!sma.IsReady || IsWarmingUp || Side == "flat")
        {
            return;
        }

        var quantity = Position(bar.Instrument).Quantity;
        if (bar.Close > sma.Value * (1 + Threshold) && quantity <= 0)
        {
            EnterLong(bar.Instrument);
        }
        else if (bar.Close < sma.Value * (1 - Band) && quantity > 0)
        {
            ExitPosition(bar.Instrument);
        }
    }
}
`;

// ---- a small runner ----
const results = [];
const figures = [];
const consoleErrors = [];
let page;
let currentTest = '';

// Responses a test provokes on purpose (the browser logs every 4xx as a console error).
const EXPECTED_WHILE_API_DOWN = /ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|status of 50[23]/;
const EXPECTED = {
  'a wrong key is refused and the admin key signs in': [401],
  "the server's validation messages appear on the fields": [400],
  // The planned count is asked as the form fills in: an unfinished job is a 400 until it is complete.
  'an optimization launched from the Optimize page completes, its leaderboard sorts and a trial opens as a backtest': [400],
  [CUSTOM_OPTIMIZATION_TEST]: [400],
  // The same form asks /plan for the trials per window while it is filled in.
  'a walk-forward analysis launched from the Walk-forward page completes with its windows, stitched curve, in-sample curves and efficiency': [400],
};

// WEB_E2E_ONLY=<part of a name>: run the sign-in and the tests whose names contain it (while working on one).
const ONLY = process.env.WEB_E2E_ONLY;

async function test(name, body) {
  if (ONLY && !name.includes(ONLY) && !name.startsWith('a wrong key') && !name.startsWith('no console errors')) return;
  currentTest = name;
  const started = Date.now();
  try {
    await body();
    results.push({ name, ok: true });
    console.log(`  ✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push({ name, ok: false, error: String(e?.stack ?? e) });
    console.log(`  ✗ ${name}\n    ${String(e?.message ?? e).split('\n').join('\n    ')}`);
    await page?.screenshot({ path: join(OUT, `FAILED-${slug(name)}.png`), fullPage: true }).catch(() => undefined);
  }
}
const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const shot = (name) => page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Polls until fn returns a truthy value; the deadline is generous (a loaded 2-core machine). */
async function until(fn, what, timeoutMs = 120_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

async function api(method, path, body) {
  const response = await fetch(path.startsWith('http') ? path : `${API}${path}`, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
const status = (id) => api('GET', `/status/${id}`);
const waitForStatus = (id, words, timeoutMs) =>
  until(async () => { const s = await status(id); return words.includes(s.status) && s; }, `${id} to be ${words.join(' or ')}`, timeoutMs);

/** The state word the run page shows. */
const shownState = () => page.getByTestId('run-detail').getByTestId('state-tag').first().innerText();

// Worker processes the test holds still, released at the end whatever happens.
const heldWorkers = new Set();
function release(pid) {
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // already gone
  }
  heldWorkers.delete(pid);
}

/** Starts a tick run and has it paused through the page's Pause button. A tick run takes about a second on an
 *  idle machine, less than a person (or this test) needs to click: so as soon as the cluster reports it running,
 *  the test holds its worker process still (SIGSTOP; the process runner pauses runs the same way), which keeps
 *  the run mid-way until the click lands. Resume (SIGCONT) and cancel then go through the real cluster. */
async function startAndPauseInBrowser() {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const { id } = await api('POST', '/start', TICKS);
    const running = await until(async () => {
      const s = await status(id);
      const pid = s.attempts?.at(-1)?.processId;
      return (s.status === 'running' && pid) || ['completed', 'failed', 'cancelled', 'timed_out'].includes(s.status) ? s : null;
    }, `${id} to run`, 60_000, 10);
    const pid = running.attempts?.at(-1)?.processId;
    if (running.status !== 'running' || !pid) continue;
    try {
      process.kill(pid, 'SIGSTOP');
      heldWorkers.add(pid);
    } catch {
      continue; // it ended in between
    }
    if ((await status(id)).status !== 'running') {
      release(pid);
      continue;
    }
    await page.goto(`${BASE}/#/runs/${id}`);
    await until(async () => (await shownState()) === 'running', `${id} shown running`, 30_000);
    await page.getByRole('button', { name: `Pause ${id}` }).click();
    await waitForStatus(id, ['paused'], 60_000);
    // Paused by the cluster now (it stops the process itself); the test's hold is no longer needed.
    heldWorkers.delete(pid);
    return id;
  }
  throw new Error('every tick run finished before it could be held');
}

// ---- the run ----
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
  ],
});
const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
page = await context.newPage();
page.setDefaultTimeout(30_000);
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  const status = /status of (\d{3})/.exec(m.text())?.[1];
  if (status && (EXPECTED[currentTest] ?? []).includes(Number(status))) return;
  if (currentTest === RECONNECT_TEST && EXPECTED_WHILE_API_DOWN.test(m.text())) return;
  consoleErrors.push(`console (${currentTest}): ${m.text()} ${m.location()?.url ?? ''}`);
});
page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));

console.log(`browser tests against ${BASE} (Chromium ${browser.version()}, 1366x768)`);
let firstRun = null;
let secondRun = null;

await test('a wrong key is refused and the admin key signs in', async () => {
  const started = Date.now();
  await page.goto(BASE);
  await page.getByTestId('sign-in').waitFor();
  figures.push(`sign-in page visible ${Date.now() - started} ms after navigation`);
  await shot('01-sign-in');
  await page.getByLabel('API key').fill('not-a-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('This API key was not accepted.').waitFor();
  await page.getByLabel('API key').fill(KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('backtest-configuration').waitFor();
  const stored = await page.evaluate(() => sessionStorage.getItem('backtesting.apiKey'));
  assert(stored === KEY, 'the key is kept in sessionStorage');
});

await test('the dashboard loads quickly (figure printed, not asserted)', async () => {
  // A fresh navigation with the key in the session: time until the form has its strategies.
  const started = Date.now();
  await page.goto(`${BASE}/#/new`);
  await page.reload();
  await page.locator('#field-strategyClass').waitFor();
  await until(() => page.getByTestId('parameter-form').locator('input').count(), 'the parameter form', 30_000, 20);
  const ms = Date.now() - started;
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { domContentLoaded: Math.round(nav.domContentLoadedEventEnd), load: Math.round(nav.loadEventEnd) };
  });
  figures.push(`dashboard load on localhost: form ready ${ms} ms after navigation (DOMContentLoaded ${timing.domContentLoaded} ms, load ${timing.load} ms; goal < 2000 ms)`);
});

await test('the configuration form is labelled, keyboard-usable and fits 1366x768', async () => {
  const unlabelled = await page.evaluate(() => {
    const form = document.querySelector('[data-testid="backtest-configuration"] form');
    const fields = [...form.querySelectorAll('input, textarea')].filter((e) => e.type !== 'hidden' && e.offsetParent !== null);
    return fields.filter((e) => !e.getAttribute('aria-label') && !(e.id && form.querySelector(`label[for="${e.id}"]`)))
      .map((e) => e.outerHTML.slice(0, 120));
  });
  assert(unlabelled.length === 0, `inputs without a label: ${unlabelled.join(' | ')}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `the page is ${overflow}px wider than a 1366px screen`);
  // Keyboard: from the strategy field, Tab reaches the next fields and the run button.
  await page.locator('#field-strategyClass').focus();
  const reached = new Set();
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent?.trim().slice(0, 30)));
    if (reached.has('Review and run')) break;
  }
  for (const id of ['field-preset', 'param-fastPeriod', 'field-dateRange', 'field-instruments', 'field-initialBalance', 'field-priority', 'Review and run']) {
    if (id === 'param-fastPeriod') continue; // the first strategy (alphabetical) may not have this parameter
    assert(reached.has(id), `Tab does not reach ${id} (reached: ${[...reached].join(', ')})`);
  }
});

// Picks an option of a single select and checks that the select shows it: a click on a dropdown that is still
// animating open (a busy machine) can land on no option or the wrong one, so a miss is retried once, and said.
async function chooseOption(selectInput, text) {
  const selector = page.locator(`.ant-select-selector:has(${selectInput})`);
  for (let attempt = 1; ; attempt++) {
    await selector.click();
    // This select's own dropdown (the one holding its listbox, `${id}_list`): selects offering the same words (each
    // parameter's fixed / range / list) must not take the option of another's dropdown still closing.
    const list = await page.locator(selectInput).getAttribute('aria-controls');
    const dropdown = list ? `.ant-select-dropdown:has([id="${list}"])` : '.ant-select-dropdown:visible';
    const option = page.locator(`${dropdown} .ant-select-item-option`).filter({ hasText: text }).first();
    await option.waitFor({ state: 'visible' });
    await option.click();
    const shown = async () => (await selector.locator('.ant-select-selection-item').allInnerTexts()).join(' ');
    try {
      await until(async () => (await shown()).includes(text), `the select ${selectInput} to show ${text}`, 10_000);
      return;
    } catch (e) {
      if (attempt >= 2) throw e;
      console.log(`  note: the select ${selectInput} showed "${await shown()}" after choosing ${text}; choosing again`);
      await page.keyboard.press('Escape');
    }
  }
}

// Adds a value to a multiple select by typing it, once the dropdown offers it, and checks it was added. A click that
// closed an open dropdown instead of opening it is noticed (no option in 10 s) and the typing is done again, once.
async function addTag(selectInput, text) {
  const selector = page.locator(`.ant-select-selector:has(${selectInput})`);
  const option = page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: text }).first();
  for (let attempt = 1; ; attempt++) {
    await selector.click();
    await page.locator(selectInput).fill(text);
    try {
      await option.waitFor({ state: 'visible', timeout: attempt === 1 ? 10_000 : 30_000 });
      break;
    } catch (e) {
      if (attempt >= 2) throw e;
      console.log(`  note: the select ${selectInput} offered no ${text} after typing it; typing again`);
      await page.keyboard.press('Escape');
    }
  }
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
  await until(async () => (await selector.locator('.ant-select-selection-item').allInnerTexts()).join(' ').includes(text.split('.')[0]),
    `the select ${selectInput} to hold ${text}`, 10_000);
}

await test('the server\'s validation messages appear on the fields', async () => {
  await page.goto(`${BASE}/#/new`);
  await chooseOption('#field-strategyClass', 'MovingAverageCross');
  await page.locator('#param-fastPeriod').waitFor();
  await page.locator('.ant-select-selector:has(#field-instruments)').click();
  await page.locator('#field-instruments').fill('SPY.ARCA');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: '1Y' }).click();
  await page.getByLabel('Initial capital').fill('500');
  await page.getByRole('button', { name: 'Review and run' }).click();
  // The dialog's content first, as in the run below: a click on a dialog still opening can miss its button.
  await page.getByTestId('confirm-summary').waitFor();
  await page.getByRole('button', { name: 'Run backtest' }).click();
  const item = page.locator('.ant-form-item').filter({ has: page.locator('#field-initialBalance') });
  await item.getByText('initialBalance must be at least 1,000').waitFor();
  await page.getByTestId('server-errors').waitFor();
  await shot('02-validation-errors');
  const listed = await api('GET', '/list?pageSize=10');
  assert(listed.totalCount === 0, 'nothing was created by the invalid start');
});

await test('configure and start a backtest, and watch its progress reach 100%', async () => {
  await page.getByLabel('Initial capital').fill('250000');
  await chooseOption('#field-baseCurrency', 'USD');
  await page.locator('#param-fastPeriod').fill('10');
  await page.locator('#param-slowPeriod').fill('30');
  await page.getByRole('button', { name: '2Y' }).click();
  await shot('03-configuration');
  await page.getByRole('button', { name: 'Review and run' }).click();
  await page.getByTestId('confirm-summary').waitFor();
  await shot('04-confirm');
  await page.getByRole('button', { name: 'Run backtest' }).click();
  await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
  firstRun = page.url().split('/').pop();
  await until(async () => Number(await page.getByTestId('progress-bar').getAttribute('data-percent')) === 100, 'progress 100%');
  await until(async () => (await shownState()) === 'completed', 'the completed state');
  await page.getByTestId('completion').waitFor();
});

await test('the metrics and the equity chart render', async () => {
  await page.getByTestId('key-metrics').waitFor();
  const sharpe = await page.getByTestId('key-metrics').getByTestId('metric-sharpeRatio').innerText();
  assert(/Sharpe ratio[\s\S]*-?\d+\.\d\d/.test(sharpe), `Sharpe ratio card: ${sharpe}`);
  const totalReturn = await page.getByTestId('key-metrics').getByTestId('metric-totalReturn').innerText();
  assert(/-?\d+\.\d\d%/.test(totalReturn), `total return card: ${totalReturn}`);
  const chart = page.getByTestId('equity-chart').first();
  await until(async () => Number(await chart.getAttribute('data-points')) > 100, 'equity points');
  // The chart really drew: its canvases hold non-white pixels.
  const inked = await until(() => chart.evaluate((el) => {
    let count = 0;
    for (const canvas of el.querySelectorAll('canvas')) {
      const ctx = canvas.getContext('2d');
      if (!ctx || !canvas.width || !canvas.height) continue;
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 16) if (data[i] < 200 || data[i + 1] < 200 || data[i + 2] < 200) count++;
    }
    return count;
  }), 'the chart to draw', 30_000);
  assert(inked > 500, `the chart drew only ${inked} pixels`);
  await shot('05-results-overview');
});

await test('the trades table sorts, filters and pages', async () => {
  await page.getByRole('tab', { name: 'Trades' }).click();
  const table = page.getByTestId('trade-table');
  await table.locator('tbody tr.ant-table-row').first().waitFor();
  const rows = await table.locator('tbody tr.ant-table-row').count();
  assert(rows > 0, 'trades are listed');
  await table.getByRole('columnheader', { name: 'P&L' }).click();
  const pnls = await table.locator('tbody tr.ant-table-row td:nth-child(9)').allInnerTexts();
  const numbers = pnls.map((t) => Number(t.replace(/[^0-9.-]/g, '')));
  assert(numbers.every((v, i) => i === 0 || v >= numbers[i - 1]), `P&L sorted ascending: ${pnls.join(', ')}`);
  await table.getByLabel('Search trades').fill('long');
  await table.getByText(/\d+ of \d+ trades/).waitFor();
  await shot('06-trades');
  for (const header of ['Entry time', 'Exit time', 'Commission', 'MAE', 'MFE', 'Duration', 'Return']) {
    assert(await table.getByRole('columnheader', { name: header }).count() > 0, `column ${header}`);
  }
});

await test("the charts tab draws the Monte Carlo fan chart and the drawdown distribution of the completed run", async () => {
  await page.getByRole('tab', { name: 'Charts' }).click();
  const fan = page.getByTestId('montecarlo-fan');
  await fan.waitFor({ timeout: 60_000 });
  const loss = await page.getByTestId('mc-probabilityOfLoss').innerText();
  assert(/Probability of a loss[\s\S]*\d+\.\d%/.test(loss), `probability of a loss card: ${loss}`);
  // The fan really drew: its canvas holds the bands' blue.
  const inked = await until(() => fan.evaluate((el) => {
    let count = 0;
    for (const canvas of el.querySelectorAll('canvas')) {
      const ctx = canvas.getContext('2d');
      if (!ctx || !canvas.width || !canvas.height) continue;
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 16) if (data[i + 2] > data[i] + 40) count++;
    }
    return count;
  }), 'the fan chart to draw', 30_000);
  assert(inked > 500, `the fan chart drew only ${inked} blue pixels`);
  await page.getByTestId('montecarlo-drawdowns').waitFor();
  await shot('07b-montecarlo');
});

await test('the charts and risk tabs show the curve, monthly returns and risk metrics', async () => {
  await page.getByRole('tab', { name: 'Charts' }).click();
  await page.getByTestId('monthly-heatmap').first().waitFor();
  await shot('07-charts');
  await page.getByRole('tab', { name: 'Risk' }).click();
  await page.getByTestId('performance-metrics').getByTestId('metric-var95Historical').waitFor();
  await page.getByTestId('performance-metrics').getByTestId('metric-beta').waitFor();
  await shot('08-risk');
});

await test('an export downloads (CSV, JSON and PDF)', async () => {
  await page.getByRole('tab', { name: 'Overview' }).click();
  for (const [label, check] of [
    ['CSV', (text) => text.split('\n')[0].includes(',')],
    ['JSON', (text) => JSON.parse(text).metrics !== undefined],
    ['PDF', (text) => text.startsWith('%PDF')],
  ]) {
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      page.getByTestId('export-buttons').getByRole('button', { name: label }).click(),
    ]);
    const path = join(OUT, `export-${download.suggestedFilename()}`);
    await download.saveAs(path);
    const text = readFileSync(path, 'latin1');
    assert(text.length > 100 && check(text), `${label} export (${download.suggestedFilename()}) looks wrong`);
  }
});

await test('pause and resume a running backtest', async () => {
  const id = await startAndPauseInBrowser();
  await until(async () => (await shownState()) === 'paused', 'the paused state on the page');
  const held = (await status(id)).progress.progress.processedBars;
  await shot('09-paused');
  await page.getByRole('button', { name: `Resume ${id}` }).click();
  const done = await waitForStatus(id, ['completed'], 180_000);
  assert(done.progress.progress.processedBars >= held, 'progress went on from where it paused');
  await until(async () => (await shownState()) === 'completed', 'the completed state on the page');
  await until(async () => Number(await page.getByTestId('progress-bar').getAttribute('data-percent')) === 100, 'progress 100%');
});

await test('cancel another backtest', async () => {
  const id = await startAndPauseInBrowser();
  await page.getByRole('button', { name: `Cancel ${id}` }).click();
  await page.getByRole('button', { name: 'Cancel it' }).click();
  await waitForStatus(id, ['cancelled'], 60_000);
  await until(async () => (await shownState()) === 'cancelled', 'the cancelled state on the page');
  await shot('10-cancelled');
});

await test('the queue shows positions, live progress and resources, and a priority can change', async () => {
  // Two paused runs hold this user's two slots, so a third waits in the queue.
  const held = [await startAndPauseInBrowser(), await startAndPauseInBrowser()];
  const { id: waiting } = await api('POST', '/start', TICKS);
  await page.goto(`${BASE}/#/queue`);
  const row = page.locator('tr').filter({ has: page.getByTestId(`queue-open-${waiting}`) });
  await row.waitFor({ timeout: 60_000 });
  await row.getByText('1', { exact: true }).first().waitFor();
  for (const id of held) {
    const heldRow = page.locator('tr').filter({ has: page.getByTestId(`queue-open-${id}`) });
    await heldRow.getByText(/\d+ MB/).waitFor({ timeout: 30_000 });
  }
  await shot('11-queue');
  await row.locator('.ant-select-selector').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: 'urgent' }).click();
  await until(async () => {
    const q = await api('GET', '/queue');
    return q.queued.find((e) => e.backtestId === waiting)?.priority === 'urgent';
  }, 'the priority change', 30_000);
  await row.getByRole('button', { name: `Cancel ${waiting}` }).click();
  await page.getByRole('button', { name: 'Cancel it' }).click();
  await waitForStatus(waiting, ['cancelled'], 60_000);
  for (const id of held) await api('POST', `/cancel/${id}`);
});

await test('compare two runs', async () => {
  const { id } = await api('POST', '/start', DAILY);
  await waitForStatus(id, ['completed'], 180_000);
  secondRun = id;
  assert(firstRun, 'the first run exists');
  await page.goto(`${BASE}/#/compare`);
  // The finished runs are listed once the page opens; pick only after they arrived.
  await page.locator('[data-testid="compare-view"] .ant-select:not(.ant-select-loading)').first().waitFor();
  for (const run of [firstRun, secondRun]) await addTag('#compare-runs', run.slice(0, 8));
  await until(async () => (await page.getByTestId('compare-view').locator('.ant-select-selection-item').count()) === 2, 'two runs picked', 10_000);
  await page.getByRole('button', { name: 'Compare' }).click();
  await page.getByTestId('compare-table').waitFor({ timeout: 60_000 });
  assert(await page.getByTestId('best-value').count() > 5, 'the best run is marked per metric');
  await page.getByTestId('correlation-heatmap').waitFor();
  await page.getByTestId('compare-curves').waitFor();
  await shot('12-compare');
});

await test(RECONNECT_TEST, async () => {
  const pidFile = process.env.WEB_API_PID_FILE;
  assert(pidFile, 'WEB_API_PID_FILE names the API process to restart');
  // A run held mid-way (its worker stopped) is on screen, live.
  let id;
  let worker;
  for (let attempt = 1; attempt <= 5 && !worker; attempt++) {
    ({ id } = await api('POST', '/start', TICKS));
    const s = await until(async () => {
      const st = await status(id);
      return (st.status === 'running' && st.attempts?.at(-1)?.processId) || ['completed', 'failed'].includes(st.status) ? st : null;
    }, `${id} to run`, 60_000, 10);
    if (s.status !== 'running') continue;
    try {
      process.kill(s.attempts.at(-1).processId, 'SIGSTOP');
      worker = s.attempts.at(-1).processId;
      heldWorkers.add(worker);
    } catch {
      // it ended in between
    }
  }
  assert(worker, 'a run could be held');
  await page.goto(`${BASE}/#/runs/${id}`);
  await until(async () => (await shownState()) === 'running', 'the running state');
  await until(async () => (await page.getByTestId('connection-phase').innerText()) === 'live', 'the live connection');
  // The API goes away; the run finishes while nobody can tell the page.
  const apiPid = Number(readFileSync(pidFile, 'utf8'));
  process.kill(apiPid, 'SIGTERM');
  await until(async () => ['reconnecting…', 'disconnected'].includes(await page.getByTestId('connection-phase').innerText()),
    'the page to notice the lost connection', 60_000, 50);
  await shot('14-reconnecting');
  release(worker);
  await until(() => { try { process.kill(worker, 0); return false; } catch { return true; } }, 'the worker to finish', 120_000);
  // The API is back (restarted by the harness): the page reconnects by itself and shows the truth.
  await until(async () => Number(readFileSync(pidFile, 'utf8')) !== apiPid, 'the API to restart', 120_000);
  await until(async () => (await page.getByTestId('connection-phase').innerText()) === 'live', 'the page to reconnect', 180_000);
  await until(async () => (await shownState()) === 'completed', 'the completed state after reconnecting', 120_000);
  await until(async () => Number(await page.getByTestId('progress-bar').getAttribute('data-percent')) === 100, 'progress 100%', 60_000);
  await page.getByTestId('key-metrics').waitFor({ timeout: 60_000 });
  await shot('15-reconnected');
});

await test('the run list shows the runs', async () => {
  await page.goto(`${BASE}/#/runs`);
  await page.getByTestId(`run-open-${firstRun}`).waitFor();
  await shot('13-runs');
});

await test('a NASDAQ instrument picked in the form runs to completion', async () => {
  // The picker lists the catalog's ids; a NASDAQ one (QQQ.NASDAQ) was refused with a 400 by a narrower symbol rule.
  await page.goto(`${BASE}/#/new`);
  await chooseOption('#field-strategyClass', 'MovingAverageCross');
  await page.locator('#param-fastPeriod').waitFor();
  const picker = page.locator('.ant-form-item').filter({ has: page.locator('#field-instruments') });
  while (await picker.locator('.ant-select-selection-item-remove').count()) {
    await picker.locator('.ant-select-selection-item-remove').first().click();
  }
  await addTag('#field-instruments', 'QQQ.NASDAQ');
  await page.getByRole('button', { name: '1Y' }).click();
  await page.getByRole('button', { name: 'Review and run' }).click();
  await page.getByTestId('confirm-summary').waitFor();
  const summary = await page.getByTestId('confirm-summary').innerText();
  assert(summary.includes('QQQ'), `the confirmation names QQQ: ${summary.slice(0, 300)}`);
  await page.getByRole('button', { name: 'Run backtest' }).click();
  await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
  await until(async () => (await shownState()) === 'completed', 'the NASDAQ run to complete');
});

await test('an optimization launched from the Optimize page completes, its leaderboard sorts and a trial opens as a backtest', async () => {
  await page.goto(`${BASE}/#/optimize`);
  await page.getByTestId('optimize-form').waitFor();
  await chooseOption('#field-strategyClass', 'MovingAverageCross');
  await page.locator('#opt-fastPeriod-mode').waitFor();
  await addTag('#field-instruments', 'SPY.ARCA');
  await page.getByRole('button', { name: '2Y' }).click();
  // A small grid: fastPeriod 5, 10, 15 (a range) by slowPeriod 30, 40 (a list): six trials.
  await page.locator('#opt-fastPeriod-min').fill('5');
  await page.locator('#opt-fastPeriod-max').fill('15');
  await page.locator('#opt-fastPeriod-step').fill('5');
  await chooseOption('#opt-slowPeriod-mode', 'list');
  await page.locator('#opt-slowPeriod-list').fill('30, 40');
  await until(async () => (await page.getByTestId('planned-trials').innerText()).includes('Trials: 6'), 'the planned count of 6 from /plan', 30_000);
  await shot('20-optimize-form');
  const posted = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/optimizations');
  await page.getByTestId('launch-optimization').click();
  // A template has no versions: the job pins none (a custom strategy's carries the version its form was built from).
  const body = (await posted).postDataJSON();
  assert(body.baseConfig.strategyClass === 'MovingAverageCross' && !('strategyVersion' in body),
    `the posted job names the template and no version: ${JSON.stringify(body).slice(0, 300)}`);
  await page.waitForURL(/#\/optimize\/[0-9a-f-]{36}$/);
  await until(async () => (await page.getByTestId('optimization-state').innerText()) === 'completed', 'the optimization to complete', 180_000);
  await until(async () => (await page.getByTestId('trials-completed').innerText()).includes('6 / 6'), 'six trials done');
  const board = page.getByTestId('leaderboard');
  const trialColumn = async () => (await board.locator('tbody tr.ant-table-row td:first-child').allInnerTexts()).map(Number);
  await until(async () => (await trialColumn()).length === 6, 'six leaderboard rows');
  // Sorting goes to the server: trial ascending, then descending.
  await board.locator('th').filter({ hasText: /^Trial$/ }).click();
  await until(async () => (await trialColumn()).join() === '0,1,2,3,4,5', 'trials ascending');
  await board.locator('th').filter({ hasText: /^Trial$/ }).click();
  await until(async () => (await trialColumn()).join() === '5,4,3,2,1,0', 'trials descending');
  await page.getByTestId('surface-heatmap').waitFor();
  // Once completed, the robustness panel reads the job's statistics: figures, or notes saying why one is missing.
  await page.getByTestId('robustness').waitFor({ timeout: 60_000 });
  await until(async () => (await page.getByTestId('robustness-dsr').count()) + (await page.getByTestId('robustness-notes').count()) > 0,
    'the robustness figures or their notes');
  // Six trials over two years of days: enough for CSCV, so its logits are drawn; the job's PDF report downloads.
  await page.getByTestId('robustness-logits').waitFor();
  const [report] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    page.getByRole('button', { name: 'PDF report' }).click(),
  ]);
  const reportPath = join(OUT, `export-${report.suggestedFilename()}`);
  await report.saveAs(reportPath);
  const reportText = readFileSync(reportPath, 'latin1');
  assert(report.suggestedFilename().endsWith('-report.pdf') && reportText.startsWith('%PDF') && reportText.length > 1000,
    `the job's PDF report (${report.suggestedFilename()}) looks wrong`);
  await shot('21-optimization-job');
  await board.getByTestId('open-trial-3').click();
  await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
  await until(async () => (await shownState()) === 'completed', 'the trial opened as a backtest to complete');
});

await test(CUSTOM_OPTIMIZATION_TEST, async () => {
  const started = Date.now();
  // The editor on the New backtest page compiles the source in the cluster and stores it as version 1.
  await page.goto(`${BASE}/#/new`);
  const editor = page.getByTestId('strategy-editor');
  await editor.waitFor();
  await editor.getByLabel('Strategy source').fill(CUSTOM_STRATEGY);
  await editor.getByRole('button', { name: 'Compile and save' }).click();
  await editor.getByTestId('upload-stored').filter({ hasText: 'E2eOrderProbe version 1 stored' }).waitFor({ timeout: 180_000 });
  const listed = await api('GET', `${BASE}/api/v1/strategies`);
  const schema = listed.find((s) => s.name === 'E2eOrderProbe');
  assert(schema?.kind === 'custom' && schema.version === 1, `the strategy list holds E2eOrderProbe version 1: ${JSON.stringify(schema)}`);
  const names = schema.parameters.map((p) => p.name);
  assert(names.join() === 'threshold,period,band,side', `its schema's order: ${names.join()}`);

  // The Optimize page offers it; its form lists the schema's parameters in the schema's order.
  await page.goto(`${BASE}/#/optimize`);
  await page.getByTestId('optimize-form').waitFor();
  await chooseOption('#field-strategyClass', 'E2eOrderProbe');
  await page.locator('#opt-period-mode').waitFor();
  const rows = await page.getByTestId('optimize-form').locator('[data-testid^="parameter-"]').evaluateAll(
    (els) => els.map((e) => e.getAttribute('data-testid').slice('parameter-'.length)));
  assert(rows.join() === names.join(), `the form's parameters: ${rows.join()}`);
  await addTag('#field-instruments', 'SPY.ARCA');
  await page.getByRole('button', { name: '2Y' }).click();
  // From the schema: period over a range inside its bounds (three values), threshold a list of two values inside its
  // bounds, band and side fixed at their defaults: six trials.
  const period = schema.parameters.find((p) => p.name === 'period');
  const [low, high, step] = [Math.max(period.min, 10), Math.min(period.max, 30), 10];
  await page.locator('#opt-period-min').fill(String(low));
  await page.locator('#opt-period-max').fill(String(high));
  await page.locator('#opt-period-step').fill(String(step));
  const threshold = schema.parameters.find((p) => p.name === 'threshold');
  const thresholds = [threshold.min, threshold.min + 0.01];
  assert(thresholds.every((t) => t <= threshold.max), `threshold's bounds: ${threshold.min}-${threshold.max}`);
  await chooseOption('#opt-threshold-mode', 'list');
  await page.locator('#opt-threshold-list').fill(thresholds.join(', '));
  await chooseOption('#opt-band-mode', 'fixed');
  const planned = ((high - low) / step + 1) * thresholds.length;
  await until(async () => (await page.getByTestId('planned-trials').innerText()).includes(`Trials: ${planned}`),
    `the planned count of ${planned} from /plan`, 30_000);
  await shot('24-optimize-custom-form');
  const posted = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/optimizations');
  await page.getByTestId('launch-optimization').click();
  const body = (await posted).postDataJSON();
  assert(body.baseConfig.strategyClass === 'E2eOrderProbe' && body.strategyVersion === 1,
    `the posted job names the custom strategy at version 1: ${JSON.stringify(body).slice(0, 300)}`);
  assert(Object.keys(body.parameters).join() === names.join(), `the posted space: ${Object.keys(body.parameters).join()}`);
  await page.waitForURL(/#\/optimize\/[0-9a-f-]{36}$/);
  const job = page.url().split('/').pop();
  await until(async () => (await page.getByTestId('optimization-state').innerText()) === 'completed', 'the optimization to complete', 300_000, 1000);
  await until(async () => (await page.getByTestId('trials-completed').innerText()).includes(`${planned} / ${planned}`), `${planned} trials done`);
  const seconds = (Date.now() - started) / 1000;

  // The leaderboard: one row per planned trial; it sorts by trial both ways and by the objective.
  const board = page.getByTestId('leaderboard');
  const column = async (n) => board.locator(`tbody tr.ant-table-row td:nth-child(${n})`).allInnerTexts();
  const ascending = [...Array(planned).keys()];
  await until(async () => (await column(1)).length === planned, `${planned} leaderboard rows`);
  await board.locator('th').filter({ hasText: /^Trial$/ }).click();
  await until(async () => (await column(1)).map(Number).join() === ascending.join(), 'trials ascending');
  await board.locator('th').filter({ hasText: /^Trial$/ }).click();
  await until(async () => (await column(1)).map(Number).join() === [...ascending].reverse().join(), 'trials descending');
  const objectiveAt = 2 + names.length; // trial, then one column per parameter
  await board.locator('th').filter({ hasText: /^Objective \(sharpeRatio\)$/ }).click();
  await until(async () => {
    const values = (await column(objectiveAt)).filter((t) => t !== '—').map(Number);
    return values.length > 0 && values.every((v, i) => i === 0 || v >= values[i - 1]) && values;
  }, 'the objective ascending');
  await shot('25-optimization-custom-job');

  // One trial with trades, opened as a backtest from its row: the same custom version, metrics and content hash.
  const trials = (await api('GET', `${BASE}/api/v1/optimizations/${job}/trials?sort=trial&pageSize=${planned}`)).items;
  assert(trials.length === planned, `${trials.length} trials listed`);
  const trial = trials.find((t) => t.feasible && t.tradeCount > 0);
  assert(trial, `a feasible trial with trades: ${JSON.stringify(trials.map((t) => [t.trial, t.feasible, t.tradeCount, t.infeasibleReason]))}`);
  await board.getByTestId(`open-trial-${trial.trial}`).click();
  await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
  const backtest = page.url().split('/').pop();
  await until(async () => (await shownState()) === 'completed', 'the trial opened as a backtest to complete', 180_000);
  await page.getByTestId('key-metrics').waitFor({ timeout: 60_000 });
  await shot('26-custom-trial-as-backtest');
  const result = await api('GET', `/results/${backtest}?tradesPageSize=1`);
  assert(result.strategyVersion === 1, `the backtest ran version ${result.strategyVersion}`);
  const keys = Object.keys(trial.metrics).sort();
  assert(keys.join() === Object.keys(result.metrics).sort().join(),
    `the same metrics: ${keys.join()} / ${Object.keys(result.metrics).sort().join()}`);
  const differ = keys.filter((k) => !(trial.metrics[k] === result.metrics[k] || (Number.isNaN(trial.metrics[k]) && Number.isNaN(result.metrics[k]))));
  assert(differ.length === 0, `metrics differ: ${differ.map((k) => `${k} ${trial.metrics[k]} != ${result.metrics[k]}`).join('; ')}`);
  assert(result.summary.totalTrades === trial.tradeCount, `trades: ${result.summary.totalTrades} != ${trial.tradeCount}`);
  assert(result.contentHash === trial.contentHash,
    `the backtest's content hash ${result.contentHash} is not trial ${trial.trial}'s ${trial.contentHash}`);
  figures.push(`custom strategy optimization: upload to ${planned} trials done in ${seconds.toFixed(1)} s; trial ${trial.trial} opened as `
    + `a backtest: ${keys.length} metrics equal (sharpeRatio ${trial.metrics.sharpeRatio}), ${trial.tradeCount} trades, content hash ${trial.contentHash.slice(0, 12)}`);
});

await test('a walk-forward analysis launched from the Walk-forward page completes with its windows, stitched curve, in-sample curves and efficiency', async () => {
  await page.goto(`${BASE}/#/walkforward`);
  await page.getByTestId('walkforward-form').waitFor();
  await chooseOption('#field-strategyClass', 'MovingAverageCross');
  await page.locator('#opt-fastPeriod-mode').waitFor();
  await addTag('#field-instruments', 'SPY.ARCA');
  // Three years typed in: 1y in sample and 6m out of sample stepping 6m make four windows.
  await page.locator('#field-dateRange').click();
  await page.locator('#field-dateRange').fill('2018-01-02');
  await page.keyboard.press('Enter');
  await page.locator('#field-dateRange-end').click();
  await page.locator('#field-dateRange-end').fill('2020-12-31');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
  await until(async () => (await page.locator('#field-dateRange').inputValue()) === '2018-01-02'
    && (await page.locator('#field-dateRange-end').inputValue()) === '2020-12-31', 'the typed date range');
  await page.locator('#field-wf-inSample').fill('1y');
  await page.locator('#field-wf-outOfSample').fill('6m');
  // A tiny grid per window: fastPeriod 5, 10, 15 by slowPeriod 30, 40.
  await page.locator('#opt-fastPeriod-min').fill('5');
  await page.locator('#opt-fastPeriod-max').fill('15');
  await page.locator('#opt-fastPeriod-step').fill('5');
  await chooseOption('#opt-slowPeriod-mode', 'list');
  await page.locator('#opt-slowPeriod-list').fill('30, 40');
  await until(async () => (await page.getByTestId('planned-trials').innerText()).includes('Trials: 6'), 'the planned count of 6 per window', 30_000);
  await shot('22-walkforward-form');
  await page.getByTestId('launch-walkforward').click();
  await page.waitForURL(/#\/walkforward\/[0-9a-f-]{36}$/);
  await until(async () => (await page.getByTestId('walkforward-state').innerText()) === 'completed', 'the walk-forward analysis to complete', 300_000, 1000);
  await until(async () => (await page.getByTestId('walkforward-windows-done').innerText()) === '4 / 4', 'four windows done');
  await page.getByTestId('walkforward-timeline-chart').waitFor();
  const states = await page.getByTestId('walkforward-window-state').allInnerTexts();
  assert(states.length === 4 && states.every((s) => s === 'completed' || s === 'noFeasibleTrial'), `window states: ${states.join(', ')}`);
  await page.getByTestId('walkforward-equity').waitFor();
  // The in-sample curves join the stitched one: one dashed line per window that chose a trial, about a year of daily
  // points each (1y in sample), in window order, each ending before its window's out of sample begins.
  await page.getByTestId('walkforward-insample-caption').waitFor({ timeout: 60_000 });
  const lines = JSON.parse(await page.getByTestId('walkforward-equity-lines').getAttribute('data-lines'));
  const inSampleLines = lines.filter((l) => l.window !== null);
  const chosen = states.filter((s) => s === 'completed').length;
  assert(lines[0].name === 'Out of sample (stitched)' && lines[0].points > 0, `the stitched line: ${JSON.stringify(lines[0])}`);
  assert(inSampleLines.length === chosen && chosen > 0, `${inSampleLines.length} in-sample lines for ${chosen} windows that chose a trial`);
  assert(inSampleLines.every((l) => l.name === 'In sample (chosen trial, rebased)' && l.points > 200 && l.points < 260 && l.first < l.last),
    `in-sample lines: ${JSON.stringify(inSampleLines)}`);
  assert(inSampleLines.every((l, i) => i === 0 || l.window > inSampleLines[i - 1].window), 'in-sample lines in window order');
  if (inSampleLines[0].window === 0) assert(inSampleLines[0].last <= '2019-01-01', `window 1's in-sample line ends ${inSampleLines[0].last}`);
  const efficiency = await page.getByTestId('walkforward-efficiency').innerText();
  assert(efficiency === '—' || Number.isFinite(Number(efficiency)), `the efficiency shows ${efficiency}`);
  await page.getByTestId('walkforward-drift').waitFor();
  await page.getByTestId('walkforward-window-metrics').waitFor();
  figures.push(`walk-forward: 4 windows, ${inSampleLines.length} in-sample curves, efficiency ${efficiency}, t-statistic ${await page.getByTestId('walkforward-tstat').innerText()}`);
  await shot('23-walkforward-job');
});

await test('no console errors during the browser tests', async () => {
  assert(consoleErrors.length === 0, consoleErrors.join('\n'));
});

for (const pid of [...heldWorkers]) release(pid);
await browser.close();
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
for (const f of figures) console.log(`  figure: ${f}`);
writeFileSync(join(OUT, 'figures.txt'), figures.join('\n') + '\n');
writeFileSync(join(OUT, 'results.json'), JSON.stringify({ results, figures, consoleErrors }, null, 2));
writeFileSync(join(OUT, 'totals'), `${passed} ${failed} 0\n`);
console.log(`browser tests: ${passed} passed, ${failed} failed, 0 skipped (screenshots in ${OUT})`);
process.exit(failed ? 1 : 0);
