// Mocha root hooks for the whole run (loaded with `--require test/support/rootHooks.ts`):
// stops the shared throw-away PostgreSQL cluster once every suite has finished.
import { stopTestPostgres } from './postgres';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(20_000);
    await stopTestPostgres();
  },
};
