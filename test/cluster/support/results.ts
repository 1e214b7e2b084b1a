/** Machine-readable results of the cluster suite, in test/cluster/results/ (not committed). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const RESULTS_DIR = path.join(__dirname, '..', 'results');

export function writeResult(file: string, data: unknown): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const target = path.join(RESULTS_DIR, file);
  fs.writeFileSync(target, `${JSON.stringify(data, null, 2)}\n`);
  return target;
}
