import { readdirSync, readFileSync } from 'node:fs';
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

  it('are copied unchanged into the Helm chart (charts/kubeskippy/crds; after `npm run generate`: cp config/crd/bases/*.yaml charts/kubeskippy/crds/)', () => {
    const dir = (d: string): URL => new URL(`../../../${d}/`, import.meta.url);
    const bases = readdirSync(dir('config/crd/bases')).sort();
    expect(readdirSync(dir('charts/kubeskippy/crds')).sort()).toEqual(bases);
    for (const file of bases) {
      expect(readFileSync(new URL(file, dir('charts/kubeskippy/crds')), 'utf8'), file).toBe(
        readFileSync(new URL(file, dir('config/crd/bases')), 'utf8'),
      );
    }
  });

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
