/** `value` as an Error: itself when it is one, else an Error that says what was thrown and keeps it as `cause`. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(`non-Error thrown: ${describe(value)}`, { cause: value });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // A cyclic object cannot be serialized; its type is the best we can say.
    return Object.prototype.toString.call(value);
  }
}
