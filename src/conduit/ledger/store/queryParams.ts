/** The query strings of the gateway's read APIs (analytics, reports, team members). */
import { isValidTimeZone } from '../../core/timeZone';

/** A query string's parameter is refused; the message says which and why (answered with 400). */
export class AnalyticsParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnalyticsParamError';
  }
}

/** The `tz` parameter: an IANA zone this system knows. */
export function timeZoneParam(tz: string): string {
  if (!isValidTimeZone(tz)) throw new AnalyticsParamError(`tz: "${tz.slice(0, 64)}" is not an IANA time zone name (such as UTC, Europe/Berlin, America/New_York)`);
  return tz;
}

/**
 * Checks that a query string holds only `allowed` keys, each at most once, and returns a
 * reader of them in which an empty value counts as absent. `what` names the query in errors.
 */
export function strictQuery<K extends string>(search: URLSearchParams, allowed: readonly K[], what = ''): (key: K) => string | undefined {
  const seen = new Set<string>();
  for (const key of search.keys()) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw new AnalyticsParamError(`unknown parameter "${key.slice(0, 40)}"${what ? ` for ${what}` : ''} (allowed: ${allowed.join(', ')})`);
    }
    if (seen.has(key)) throw new AnalyticsParamError(`parameter "${key}" is given more than once`);
    seen.add(key);
  }
  return (key) => {
    const v = search.get(key);
    return v === null || v === '' ? undefined : v;
  };
}
