// Waits on values the console exposes in the DOM (meter readings, counters).
import type { Page } from 'playwright-core'

/** The little of the page's DOM these waits touch (the e2e project type-checks without the DOM library). */
interface PageGlobals {
  document: {
    querySelector(selector: string): { getAttribute(name: string): string | null } | null
    documentElement: { dataset: Record<string, string | undefined> }
    body: object
  }
  getComputedStyle(el: object): { backgroundColor: string }
}

/** Resolves with the number in `attribute` of the first element matching `selector` once it is above `min`. */
export async function numberAbove(
  page: Page,
  selector: string,
  attribute: string,
  min: number,
  timeoutMs = 30_000
): Promise<number> {
  const handle = await page.waitForFunction(
    ([sel, attr, floor]) => {
      const el = (globalThis as unknown as PageGlobals).document.querySelector(sel)
      const v = Number(el?.getAttribute(attr))
      return Number.isFinite(v) && v > floor ? v : false
    },
    [selector, attribute, min] as const,
    { timeout: timeoutMs, polling: 50 }
  )
  return (await handle.jsonValue()) as number
}

/** A meter's aria-valuenow once above `dbfs`. */
export function meterAbove(page: Page, label: string, dbfs: number): Promise<number> {
  return numberAbove(page, `[role="meter"][aria-label="${label}"]`, 'aria-valuenow', dbfs)
}

/** The theme the console put on <html data-theme>. */
export function documentTheme(page: Page): Promise<string | undefined> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.dataset.theme)
}

/** The page background as computed (e.g. `rgb(17, 20, 24)`). */
export function bodyBackground(page: Page): Promise<string> {
  return page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals
    return g.getComputedStyle(g.document.body).backgroundColor
  })
}
