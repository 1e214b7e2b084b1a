import * as fs from 'fs';
import * as path from 'path';
import { Duration, Testing } from 'cdk8s';
import { FailoverBudget, StatefulProbe, RwopStatefulApp, RwopStatefulAppProps } from '../src';

// The README's failover numbers come from the code: this test regenerates the table and compares (UPDATE_README=1 rewrites it).
function budget(props: Partial<RwopStatefulAppProps>): FailoverBudget {
  const chart = Testing.chart();
  return new RwopStatefulApp(chart, 'app', { image: 'postgres:16.4', namespace: 'apps', ports: [{ name: 'pg', port: 5432 }], ...props }).failoverBudget;
}

const PG_ISREADY_COMMAND = ['pg_isready', '-h', '127.0.0.1', '-p', '5432'];
const PG_ISREADY = StatefulProbe.fromCommand(PG_ISREADY_COMMAND);

function comparisonTable(): string {
  const rows: Array<[string, FailoverBudget, string]> = [
    ['This library, default (TCP) check', budget({}), 'liveness TCP 5 s x 2, timeout 1 s, probe grace 5 s; startup 2 s x 150; readiness 5 s; tolerations 30 s'],
    ['This library, `pg_isready` check', budget({ liveness: PG_ISREADY }), 'the same timings with a check PostgreSQL answers itself'],
    ['This library, `pg_isready` and nodeLossAutomation', budget({ liveness: PG_ISREADY, nodeLossAutomation: { acknowledgeNodesAreFenced: true } }), 'the same, plus the failover controller (heartbeat silence 30 s, check 2 s, taint + force delete)'],
    ['Kubernetes defaults, `pg_isready` check', budget({
      liveness: StatefulProbe.fromCommand(PG_ISREADY_COMMAND, { period: Duration.seconds(10), timeout: Duration.seconds(1), failureThreshold: 3, terminationGracePeriod: Duration.seconds(30) }),
      readiness: StatefulProbe.fromCommand(PG_ISREADY_COMMAND, { period: Duration.seconds(10), timeout: Duration.seconds(1), failureThreshold: 3 }),
      nodeLossToleration: Duration.seconds(300),
    }), 'liveness 10 s x 3, timeout 1 s, pod grace 30 s; readiness 10 s; DefaultTolerationSeconds 300 s'],
    ['A common recipe (claims "about 30 s"), `pg_isready` check', budget({
      liveness: StatefulProbe.fromCommand(PG_ISREADY_COMMAND, { period: Duration.seconds(5), failureThreshold: 2, terminationGracePeriod: Duration.seconds(1) }),
      terminationGracePeriod: Duration.seconds(1), nodeLossToleration: Duration.seconds(300),
    }), 'liveness 5 s x 2; grace 0 is refused, so the nearest legal value 1 s; no tolerations, no fencing'],
  ];
  const value = (s: { worstCaseSeconds?: number } | undefined) => (s === undefined ? 'off' : s.worstCaseSeconds === undefined ? 'unbounded' : `${s.worstCaseSeconds} s`);
  const lines = ['| configuration | hung process | node lost, no automation | node lost, automation | settings |', '| --- | --- | --- | --- | --- |'];
  for (const [name, b, settings] of rows) {
    lines.push(`| ${name} | ${value(b.hungProcess)} | ${value(b.nodeLossWithoutAutomation)} | ${value(b.nodeLossWithAutomation)} | ${settings} |`);
  }
  return lines.join('\n');
}

test('the README failover table is what the code computes', () => {
  const readmePath = path.join(__dirname, '..', 'README.md');
  const readme = fs.readFileSync(readmePath, 'utf-8');
  const start = '<!-- failover-table:start -->\n';
  const end = '\n<!-- failover-table:end -->';
  const table = comparisonTable();
  if (process.env.UPDATE_README === '1') {
    const updated = readme.slice(0, readme.indexOf(start) + start.length) + table + readme.slice(readme.indexOf(end));
    fs.writeFileSync(readmePath, updated);
  }
  const current = fs.readFileSync(readmePath, 'utf-8');
  expect(current.slice(current.indexOf(start) + start.length, current.indexOf(end))).toBe(table);
});

test('the README shows the default budget terms the code computes', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf-8');
  expect(readme).toContain(budget({ liveness: PG_ISREADY, nodeLossAutomation: { acknowledgeNodesAreFenced: true } }).toMarkdown());
});
