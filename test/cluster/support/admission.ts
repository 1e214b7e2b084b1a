/**
 * Groups 1 and 2 of the suite for one set of manifests: admission with zero
 * warnings, pods created and Running/Ready, and every written field read back.
 */
import { Cleanup, applyAll, AppliedObject, describeRef, namespacesOf, podSummary, prepare, PrepareOptions, refOf, waitForWorkloads } from './deploy';
import { isPodReady, Kube } from './kube';
import { NormalizationUse, subsetDifferences } from './subset';

export interface AdmissionSuiteOptions {
  /** Claims to create before applying. */
  readonly claims?: PrepareOptions['claims'];
  /** Leave the deletions running and let the file's afterAll wait for them (Cleanup.drain). */
  readonly deferCleanupWait?: boolean;
}

export function admissionSuite(title: string, synth: () => any[], opts: AdmissionSuiteOptions = {}): void {
  describe(title, () => {
    let kube: Kube;
    let cleanup: Cleanup;
    let manifests: any[];
    let applied: AppliedObject[] | undefined;

    beforeAll(async () => {
      kube = Kube.connect();
      cleanup = new Cleanup(kube);
      manifests = synth();
      await prepare(kube, cleanup, manifests, { claims: opts.claims });
    });

    afterAll(async () => {
      try {
        await cleanup?.run({ wait: !opts.deferCleanupWait });
      } finally {
        kube?.close();
      }
    });

    test('server-side apply (fieldValidation=Strict, Pod Security "restricted" enforced) accepts every object with zero warnings', async () => {
      applied = await applyAll(kube, cleanup, manifests);
      const warned = applied.filter((a) => a.warnings.length > 0).map((a) => `${describeRef(refOf(a.manifest))}: ${a.warnings.join(' | ')}`);
      expect(warned).toEqual([]);
      expect(applied.map((a) => describeRef(refOf(a.manifest))).sort()).toEqual(manifests.map((m) => describeRef(refOf(m))).sort());
    });

    test('the controllers create every pod: no FailedCreate event, all pods Running and Ready on kwok nodes', async () => {
      if (!applied) throw new Error('nothing was applied (see the apply test)');
      const workloads = await waitForWorkloads(kube, manifests);
      for (const { workload, pods } of workloads) {
        const spec = manifests.find((m) => m.kind === workload.kind && m.metadata.name === workload.name && m.metadata.namespace === workload.namespace);
        const summary = `${describeRef(workload)}: ${podSummary(pods)}`;
        expect({ summary, count: pods.length }).toEqual({ summary, count: spec.spec.replicas ?? 1 });
        expect({ summary, notReady: pods.filter((p) => !isPodReady(p)).length }).toEqual({ summary, notReady: 0 });
        expect({ summary, offKwok: pods.filter((p) => !String(p.spec.nodeName).startsWith('kwok-node-')).length }).toEqual({ summary, offKwok: 0 });
      }
      const failedCreate: string[] = [];
      for (const ns of namespacesOf(manifests)) {
        for (const e of await kube.warningEvents(ns)) {
          if (e.reason === 'FailedCreate') failedCreate.push(`${ns} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`);
        }
      }
      expect(failedCreate).toEqual([]);
    });

    test('reading every object back shows each field the library set, with the value it set', async () => {
      if (!applied) throw new Error('nothing was applied (see the apply test)');
      const used: NormalizationUse = {};
      const differences: string[] = [];
      for (const { manifest } of applied) {
        const r = refOf(manifest);
        const live = await kube.get(r.apiVersion, r.kind, r.name, r.namespace);
        if (!live) {
          differences.push(`${describeRef(r)}: not found`);
          continue;
        }
        for (const d of subsetDifferences(manifest, live, '', used)) {
          differences.push(`${describeRef(r)} ${d.path}: wrote ${JSON.stringify(d.expected)}, read back ${JSON.stringify(d.actual)}`);
        }
      }
      if (Object.keys(used).length > 0) {
        process.stdout.write(`[${title}] normalizations used: ${JSON.stringify(used)}\n`);
      }
      expect(differences).toEqual([]);
    });
  });
}
