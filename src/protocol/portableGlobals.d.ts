// The few globals src/protocol uses that every runtime it runs in has (Node, the VS Code
// extension host, the webviews' browser) but no ECMAScript lib declares. Only
// src/protocol/tsconfig.json reads this file: the other parts get the real declarations
// from @types/node or the DOM lib (tsconfig.json, the tests' config, excludes it).

declare function setTimeout(handler: () => void, ms?: number): unknown;
declare function clearTimeout(timer: unknown): void;

declare class URLSearchParams {
  constructor(init?: string | Record<string, string>);
  append(name: string, value: string): void;
  set(name: string, value: string): void;
  get(name: string): string | null;
  toString(): string;
}
