// Quoting arguments for a batch file run through cmd.exe (conduit-claude's last resort for
// a claude.cmd shim whose target it cannot find). This machine has no cmd.exe: the quoted
// command line is read back by a model of the documented parsers (cmd.exe's %VAR% and ^/"
// phases, once for the command line and once for the batch file's %*, then the C runtime's
// argument splitting), and every hostile argument must come back unchanged, with no
// operator left for cmd.exe to act on.
import assert from 'node:assert/strict';
import { cmdArgument, cmdCommand, cmdInvocation, quoteForCRuntime } from '../../src/conduit/client/cmdQuoting';

/** Variables cmd.exe would expand. */
const ENV: Record<string, string> = { PATH: 'C:\\Windows', USERNAME: 'victim', COMSPEC: 'cmd.exe' };

/** cmd.exe phase 1 on a command line (not in a batch file): %NAME% of a defined variable expands; anything else stays. */
function expandPercent(line: string): string {
  let out = '';
  let i = 0;
  while (i < line.length) {
    const end = line[i] === '%' ? line.indexOf('%', i + 1) : -1;
    const name = end > i ? line.slice(i + 1, end) : null;
    if (name !== null && Object.keys(ENV).some((k) => k.toLowerCase() === name.toLowerCase())) {
      out += ENV[Object.keys(ENV).find((k) => k.toLowerCase() === name.toLowerCase())!];
      i = end + 1;
    } else {
      out += line[i++];
    }
  }
  return out;
}

interface Phase2 { chars: { c: string; literal: boolean }[]; operators: string[] }

/** cmd.exe phase 2: ^ escapes the next character outside quotes; a quote toggles quoting; & | < > outside quotes are operators. */
function readSpecials(line: string): Phase2 {
  const chars: Phase2['chars'] = [];
  const operators: string[] = [];
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (!quoted && c === '^') {
      i++;
      if (i < line.length) chars.push({ c: line[i], literal: true });
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && '&|<>'.includes(c)) operators.push(c);
    chars.push({ c, literal: quoted });
  }
  return { chars, operators };
}

/** The C runtime's argument splitting (the rules of CommandLineToArgvW / the MSVC runtime). */
function splitArguments(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  let quoted = false;
  for (let i = 0; i < text.length;) {
    const c = text[i];
    if (!quoted && (c === ' ' || c === '\t')) {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
      i++;
      continue;
    }
    inArg = true;
    if (c === '\\') {
      let n = 0;
      while (text[i] === '\\') { n++; i++; }
      if (text[i] === '"') {
        current += '\\'.repeat(Math.floor(n / 2));
        if (n % 2 === 1) { current += '"'; i++; }
      } else {
        current += '\\'.repeat(n);
      }
      continue;
    }
    if (c === '"') {
      if (quoted && text[i + 1] === '"') { current += '"'; i += 2; continue; }
      quoted = !quoted;
      i++;
      continue;
    }
    current += c;
    i++;
  }
  if (inArg) args.push(current);
  return args;
}

/**
 * What `cmd.exe /d /s /c "<line>"` hands a batch file, and what the batch file's
 * `"%dp0%\node_modules\...\cli.js" %*` then hands node: the command cmd.exe runs and the
 * arguments the program reads.
 */
function runThroughCmd(invocation: string[]): { command: string; args: string[] } {
  assert.deepEqual(invocation.slice(0, 3), ['/d', '/s', '/c']);
  const quotedLine = invocation[3];
  assert.ok(quotedLine.startsWith('"') && quotedLine.endsWith('"'), 'the line in the outer quotes /s strips');
  // First reading: the command line.
  const first = readSpecials(expandPercent(quotedLine.slice(1, -1)));
  assert.deepEqual(first.operators, [], 'no operator for cmd.exe on the command line');
  // The command ends at the first separator cmd.exe did not read literally.
  const split = first.chars.findIndex((x) => !x.literal && (x.c === ' ' || x.c === '\t'));
  const command = first.chars.slice(0, split < 0 ? undefined : split).map((x) => x.c).join('');
  const tail = split < 0 ? '' : first.chars.slice(split).map((x) => x.c).join('').replace(/^[ \t]+/, '');
  // Second reading: the batch file's line with %* put in (the text put in is not expanded again).
  const second = readSpecials(tail);
  assert.deepEqual(second.operators, [], 'no operator for cmd.exe in the batch file\'s line');
  return { command, args: splitArguments(second.chars.map((x) => x.c).join('')) };
}

