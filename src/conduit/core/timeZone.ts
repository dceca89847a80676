/** IANA time zones: the gateway's own, and the check every zone given from outside goes through. */

/** The gateway's own zone (TZ, or the system's). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Whether this system knows the zone (an IANA name such as "Europe/Berlin"); over-long names are refused unread. */
export function isValidTimeZone(zone: string): boolean {
  if (zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
