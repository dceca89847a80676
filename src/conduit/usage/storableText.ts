// Text the usage store (Postgres text and jsonb) cannot hold: a lone UTF-16 surrogate
// (JSON.stringify writes it as "\ud800", which jsonb refuses: "invalid input syntax for
// type json") and NUL (no Postgres text value may contain it). A client can put either in
// a model id, a plugin in a rule; the request is billed all the same. Each is replaced by
// U+FFFD, so the record is stored with a visible mark instead of being refused.
//
// Without the u flag the pattern works on UTF-16 code units, which is what a lone
// surrogate is: a high one not followed by a low one, or a low one not preceded by a high one.
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\u0000/g;

export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\uFFFD');
}

/** A JSON.stringify replacer that makes every string value storable. */
export function storableValues(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? storableText(value) : value;
}

/**
 * The record as one JSON line the store can take. JSON.stringify writes both a lone
 * surrogate and NUL as a \u escape, which almost no record has: the common line is
 * stringified once and scanned once.
 */
export function storableJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\u') ? JSON.stringify(value, storableValues) : json;
}
