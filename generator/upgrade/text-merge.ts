import { diff3Merge } from 'node-diff3';

/** Names on the conflict marker lines, so an editor's merge view can tell the sides apart. */
export interface MergeLabels {
  ours: string;
  theirs: string;
}

export interface TextMerge {
  text: string;
  /** Blocks of lines both sides changed differently, written with git-style markers. */
  conflicts: number;
}

// ignoreBOM keeps a byte order mark in the text, so it survives the round trip.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The file as text, or undefined for a binary file (a NUL byte, as git decides, or bytes that are not UTF-8). */
export function decodeText(content: Buffer): string | undefined {
  if (content.includes(0)) return undefined;
  try {
    return utf8.decode(content);
  } catch {
    return undefined;
  }
}

/** True when every line break is CRLF, as in a Windows checkout of an LF file. */
export function usesCrlf(text: string): boolean {
  return text.includes('\r\n') && !/(^|[^\r])\n/.test(text);
}

export function toLf(text: string): string {
  return text.replace(/\r\n/g, '\n');
}

export function toCrlf(lfText: string): string {
  return lfText.replace(/\n/g, '\r\n');
}

/**
 * Three-way merge of ours and theirs, both derived from base, line by line
 * (node-diff3). Lines only one side changed are taken from that side; where
 * both changed the same lines differently, both versions are written between
 * `<<<<<<<`, `=======` and `>>>>>>>` lines.
 */
export function mergeText(ours: string, base: string, theirs: string, labels: MergeLabels): TextMerge {
  const regions = diff3Merge(lines(ours), lines(base), lines(theirs), { excludeFalseConflicts: true });
  const out: string[] = [];
  let conflicts = 0;
  for (const region of regions) {
    if (region.ok) out.push(...region.ok);
    if (region.conflict) {
      conflicts += 1;
      out.push(`<<<<<<< ${labels.ours}\n`, ...endWithBreak(region.conflict.a), '=======\n', ...endWithBreak(region.conflict.b), `>>>>>>> ${labels.theirs}\n`);
    }
  }
  return { text: out.join(''), conflicts };
}

/** Lines with their line breaks, so a last line without one comes back as it was. */
function lines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A marker must start a line of its own, even after a side's last line that had no line break. */
function endWithBreak(block: string[]): string[] {
  const last = block.at(-1);
  return last === undefined || last.endsWith('\n') ? block : [...block.slice(0, -1), `${last}\n`];
}
