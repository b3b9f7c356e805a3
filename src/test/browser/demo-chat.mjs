// Drives the demo page in headless Debian Chromium: alice on node 1 and bob on node 2 chat, and
// each page must show what the other sent. Run by DemoPageBrowserTest, or by hand against
// bin/parley-local:
//
//   node demo-chat.mjs [NODE1_URL NODE2_URL] [--features=presence,typing,receipts] [--out=DIR]
//
// URLs default to $PARLEY_NODE1_URL / $PARLEY_NODE2_URL, then http://127.0.0.1:8080 and :8081.
// Exit 0 with one JSON line on success; non-zero with a message and screenshots on failure.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const STEP_TIMEOUT_MS = 30_000; // a cold Cassandra/Kafka path can be slow the first time
const LIST_TIMEOUT_MS = 45_000; // bob's list is refreshed by polling and indexed asynchronously
const WATCHDOG_MS = 160_000; // below the JUnit deadline, so the failure comes with screenshots
const KNOWN_FEATURES = ['presence', 'typing', 'receipts'];
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const options = parseArgs(process.argv.slice(2));
let step = 'start';
const pages = {};
const pageErrors = [];

function parseArgs(args) {
  const flag = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const urls = args.filter((a) => !a.startsWith('--'));
  const features = (flag('features') ?? '').split(',').filter(Boolean);
  const unknown = features.filter((f) => !KNOWN_FEATURES.includes(f));
  if (unknown.length) fail(`unknown feature(s) ${unknown.join(',')}; known: ${KNOWN_FEATURES}`);
  const here = path.dirname(fileURLToPath(import.meta.url));
  return {
    node1: (urls[0] ?? process.env.PARLEY_NODE1_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, ''),
    node2: (urls[1] ?? process.env.PARLEY_NODE2_URL ?? 'http://127.0.0.1:8081').replace(/\/$/, ''),
    features: new Set(features),
    out: path.resolve(flag('out') ?? path.join(here, '../../../target/browser')),
    chromium: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  };
}

function fail(message) {
  console.error(`demo-chat: FAILED: ${message}`);
  process.exit(1);
}

/** Waits for a condition evaluated in the page; the failure names the step and what was seen. */
async function until(page, what, predicate, arg, timeout = STEP_TIMEOUT_MS) {
  step = what;
  try {
    await page.waitForFunction(predicate, arg, { timeout, polling: 100 });
  } catch (e) {
    throw new Error(`${what}: not seen within ${timeout} ms (${e.message.split('\n')[0]})`);
  }
}

/** What a page shows as messages: [seq, sender, body] in screen order. */
function shownMessages(page) {
  return page.$$eval('[data-testid="message"]', (items) =>
    items.map((li) => [
      Number(li.dataset.seq),
      li.dataset.sender,
      li.querySelector('[data-testid="message-body"]').textContent,
    ]),
  );
}

async function expectMessages(page, who, expected) {
  step = `${who} shows ${expected.length} messages in seq order`;
  try {
    await page.waitForFunction(
      (want) => {
        const got = [...document.querySelectorAll('[data-testid="message"]')].map((li) => [
          Number(li.dataset.seq),
          li.dataset.sender,
          li.querySelector('[data-testid="message-body"]').textContent,
        ]);
        return JSON.stringify(got) === JSON.stringify(want);
      },
      expected,
      { timeout: STEP_TIMEOUT_MS, polling: 100 },
    );
  } catch {
    const got = await shownMessages(page).catch(() => 'unreadable');
    throw new Error(`${step}: expected ${JSON.stringify(expected)}, shows ${JSON.stringify(got)}`);
  }
  // Also as a reader sees it: the seq is printed next to each message.
  const seqTexts = await page.$$eval('[data-testid="message-seq"]', (s) => s.map((e) => e.textContent));
  expected.forEach(([seq], i) => {
    if (!seqTexts[i]?.startsWith(`#${seq}`)) {
      throw new Error(`${who}: message ${i + 1} should print #${seq}, prints "${seqTexts[i]}"`);
    }
  });
}

async function openPage(browser, name, url, beforeLoad = async () => {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  await beforeLoad(page);
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`${name} console: ${m.text()} (${m.location().url})`);
  });
  pages[name] = page;
  step = `${name} loads ${url}`;
  const response = await page.goto(`${url}/`);
  if (!response || response.status() !== 200) {
    throw new Error(`${step}: HTTP ${response && response.status()}`);
  }
  return page;
}

