/**
 * Groups 1 and 2 for the configuration matrix of every construct (see
 * support/matrix.ts): admitted without warnings, pods run, nothing lost.
 */
import { admissionSuite } from './support/admission';
import { Cleanup } from './support/deploy';
import { Kube } from './support/kube';
import { MATRIX } from './support/matrix';

for (const c of MATRIX) {
  admissionSuite(`${c.id}: ${c.title}`, () => c.synth(), {
    claims: c.prerequisites?.claims?.map((claim) => ({ ...claim, namespace: c.namespace })),
    deferCleanupWait: true,
  });
}

// every case's namespace finalizes in parallel; the file ends only when all are gone
afterAll(async () => {
  const kube = Kube.connect();
  try {
    await Cleanup.drain(kube);
  } finally {
    kube.close();
  }
});
