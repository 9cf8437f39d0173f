/**
 * Scans what the suite's operators left behind — every captured log line and every saved Event — for the fake
 * secrets of common.ts, whole and in parts: a secret cut by a log truncation or split across fields still leaks its
 * first or last 12 characters, so those are searched too.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, FAKE_SECRETS } from './common.js';

/** The needles searched for: each secret, and its distinctive head and tail. */
export function secretNeedles(): { name: string; needle: string }[] {
  const out: { name: string; needle: string }[] = [];
  for (const [name, value] of Object.entries(FAKE_SECRETS)) {
    out.push({ name, needle: value }, { name: `${name} (head)`, needle: value.slice(0, 16) }, { name: `${name} (tail)`, needle: value.slice(-12) });
  }
  return out;
}

/** Lines of `text` containing any needle, as "where: secret name: excerpt". */
export function findSecrets(text: string, where: string): string[] {
  const hits: string[] = [];
  const needles = secretNeedles();
  text.split('\n').forEach((line, i) => {
    for (const { name, needle } of needles) if (line.includes(needle)) hits.push(`${where}:${i + 1}: ${name}: ${line.slice(0, 200)}`);
  });
  return hits;
}

/** Scans test-artifacts/faults/logs/* and events/*. */
export function scanArtifactsForSecrets(): { files: number; lines: number; events: number; hits: string[] } {
  const hits: string[] = [];
  let files = 0;
  let lines = 0;
  let events = 0;
  const logs = path.join(ARTIFACTS, 'logs');
  if (existsSync(logs)) {
    for (const f of readdirSync(logs)) {
      const text = readFileSync(path.join(logs, f), 'utf8');
      files++;
      lines += text.split('\n').filter((l) => l !== '').length;
      hits.push(...findSecrets(text, `logs/${f}`));
    }
  }
  const ev = path.join(ARTIFACTS, 'events');
  if (existsSync(ev)) {
    for (const f of readdirSync(ev)) {
      const text = readFileSync(path.join(ev, f), 'utf8');
      events += (JSON.parse(text) as unknown[]).length;
      hits.push(...findSecrets(text, `events/${f}`));
    }
  }
  return { files, lines, events, hits };
}
