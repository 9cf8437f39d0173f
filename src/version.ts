import { readFileSync } from 'node:fs';

/**
 * The version of KubeSkippy, read from package.json (one level above both src/ and dist/, so the same relative
 * path works from the sources and from the build).
 */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
