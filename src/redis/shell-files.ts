/**
 * The shell files of the Redis lifecycle scripts (src/redis/sh in the repository and in the package).
 *
 * Every file is plain POSIX sh that shellcheck checks on its own. Two kinds of lines are the file's
 * own and never reach a rendered script:
 * - the header: the comment lines from the first line (`# shellcheck shell=sh`) to the first empty
 *   line, with what the file holds and the directives that only checking it alone needs;
 * - section lines, `#if acl`, `#if tls`, `#else` and `#endif` (indented or not): the lines between
 *   them are kept or dropped for the variant a script is rendered for (ACL users, TLS).
 * Everything else is rendered byte for byte.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The variant of the scripts a file's sections are chosen for. */
export interface ShellVariant {
  /** ACL users (`#if acl`). */
  readonly acl: boolean;
  /** TLS (`#if tls`). */
  readonly tls: boolean;
}

/**
 * Where the files are: next to this module when it runs from src/redis (ts-jest), and at src/redis/sh of the
 * package when it runs compiled from lib/src/redis.
 */
const SHELL_DIRS = [path.join(__dirname, 'sh'), path.join(__dirname, '..', '..', '..', 'src', 'redis', 'sh')];
const HEADER_START = '# shellcheck shell=sh\n';
const SECTION = /^[ \t]*#(if|else|endif)\b/;
const SECTION_LINE = /^[ \t]*#(?:if (acl|tls)|else|endif)[ \t]*$/;

let shellDir: string | undefined;
const bodies = new Map<string, string>();

/** The directory holding the shell files (found once per process). */
export function shellFilesDir(): string {
  if (shellDir === undefined) {
    shellDir = SHELL_DIRS.find(d => fs.existsSync(path.join(d, 'shared', 'base.sh')));
    if (shellDir === undefined) {
      throw new Error(`the Redis shell files (shared/base.sh, ...) are in neither ${SHELL_DIRS.join(' nor ')}: the package is incomplete`);
    }
  }
  return shellDir;
}

/** A shell file without its header, read once per process. */
function body(name: string): string {
  let text = bodies.get(name);
  if (text === undefined) {
    const file = path.join(shellFilesDir(), name);
    const raw = fs.readFileSync(file, 'utf-8');
    const end = raw.indexOf('\n\n');
    if (!raw.startsWith(HEADER_START) || end < 0 || raw.slice(0, end).split('\n').some(line => !line.startsWith('#'))) {
      throw new Error(`${file}: must start with "${HEADER_START.trim()}" and a header of comment lines ended by an empty line`);
    }
    if (raw.includes('\r') || !raw.endsWith('\n')) {
      throw new Error(`${file}: must have Unix line endings and end with a newline`);
    }
    text = raw.slice(end + 2);
    bodies.set(name, text);
  }
  return text;
}

/**
 * The rendered text of a shell file (a path under src/redis/sh): without its header and, for a file with sections,
 * with the lines of the given variant only.
 */
export function shellFile(name: string, variant?: ShellVariant): string {
  return selectSections(name, body(name), variant);
}

/** `text` with the lines of `variant` kept and the section lines dropped; `name` is for errors. */
export function selectSections(name: string, text: string, variant?: ShellVariant): string {
  const lines = text.split('\n');
  if (!lines.some(line => SECTION.test(line))) return text;
  if (variant === undefined) throw new Error(`${name}: has #if sections, so a variant is needed`);
  const kept: string[] = [];
  // one entry per open #if: whether its lines are kept, and whether its #else was seen
  const open: Array<{ keep: boolean; inElse: boolean }> = [];
  lines.forEach((line, i) => {
    if (!SECTION.test(line)) {
      if (open.every(section => section.keep)) kept.push(line);
      return;
    }
    const m = SECTION_LINE.exec(line);
    const top = open[open.length - 1];
    if (m === null) {
      throw new Error(`${name}:${i + 1}: a section line is #if acl, #if tls, #else or #endif, not ${JSON.stringify(line.trim())}`);
    }
    if (m[1] !== undefined) {
      open.push({ keep: variant[m[1] as keyof ShellVariant], inElse: false });
    } else if (line.trim() === '#else') {
      if (top === undefined || top.inElse) throw new Error(`${name}:${i + 1}: #else without its #if`);
      open[open.length - 1] = { keep: !top.keep, inElse: true };
    } else {
      if (top === undefined) throw new Error(`${name}:${i + 1}: #endif without its #if`);
      open.pop();
    }
  });
  if (open.length > 0) throw new Error(`${name}: #if without its #endif`);
  return kept.join('\n');
}
