/** `kubeskippy crds`: prints the CRDs (for `kubectl apply -f -`) or writes them as files (for config/crd/bases). */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { allCrds, crdFileName, renderCrdYaml } from '../api/v1alpha1/crd.js';

/** Renders every CRD; with `outDir`, writes one file each and returns their paths, else returns the YAML stream. */
export async function crdsCommand(outDir?: string): Promise<string[]> {
  const crds = allCrds();
  if (outDir === undefined) return [crds.map(renderCrdYaml).join('---\n')];
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const crd of crds) {
    const file = path.join(outDir, crdFileName(crd));
    await writeFile(file, renderCrdYaml(crd));
    written.push(file);
  }
  return written;
}
