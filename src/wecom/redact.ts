/** Query parameters whose values are credentials. */
const SENSITIVE_PARAMS = ['access_token', 'corpsecret'];

/** Stands in for a removed credential. */
export const REDACTED = 'REDACTED';

/**
 * The URL (or path with query) with every credential parameter's value replaced,
 * so it can appear in an error or a log line.
 */
export function redactURL(url: string): string {
  let out = url;
  for (const param of SENSITIVE_PARAMS) {
    out = out.replace(new RegExp(`([?&]${param}=)[^&#]*`, 'gi'), `$1${REDACTED}`);
  }
  return out;
}

/**
 * The text with each of the given credential values replaced. Values shorter than
 * 4 characters are skipped: replacing them would mangle text without protecting anything.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = redactURL(text);
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out;
}
