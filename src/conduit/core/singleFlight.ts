/**
 * One run of a piece of work at a time, and "run again when asked during a run": a request
 * that comes while a run is in flight joins it and marks it to be followed by another (the
 * run in flight may have started before what the request is about). The journal ingester
 * (ledger/store/ingest.ts) and the sync outbox (ledger/sync/outbox.ts) schedule their passes with it.
 */
export class SingleFlight<T> {
  private running: Promise<T> | null = null;
  private again = false;

  /**
   * `work`: one run. `settled`: called once a run has ended (the flight is free again),
   * before anyone awaiting the run goes on; it decides what comes next (another run when
   * `again`, a retry after a failure).
   */
  constructor(
    private readonly work: () => Promise<T>,
    private readonly settled: (result: PromiseSettledResult<T>) => void = () => undefined,
  ) {}

  /** The run in flight, if any. */
  get current(): Promise<T> | null {
    return this.running;
  }

  /** A run was asked for while the one in flight ran (cleared when the next run starts). */
  get askedAgain(): boolean {
    return this.again;
  }

  /** Marks the run in flight to be followed by another; false when none is in flight. */
  askAgain(): boolean {
    if (!this.running) return false;
    this.again = true;
    return true;
  }

  /** Starts a run, or joins the one in flight (which is then followed by another). */
  run(): Promise<T> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.again = false;
    const run = this.work();
    this.running = run;
    run.then(
      (value) => this.end({ status: 'fulfilled', value }),
      (reason: unknown) => this.end({ status: 'rejected', reason }),
    ).catch(() => undefined); // the run's callers see its error; one `settled` throws has nobody to go to
    return run;
  }

  /**
   * Runs until one ends with nobody having asked for another meanwhile (a run in flight is
   * awaited first: it may have started before this call); `each` gets each run's result.
   * Rejects with a run's error.
   */
  async drain(each: (value: T) => void): Promise<void> {
    for (;;) {
      if (this.running) {
        await this.running.catch(() => undefined);
        continue;
      }
      each(await this.run());
      if (!this.again) return;
    }
  }

  private end(result: PromiseSettledResult<T>): void {
    this.running = null;
    this.settled(result);
  }
}
