/** The example manifests under examples/, read once, for the tests that validate and apply them. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './api-server.js';

/** One example file: its name, its text, and its documents as plain objects. */
export interface ExampleFile {
  readonly file: string;
  readonly text: string;
  readonly objects: readonly Record<string, unknown>[];
}

/** Every examples/*.yaml file, sorted by name. */
export function exampleFiles(): ExampleFile[] {
  const dir = path.join(repoRoot, 'examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const text = readFileSync(path.join(dir, file), 'utf8');
      const objects = parseAllDocuments(text, { version: '1.1' }) as unknown as { toJS(): unknown }[];
      return { file, text, objects: objects.map((d) => d.toJS() as Record<string, unknown>).filter((o) => o !== null) };
    });
}

/** The text of an example without its leading comment header. */
export function withoutHeader(text: string): string {
  return text.replace(/^(#.*\n)+/, '');
}
