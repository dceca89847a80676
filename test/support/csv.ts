/** Reading CSV back in tests, to check what an export wrote. */
import assert from 'node:assert/strict';

/** RFC 4180 reader (for checking what was written). */
export function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(field); out.push(row); row = []; field = ''; i += 2; continue; }
    assert.ok(c !== '\r' && c !== '\n', `a bare line break outside quotes at ${i}`);
    field += c; i++;
  }
  assert.equal(field, '', 'the file ends with CRLF');
  return out;
}
