#!/usr/bin/env node
/** The cdk8s-stateful command line. */
import { runStatusCommand } from './status/command';

const USAGE = `Usage: cdk8s-stateful <command> [options]

Commands:
  status <namespace> <statefulset>   check a live StatefulSet against what the library rendered

Run 'cdk8s-stateful <command> --help' for the options of a command.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    (command === undefined ? process.stderr : process.stdout).write(USAGE);
    return command === undefined ? 64 : 0;
  }
  if (command === 'status') return runStatusCommand(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  process.stderr.write(`error: unknown command "${command}"\n${USAGE}`);
  return 64;
}

main(process.argv.slice(2)).then((code) => {
  // an unanswered request may still hold a socket open: leave once the output is written
  process.stdout.write('', () => process.exit(code));
}, (err: unknown) => {
  process.stderr.write(`error: ${String(err)}\n`);
  process.exit(3);
});
