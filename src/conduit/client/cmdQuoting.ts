/**
 * Quoting for cmd.exe, to run a batch file (a claude.cmd shim) with arguments that reach its
 * program unchanged whatever they hold. Three parsers read each argument on the way:
 *  1. cmd.exe reads the command line: & | < > run other commands, %NAME% expands, ^ escapes
 *     the next character, and a double quote starts or ends a part where ^ does not escape;
 *  2. cmd.exe reads it again when the batch file's line expands %* (or %1...);
 *  3. the program's C runtime splits what is left into arguments: at spaces outside double
 *     quotes; backslashes are literal except before a quote, where 2n of them stand for n and
 *     one more makes the quote literal.
 * So each argument is quoted for (3), then every character cmd.exe gives a meaning to is
 * escaped with ^, once per cmd.exe reading. Quotes are escaped too, so cmd.exe never enters
 * a quoted part: there ^ is kept as it is, and a quote inside the argument would end the
 * part early, leaving what follows to be read as commands.
 */

/** What cmd.exe gives a meaning to: operators, escape, quote, expansions, argument separators. */
const CMD_SPECIAL = /[&|<>()^"%! \t,;=]/g;

/** Every character cmd.exe gives a meaning to, escaped with ^: it reads them all literally. */
function caretEscape(text: string): string {
  return text.replace(CMD_SPECIAL, '^$&');
}

function refuseLineBreaks(text: string, what: string): void {
  // cmd.exe ends the command at a line break: what follows would be lost, or run as a command.
  if (/[\r\n\0]/.test(text)) throw new Error(`${what} holds a line break (or NUL), which cmd.exe cannot pass on`);
}

/** One argument as the C runtime reads it back (3): in double quotes, backslashes before a quote doubled. */
export function quoteForCRuntime(arg: string): string {
  // A quote inside: its backslashes doubled and one added (\\" reads back as \"). The closing
  // quote: the trailing backslashes doubled, so that they do not escape it.
  return `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\*)$/, '$1$1')}"`;
}

/** An argument for a batch file run by cmd.exe: read by cmd.exe twice, then by the C runtime. */
export function cmdArgument(arg: string, index: number): string {
  refuseLineBreaks(arg, `argument ${index + 1}`);
  return caretEscape(caretEscape(quoteForCRuntime(arg)));
}

/** The batch file to run, as cmd.exe's command: read once, with its spaces escaped rather than quoted. */
export function cmdCommand(file: string): string {
  refuseLineBreaks(file, file);
  return caretEscape(file);
}

/**
 * cmd.exe's arguments to run `batchFile` with `args`, to be passed verbatim (not quoted
 * again by Node): /d skips AutoRun commands, /s /c runs what is inside the outer quotes.
 */
export function cmdInvocation(batchFile: string, args: string[]): string[] {
  const line = [cmdCommand(batchFile), ...args.map(cmdArgument)].join(' ');
  return ['/d', '/s', '/c', `"${line}"`];
}
