/**
 * Errors that mean "the input is at fault" (a file that cannot be read or decoded, a value
 * out of range, a folder that does not match the expected layout). Command-line entry points
 * turn an `InputError` into one clear line on stderr and exit code 2 (see lib/cli/common.ts);
 * any other error is treated as a bug in the kit.
 *
 * Browser-compatible: no Deno APIs.
 */
export class InputError extends Error {
  override name = "InputError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True for an `InputError`, also across module copies (checks the name, not the class). */
export function isInputError(e: unknown): boolean {
  return e instanceof InputError || (e instanceof Error && e.name === "InputError");
}
