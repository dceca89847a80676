// What `npm start [folder]` opens (scripts/run-product.mjs): the folder given, else this
// repository. npm runs scripts in the package's folder, so a relative folder is resolved
// against the one npm was started in (INIT_CWD), where the person typed it.
import { statSync } from 'node:fs';
import path from 'node:path';

export const START_USAGE = 'usage: npm start [folder]   (the folder to open; this repository when none is given)';

/**
 * The folder to open, absolute. Throws an Error whose message says what is wrong (an
 * option, a second folder, a folder that does not exist or is a file) and ends with the usage.
 * @param {string[]} args the arguments after the script's name
 * @param {{ cwd: string, defaultFolder: string }} where
 */
export function productFolder(args, { cwd, defaultFolder }) {
  if (args.length > 1) throw new Error(`one folder at most, got ${args.length}: ${args.map((a) => JSON.stringify(a)).join(' ')}\n${START_USAGE}`);
  if (args.length === 0 || args[0] === '') return defaultFolder;
  const [arg] = args;
  if (arg.startsWith('-')) throw new Error(`${arg}: npm start takes no options\n${START_USAGE}`);
  const folder = path.resolve(cwd, arg);
  let stat;
  try {
    stat = statSync(folder);
  } catch {
    throw new Error(`${folder} does not exist\n${START_USAGE}`);
  }
  if (!stat.isDirectory()) throw new Error(`${folder} is not a folder\n${START_USAGE}`);
  return folder;
}
