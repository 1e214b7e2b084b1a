import * as fs from 'fs';
import * as path from 'path';

// docs/security.md and the ready-to-use skip files are generated from the linter allowlist the cluster suite enforces,
// so what users are told to skip is exactly what the suite accepts (UPDATE_SECURITY_DOC=1 rewrites them).
const root = path.join(__dirname, '..');
const allowlist = JSON.parse(fs.readFileSync(path.join(root, 'test', 'cluster', 'linter-allowlist.json'), 'utf8')) as {
  entries: Array<{ tool: string; check: string; summaries: string[]; kind: string; objects: string; containers?: string; cases: string[]; reason: string }>;
};

function findingsTable(): string {
  const lines = ['| tool | check | object | why it stays |', '| --- | --- | --- | --- |'];
  for (const e of allowlist.entries) {
    const object = `${e.kind} \`${e.objects}\`${e.containers ? ` (container \`${e.containers}\`)` : ''}`;
    lines.push(`| ${e.tool} | \`${e.check}\`: ${e.summaries.join('; ')} | ${object} | ${e.reason.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n');
}

function checkovSkipFile(): string {
  const checks = [...new Set(allowlist.entries.filter((e) => e.tool === 'checkov').map((e) => e.check))].sort();
  return ['# Checkov config for manifests synthesized by cdk8s-stateful: the checks its objects fail on purpose',
    '# (reasons in docs/security.md). Use with: checkov --config-file docs/scanners/checkov.yaml -d dist/',
    'framework:', '  - kubernetes', 'skip-check:', ...checks.map((c) => `  - ${c}`), ''].join('\n');
}

function kubeScoreIgnores(): string {
  const checks = [...new Set(allowlist.entries.filter((e) => e.tool === 'kube-score').map((e) => e.check))].sort();
  return `${checks.map((c) => `--ignore-test ${c}`).join(' ')}\n`;
}

const generated: Array<[string, () => string, string | undefined]> = [
  ['docs/scanners/checkov.yaml', checkovSkipFile, undefined],
  ['docs/scanners/kube-score-ignores.txt', kubeScoreIgnores, undefined],
  ['docs/security.md', findingsTable, 'findings'],
];

test.each(generated)('%s is what the allowlist generates', (file, render, section) => {
  const target = path.join(root, file);
  const content = render();
  if (process.env.UPDATE_SECURITY_DOC === '1') {
    if (section === undefined) fs.writeFileSync(target, content);
    else {
      const text = fs.readFileSync(target, 'utf8');
      const start = `<!-- ${section}:start -->\n`;
      const end = `\n<!-- ${section}:end -->`;
      fs.writeFileSync(target, text.slice(0, text.indexOf(start) + start.length) + content + text.slice(text.indexOf(end)));
    }
  }
  const text = fs.readFileSync(target, 'utf8');
  if (section === undefined) expect(text).toBe(content);
  else expect(text.slice(text.indexOf(`<!-- ${section}:start -->\n`) + `<!-- ${section}:start -->\n`.length, text.indexOf(`\n<!-- ${section}:end -->`))).toBe(content);
});
