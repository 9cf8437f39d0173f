import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allCrds, crdFileName, renderCrdYaml } from './crd.js';

describe('generated CRDs', () => {
  it.each(allCrds().map((crd) => [crdFileName(crd), crd] as const))(
    'config/crd/bases/%s matches the schema in src/api (run `npm run generate` if not)',
    (file, crd) => {
      const onDisk = readFileSync(new URL(`../../../config/crd/bases/${file}`, import.meta.url), 'utf8');
      expect(onDisk).toBe(renderCrdYaml(crd));
    },
  );

  it('never uses schema constructs a structural CRD schema rejects', () => {
    const forbidden = ['const', 'oneOf', 'patternProperties', '$ref', '$id', 'not'];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`));
      if (node === null || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        expect(forbidden, `${path}.${k}`).not.toContain(k);
        walk(v, `${path}.${k}`);
      }
    };
    for (const crd of allCrds()) walk(crd.spec['versions'], crd.metadata.name);
  });
});
