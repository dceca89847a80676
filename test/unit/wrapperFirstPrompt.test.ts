// The prompt conduit-claude finds among claude's arguments (src/conduit/wrapper/firstPrompt.ts),
// read as claude's option parser reads them, and the excerpt the sessions view keeps.
import assert from 'node:assert/strict';
import { promptFromArgs } from '../../src/conduit/wrapper/firstPrompt';
import { promptExcerpt } from '../../src/protocol/analytics';

describe('conduit-claude: the first prompt among claude\'s arguments', () => {
  it('finds the prompt past options with values, variadic and optional values', () => {
    const cases: [string[], string | null][] = [
      [['-p', 'fix the bug'], 'fix the bug'],
      [['fix the bug'], 'fix the bug'],
      [['--model', 'opus', '-p', 'fix it'], 'fix it'],
      [['--model=opus', '--output-format', 'stream-json', '--verbose', '-p', 'fix it'], 'fix it'],
      [['--allowedTools', 'Bash', 'Edit', '--print', 'fix it'], 'fix it'],
      [['--allowedTools', 'Bash', 'Edit'], null],
      [['-r', 'abc-session', 'go on'], 'go on'],
      [['--resume', '-p', 'go on'], 'go on'],
      [['-c'], null],
      [['-p'], null],
      [['-p', '   '], null],
      [['mcp', 'list'], null],
      [['--debug', 'mcp'], null], // the debug filter, not a prompt or a command
      [['-p', '--', '--not-an-option'], '--not-an-option'],
      [['--system-prompt', 'be brief', 'hello'], 'hello'],
    ];
    for (const [args, expected] of cases) assert.equal(promptFromArgs(args), expected, args.join(' '));
  });

  it('keeps at most 160 characters, whitespace collapsed, never half a surrogate pair', () => {
    assert.equal(promptExcerpt('  a\n\n\tb   c  '), 'a b c');
    const long = promptExcerpt(`${'word '.repeat(100)}`);
    assert.ok(Array.from(long).length <= 160 && Array.from(long).length >= 155);
    assert.ok(long.endsWith('…'));
    const emoji = promptExcerpt('😀'.repeat(300));
    assert.equal(Array.from(emoji).length, 160);
    assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(emoji), 'no lone high surrogate');
  });
});