const SHIM = 'C:\\Users\\Ann & Bob (x86)\\AppData\\Roaming\\npm\\claude.cmd';

const HOSTILE = [
  'say hi & whoami',
  'a|b', 'a||b', 'a&&b', '<in', '>out', '2>&1',
  '%PATH%', '%USERNAME%', '%%PATH%%', '100%', '%', '%NOT_SET%',
  '^', '^^', 'a^&b', '^"', '^%PATH^%',
  '"', '""', '"quoted"', 'he said "hi & bye"', 'odd " quote & calc.exe',
  '', ' ', '  two  spaces  ', '\t',
  'C:\\dir\\', 'C:\\dir\\\\', '\\', '\\\\', 'a\\"b', 'a\\\\"b', 'ends with backslash quote\\"', '\\"',
  '!x!', '(a)', ')', 'a,b;c=d', '`cmd`', '$(id)', '* ?',
  'ünïcödé ✓ 日本語', '--output-format=stream-json',
  '" & calc & "', '^" & calc & ^"', '\\" & calc & \\"', '%"%" & calc',
];

describe('cmd.exe quoting (a batch file\'s arguments)', () => {
  it('every hostile argument reaches the program unchanged, with nothing left for cmd.exe to run', () => {
    for (const arg of HOSTILE) {
      const { command, args } = runThroughCmd(cmdInvocation(SHIM, [arg]));
      assert.equal(command, SHIM, `the command, for ${JSON.stringify(arg)}`);
      assert.deepEqual(args, [arg], `round trip of ${JSON.stringify(arg)}`);
    }
  });

  it('many arguments at once keep their boundaries and order', () => {
    const { command, args } = runThroughCmd(cmdInvocation(SHIM, HOSTILE));
    assert.equal(command, SHIM);
    assert.deepEqual(args, HOSTILE);
    assert.deepEqual(runThroughCmd(cmdInvocation(SHIM, [])).args, []);
  });

  it('the model sees the fault this replaces: the line Node\'s `shell: true` built ran & as an operator and expanded %PATH%', () => {
    // Node on Windows with shell: true: cmd.exe /d /s /c "<file and arguments joined by spaces>".
    const shellTrue = (file: string, args: string[]) => ['/d', '/s', '/c', `"${[file, ...args].join(' ')}"`];
    assert.throws(() => runThroughCmd(shellTrue('claude.cmd', ['-p', 'say hi & whoami'])), /no operator/);
    assert.deepEqual(runThroughCmd(shellTrue('claude.cmd', ['-p', '100%PATH%'])).args, ['-p', '100C:\\Windows']);
    // Escaping once is not enough for a batch file: its %* is read by cmd.exe again.
    const once = (arg: string) => quoteForCRuntime(arg).replace(/[&|<>()^"%! \t,;=]/g, '^$&');
    assert.throws(() => runThroughCmd(['/d', '/s', '/c', `"claude.cmd ${once('a"b & calc')}"`]), /no operator/);
  });

  it('line breaks (and NUL) are refused, naming the argument: cmd.exe would end the command there', () => {
    for (const bad of ['line one\nline two', 'a\r\nb', 'cr\r', 'nul\0']) {
      assert.throws(() => cmdInvocation(SHIM, ['-p', bad]), /argument 2 holds a line break/);
    }
    assert.throws(() => cmdCommand('C:\\a\nb.cmd'), /line break/);
  });

  it('the exact forms: C-runtime quotes, then ^ before every special character, twice for arguments', () => {
    assert.equal(quoteForCRuntime('plain'), '"plain"');
    assert.equal(quoteForCRuntime('a"b'), '"a\\"b"');
    assert.equal(quoteForCRuntime('a\\"b'), '"a\\\\\\"b"');
    assert.equal(quoteForCRuntime('C:\\dir\\'), '"C:\\dir\\\\"');
    assert.equal(quoteForCRuntime('C:\\a b\\c'), '"C:\\a b\\c"', 'backslashes not before a quote stay single');
    assert.equal(cmdArgument('a&b', 0), '^^^"a^^^&b^^^"');
    assert.equal(cmdArgument('%PATH%', 0), '^^^"^^^%PATH^^^%^^^"');
    assert.equal(cmdCommand('C:\\Program Files\\npm\\claude.cmd'), 'C:\\Program^ Files\\npm\\claude.cmd');
  });
});
