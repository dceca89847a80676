/** Replaced at build time by esbuild's define; the source fallback serves tests. */
declare const __CONDUIT_VERSION__: string | undefined;
export const VERSION: string = typeof __CONDUIT_VERSION__ === 'string' ? __CONDUIT_VERSION__ : '0.0.0-dev';
