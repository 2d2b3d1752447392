/**
 * The web class browser in a real browser: Debian's chromium, headless, driven by playwright-core
 * (never a downloaded browser), against a server with the HTTP listener and the CIM Schema 2.41.
 * Walks the tree to a CIM class, opens it, watches class events, puts a class from MOF and sees
 * the sink's events and final status, sees WBEM errors, and keeps a screenshot as an artifact.
 */
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { WbemServices } from '../../generated/wbem/v1/services_pb';
import { DMTF_RULES } from '../../src/domain/client-context';
import { schemaSources } from '../helpers/cim-schema';
import { describeWithTool, runsCleanly } from '../helpers/external-tools';
import { startTestServer, type TestServer } from '../helpers/test-server';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = resolve('test-artifacts', 'web-browser.png');
const CREATE_ONLY = 0x2;

const chromiumTool = {
  name: 'chromium',
  available: runsCleanly(CHROMIUM, ['--version']),
  install: 'apt-get install chromium',
};

describeWithTool(chromiumTool, 'web class browser in headless chromium', () => {
  let t: TestServer;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;

  beforeAll(async () => {
    t = await startTestServer({ httpListen: '127.0.0.1:0' });
    const base = `http://${t.server.httpAddress as string}`;
    // The schema goes in through the same HTTP listener the page uses.
    const client = createClient(
      WbemServices,
      createConnectTransport({ baseUrl: base, httpVersion: '1.1' }),
    );
    const statuses: string[] = [];
    for await (const event of client.compileMof({
      namespace: 'root/cimv2',
      sources: schemaSources(),
      flags: CREATE_ONLY,
      context: { values: { [DMTF_RULES]: { kind: { case: 'boolean', value: true } } } },
    }))
      if (event.event.case === 'status') statuses.push(event.event.value.param);
    expect(statuses).toHaveLength(1);

    userDataDir = mkdtempSync(join(tmpdir(), 'wbemd-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1500, height: 950 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${base}/`);
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
    await t?.close();
  });

  const node = (name: string) => page.locator(`li[data-class="${name}"]`).first();
  const expand = async (name: string): Promise<void> => {
    await node(name).locator(':scope > .twisty').click();
    await page.waitForSelector(`li[data-class="${name}"][aria-expanded="true"]`);
  };

  test('walk the lazy tree to CIM_LogicalDevice and open it: properties with their types and class of origin, system properties, MOF', async () => {
    const started = Date.now();
    for (const name of [
      'CIM_ManagedElement',
      'CIM_ManagedSystemElement',
      'CIM_LogicalElement',
      'CIM_EnabledLogicalElement',
    ])
      await expand(name);
    process.stdout.write(`expanded 4 levels of the CIM tree in ${Date.now() - started} ms\n`);
    await node('CIM_LogicalDevice').locator(':scope > .class-link').click();
    await page.waitForSelector('#class-name:text("CIM_LogicalDevice")');
    const rows = await page.locator('#class-view table').nth(2).locator('tbody tr').allInnerTexts();
    const deviceId = rows.find((r) => r.startsWith('DeviceID'));
    expect(deviceId).toMatch(/^DeviceID\tstring\t\tCIM_LogicalDevice\t.*Key/);
    expect(rows.find((r) => r.startsWith('Caption'))).toMatch(/\tCIM_ManagedElement\t/);
    const system = await page.locator('#class-view table').nth(0).innerText();
    expect(system).toContain('__SUPERCLASS\tCIM_EnabledLogicalElement');
    expect(system).toMatch(/__DERIVATION\tCIM_EnabledLogicalElement, CIM_LogicalElement, /);
    expect(await page.locator('pre.mof').innerText()).toContain(
      'class CIM_LogicalDevice : CIM_EnabledLogicalElement',
    );
  });

  test("put a class from MOF: the sink's progress events and final status, and the class event of the watch", async () => {
    await page.click('#watch-toggle');
    await page.fill(
      '#mof',
      '[Description("made in a browser")]\nclass Ex_FromBrowser : CIM_LogicalDevice\n{\n  uint32 Extra = 7;\n};\n',
    );
    await page.click('#compile');
    await page.waitForSelector('#sink-events li:text("stream ended: OK")');
    const events = await page.locator('#sink-events li').allInnerTexts();
    expect(events.filter((e) => e.startsWith('progress '))).not.toHaveLength(0);
    expect(events.at(-2)).toMatch(/^SetStatus WBEM_S_NO_ERROR /);
    await page.waitForSelector('#class-events li:has-text("__ClassCreationEvent Ex_FromBrowser")');
  });

  test('errors show their WBEM status: an unknown superclass in the sink, a missing class in the status line', async () => {
    await page.fill('#mof', 'class Ex_Orphan : Ex_NoSuchParent\n{\n  string Name;\n};\n');
    await page.click('#compile');
    await page.waitForSelector('#sink-events li:text("stream ended:")');
    const events = await page.locator('#sink-events li').allInnerTexts();
    expect(events.at(-2)).toMatch(/^SetStatus WBEM_E_INVALID_SUPERCLASS /);
    expect(events.at(-1)).toMatch(/^stream ended: WBEM_E_INVALID_SUPERCLASS \(0x8004100D\)/);
    expect(await page.locator('#status').innerText()).toMatch(/^WBEM_E_INVALID_SUPERCLASS/);

    await page.fill('#goto-name', 'Ex_NoSuchClass');
    await page.click('#goto button');
    await page.waitForSelector('#status.error:has-text("WBEM_E_NOT_FOUND")');

    // Leave the page on the class just put, for the screenshot.
    await page.fill('#goto-name', 'Ex_FromBrowser');
    await page.click('#goto button');
    await page.waitForSelector('#class-name:text("Ex_FromBrowser")');
    mkdirSync(resolve('test-artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    process.stdout.write(`web browser screenshot: ${SCREENSHOT}\n`);
  });
});
