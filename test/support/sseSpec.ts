/**
 * An SSE parser that follows the WHATWG specification ("Server-sent events", event stream
 * interpretation), to check the gateway's streams the way a conforming client reads them:
 * lines end with CRLF, LF or CR; a blank line dispatches the event (when its data is not
 * empty); "event:" names it (default "message"); "data:" lines are joined with LF; a
 * value loses one leading space; ":" lines are comments; an event that has not met its
 * blank line when the stream ends is discarded.
 */
export interface SpecEvent {
  event: string;
  data: string;
}

export function parseSseSpec(input: Buffer | string): SpecEvent[] {
  let text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const events: SpecEvent[] = [];
  let type = '';
  let data = '';
  let at = 0;
  for (;;) {
    const lf = text.indexOf('\n', at);
    const cr = text.indexOf('\r', at);
    const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
    if (end < 0) break; // an unterminated last line is never processed
    const line = text.slice(at, end);
    at = end + (text[end] === '\r' && text[end + 1] === '\n' ? 2 : 1);
    if (line === '') {
      if (data !== '') events.push({ event: type || 'message', data: data.endsWith('\n') ? data.slice(0, -1) : data });
      type = '';
      data = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data += `${value}\n`;
  }
  return events;
}
