// Types for scripts/start-options.mjs, so the TypeScript tests can use it.

export const START_USAGE: string;
export function productFolder(args: string[], where: { cwd: string; defaultFolder: string }): string;