async function signIn(page, who, userId) {
  step = `${who} signs in as ${userId}`;
  await page.getByTestId('signin-user').fill(userId);
  await page.getByTestId('signin-submit').click();
  await until(
    page,
    `${who} is connected`,
    () => document.querySelector('[data-testid="connection"]').dataset.state === 'connected',
  );
}

async function send(page, who, text) {
  step = `${who} sends "${text}"`;
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('send').click();
}

async function noVisibleErrors(page, who) {
  const errors = await page.$$eval('[data-testid="error"]', (items) => items.map((e) => e.textContent));
  if (errors.length) throw new Error(`${who}'s page shows errors: ${errors.join(' | ')}`);
}

/**
 * Alice's second device (on node 2) is told to `reconnect`, as a draining node does, and is kept
 * offline while bob sends; once it may connect again its page must catch up through `sync`. Its
 * socket alone is routed through Playwright, which is what lets the test cut it; alice's and
 * bob's main pages keep the browser's own WebSocket.
 */
async function catchUpAfterReconnect(browser, { alice, bob, b, row, expected }) {
  const sockets = [];
  let offline = false;
  const tablet = await openPage(browser, 'alice-tablet', options.node2, (page) =>
    page.routeWebSocket(/\/ws\?/, (ws) => {
      if (offline) {
        ws.close({ code: 4000, reason: 'demo-chat: offline' });
        return;
      }
      ws.connectToServer();
      sockets.push(ws);
    }),
  );
  step = 'alice signs in on a second device';
  await tablet.getByTestId('signin-device').fill('tablet');
  await signIn(tablet, 'alice-tablet', alice);
  await until(tablet, "alice's tablet lists the conversation", (s) => !!document.querySelector(s), row, LIST_TIMEOUT_MS);
  await tablet.locator(row).locator('button').click();
  await expectMessages(tablet, 'alice-tablet (history on open)', expected);

  step = 'the tablet is told to reconnect';
  offline = true;
  sockets.at(-1).send(JSON.stringify({ type: 'reconnect', reason: 'draining' }));
  await until(tablet, 'the tablet leaves', () => document.querySelector('[data-testid="connection"]').dataset.state !== 'connected');

  const missed = `${alice}, you missed this`;
  await send(b, 'bob', missed);
  expected.push([expected.length + 1, bob, missed]);
  await expectMessages(b, 'bob (sent while the tablet was away)', expected);

  offline = false;
  await until(tablet, 'the tablet is back', () => document.querySelector('[data-testid="connection"]').dataset.state === 'connected');
  await expectMessages(tablet, 'alice-tablet (caught up by sync)', expected);
  if (sockets.length < 2) throw new Error(`the tablet should have reconnected; it opened ${sockets.length} socket(s)`);
  await noVisibleErrors(tablet, 'alice-tablet');
}

