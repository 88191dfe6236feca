import { chromium, type BrowserContext } from 'playwright-core';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Debian's chromium (scripts/install-chromium.sh installs it; browser downloads do not work here). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where browser tests write their screenshots (git-ignored). */
export const SCREENSHOTS = path.join(__dirname, '..', '..', 'test-output', 'screenshots');

export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile, no network of its own (no updates, sync or QUIC). */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}; install it with: bash scripts/install-chromium.sh`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const profile = mkdtempSync(path.join(tmpdir(), 'jobfleet-chromium-'));
  // A fresh --user-data-dir: playwright takes it as the persistent context's directory.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
