// Quoting helpers for the two languages the Redis files are rendered in: POSIX sh and redis.conf.

/**
 * Quotes a value as one POSIX sh word. Single quotes keep every byte literal, so the only
 * character needing care is the single quote itself, written as '\''.
 * @internal
 */
export function shQuote(value: string): string {
  if (value.includes('\0')) {
    throw new Error(`invalid shell value ${JSON.stringify(value)}: must not contain NUL characters`);
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// Bytes that sdssplitargs (the redis.conf tokenizer) takes as-is in a bare word.
const BARE_CONF_WORD = /^[A-Za-z0-9_.:/*@+,=%~^-]+$/;

/**
 * Quotes one redis.conf argument. Bare when it is plain, otherwise double-quoted with the escapes
 * that Redis' tokenizer understands: \\ \" and \xHH for anything outside printable ASCII.
 * @internal
 */
export function confQuote(value: string): string {
  if (BARE_CONF_WORD.test(value)) {
    return value;
  }
  let out = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte === 0x5c) {
      out += '\\\\';
    } else if (byte === 0x22) {
      out += '\\"';
    } else if (byte < 0x20 || byte > 0x7e) {
      out += `\\x${byte.toString(16).padStart(2, '0')}`;
    } else {
      out += String.fromCharCode(byte);
    }
  }
  return out + '"';
}

/**
 * The first control character in a value (C0 controls and DEL), or undefined.
 * @internal
 */
export function findControlChar(value: string): string | undefined {
  const m = /[\u0000-\u001f\u007f]/.exec(value);
  return m ? m[0] : undefined;
}
