/** Tests that need an optional library: ignored, with the reason in their name, without it. */

/** A Deno.test maker: names prefixed with `prefix`, or with `skip` (and ignored) when absent. */
export function gatedTest(
  available: boolean,
  prefix: string,
  skip: string,
): (name: string, fn: (t: Deno.TestContext) => void | Promise<void>) => void {
  return (name, fn) =>
    Deno.test({
      name: available ? `${prefix}: ${name}` : `${skip}: ${name}`,
      ignore: !available,
      sanitizeResources: false,
      sanitizeOps: false,
      fn,
    });
}
