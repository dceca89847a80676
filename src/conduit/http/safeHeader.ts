/**
 * Values for the reply headers the gateway adds itself (x-conduit-*). Node throws when a
 * header value holds a character outside Latin-1 or a control character (CR/LF would
 * split the header in two), and by the time those headers are written the provider may
 * have answered and billed: a throw there turns a paid answer into a 502. Model ids are
 * validated where they enter (src/protocol/modelId.ts); this is the last guard, for ids
 * stored before that, and it also bounds the length, so no added header can push a reply
 * past the header size clients accept.
 */
export const MAX_ADDED_HEADER_LENGTH = 256;

/** `value` with anything but printable ASCII replaced by "?", cut to MAX_ADDED_HEADER_LENGTH. */
export function safeHeaderValue(value: string): string {
  const bounded = value.length > MAX_ADDED_HEADER_LENGTH ? value.slice(0, MAX_ADDED_HEADER_LENGTH) : value;
  return bounded.replace(/[^\x20-\x7e]/g, '?');
}
