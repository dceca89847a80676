/**
 * Labels of a cost (USD) axis. Chart.js picks "nice" tick values (steps of 1, 2, 2.5 or 5
 * times a power of ten); a fixed number of decimals shows a step of $0.0025 as "$0.01" five
 * times over. The decimals come from the ticks themselves: the fewest (at least cents) that
 * write every tick value exactly.
 */
import { formatUsd } from '../../../src/protocol/format.js';

const MIN_DECIMALS = 2;
const MAX_DECIMALS = 8;

/** The fewest decimals, from cents up, that write each of these values exactly. */
export function costAxisDecimals(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  for (let d = MIN_DECIMALS; d < MAX_DECIMALS; d++) {
    const scale = 10 ** d;
    // Floating-point tick values (0.1 + 0.2) are off by far less than a millionth of a unit of the last decimal.
    if (finite.every((v) => Math.abs(v * scale - Math.round(v * scale)) < 1e-6)) return d;
  }
  return MAX_DECIMALS;
}

/** A Chart.js ticks.callback for a cost axis: every label with the decimals its scale needs. */
export function costTickLabel(value: number | string, _index: number, ticks: readonly { value: number }[]): string {
  return formatUsd(Number(value), { decimals: costAxisDecimals(ticks.map((t) => t.value)) });
}
