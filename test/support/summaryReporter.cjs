// Mocha's spec reporter, plus the plain closing line "N passed, N failed, N skipped"
// that CI reads to know how many tests ran.
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      // Printed after Spec's epilogue so it stands alone on the last line.
      process.nextTick(() => console.log(`\ntests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`));
    });
  }
}
module.exports = SummaryReporter;
