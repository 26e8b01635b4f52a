/**
 * Debian's headless Chromium for the tests that need a real page: find it, and dump the DOM
 * of a page after its scripts ran (virtual time, so a page that waits on timers or script
 * loads finishes without real waiting).
 */

/** `chromium` when Debian's package is on PATH, else null. */
export async function findChromium(): Promise<string | null> {
  try {
    const r = await new Deno.Command("chromium", { args: ["--version"], stdout: "null" }).output();
    return r.success ? "chromium" : null;
  } catch {
    return null;
  }
}

/**
 * The DOM of `url` once its scripts have run, as Chromium serialises it. `profile` is a
 * scratch folder for Chromium's user data (a fresh one per call keeps runs independent).
 */
export async function dumpDom(
  browser: string,
  url: string,
  profile: string,
  opts: { virtualTimeMs?: number; timeoutMs?: number } = {},
): Promise<string> {
  const r = await new Deno.Command(browser, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      `--user-data-dir=${profile}`,
      `--virtual-time-budget=${opts.virtualTimeMs ?? 10_000}`,
      "--dump-dom",
      url,
    ],
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(opts.timeoutMs ?? 90_000),
  }).output();
  if (!r.success) throw new Error(`chromium exited with ${r.code} on ${url}`);
  return new TextDecoder().decode(r.stdout);
}