async function run() {
  const started = Date.now();
  if (!existsSync(options.chromium)) {
    fail(`no Chromium at ${options.chromium}; install it with: apt-get install -y chromium`);
  }
  mkdirSync(options.out, { recursive: true });
  const suffix = Math.random().toString(36).slice(2, 8);
  const alice = `alice-${suffix}`;
  const bob = `bob-${suffix}`;
  const title = `demo ${suffix}`;

  step = 'launch Chromium';
  const browser = await chromium.launch({ executablePath: options.chromium, args: CHROMIUM_ARGS });
  try {
    const a = await openPage(browser, 'alice', options.node1);
    const b = await openPage(browser, 'bob', options.node2);
    await signIn(a, 'alice', alice);
    await signIn(b, 'bob', bob);

    step = 'alice creates a conversation with bob';
    await a.getByTestId('create-members').fill(bob);
    await a.getByTestId('create-title').fill(title);
    await a.getByTestId('create-submit').click();
    await until(
      a,
      'alice has the new conversation open',
      (t) => document.querySelector('[data-testid="conversation-title"]')?.textContent === t,
      title,
    );
    const conversationId = await a.getByTestId('conversation-view').locator('h2').getAttribute('data-conversation-id');

    const row = `[data-testid="conversation"][data-conversation-id="${conversationId}"]`;
    await until(b, "bob's page lists the conversation", (s) => !!document.querySelector(s), row, LIST_TIMEOUT_MS);
    const listed = await b.locator(row).getByTestId('conversation-title').textContent();
    if (listed !== title) throw new Error(`bob's list titles it "${listed}", expected "${title}"`);
    step = 'bob opens the conversation';
    await b.locator(row).locator('button').click();
    await until(b, "bob's page shows the conversation", (id) => document.querySelector('#conversation-title')?.dataset.conversationId === id && !document.querySelector('#conversation').hidden, conversationId);

    if (options.features.has('presence')) {
      await until(
        a,
        "alice's page shows bob online",
        (who) => document.querySelector(`[data-testid="presence-${who}"]`)?.dataset.status === 'online',
        bob,
      );
    }

    const expected = [];
    await send(a, 'alice', `hello ${bob}, this is alice`);
    expected.push([1, alice, `hello ${bob}, this is alice`]);
    await expectMessages(a, 'alice (own message acked)', expected);
    await expectMessages(b, 'bob', expected);

    if (options.features.has('typing')) {
      step = 'bob types';
      await b.getByTestId('composer').pressSequentially('hi al', { delay: 30 });
      await until(
        a,
        "alice's page shows bob typing",
        (who) => {
          const line = document.querySelector('[data-testid="typing"]');
          return !line.hidden && line.textContent.includes(`${who} is typing`);
        },
        bob,
      );
    }

    await send(b, 'bob', `hi alice, bob here <b>not bold</b>`);
    expected.push([2, bob, `hi alice, bob here <b>not bold</b>`]);
    // Seqs follow arrival at the conversation: bob's ack first, so alice's reply is #3.
    await expectMessages(b, 'bob (own message acked)', expected);
    await send(a, 'alice', 'how is node 2?');
    expected.push([3, alice, 'how is node 2?']);
    await expectMessages(a, 'alice', expected);
    await expectMessages(b, 'bob', expected);

    if (options.features.has('receipts')) {
      await until(
        a,
        "alice's page shows bob's read mark at #3",
        (who) => document.querySelector(`[data-testid="read-mark"][data-user="${who}"]`)?.dataset.seq === '3',
        bob,
      );
    }

    await catchUpAfterReconnect(browser, { alice, bob, b, row, expected });

    step = "bob's list shows the conversation's last seq";
    const last = String(expected.length);
    await until(b, `bob's list shows last #${last}`, ([s, n]) => document.querySelector(`${s} [data-testid="conversation-seqs"]`)?.dataset.lastSeq === n, [row, last]);

    step = 'markup in a message stays text';
    const bold = await a.locator('[data-testid="message-body"] b').count();
    if (bold !== 0) throw new Error('a message body was rendered as HTML');
    await noVisibleErrors(a, 'alice');
    await noVisibleErrors(b, 'bob');
    if (pageErrors.length) throw new Error(`script errors: ${pageErrors.join(' | ')}`);

    step = 'screenshots';
    await a.screenshot({ path: path.join(options.out, 'demo-alice.png') });
    await b.screenshot({ path: path.join(options.out, 'demo-bob.png') });
    console.log(
      JSON.stringify({
        ok: true,
        conversationId,
        alice: { user: alice, node: options.node1 },
        bob: { user: bob, node: options.node2 },
        messages: expected.length,
        features: [...options.features],
        ms: Date.now() - started,
        screenshots: options.out,
      }),
    );
  } catch (e) {
    e.screenshots = await screenshotsOnFailure();
    throw e;
  } finally {
    await browser.close();
  }
}

async function screenshotsOnFailure() {
  const saved = [];
  for (const [name, page] of Object.entries(pages)) {
    const file = path.join(options.out, `failure-${name}.png`);
    try {
      await page.screenshot({ path: file, timeout: 10_000 });
      saved.push(file);
    } catch {
      // The page or browser is gone; the message says enough.
    }
  }
  return saved;
}

const watchdog = setTimeout(async () => {
  const saved = await screenshotsOnFailure();
  fail(`still at "${step}" after ${WATCHDOG_MS} ms; screenshots: ${saved.join(', ') || 'none'}`);
}, WATCHDOG_MS);

run().then(
  () => {
    clearTimeout(watchdog);
  },
  (e) => {
    clearTimeout(watchdog);
    const saved = e.screenshots ?? [];
    const errors = pageErrors.length ? `\n  page errors: ${pageErrors.join(' | ')}` : '';
    fail(`${e.message}\n  at step: ${step}\n  screenshots: ${saved.join(', ') || 'none'}${errors}`);
  },
);
