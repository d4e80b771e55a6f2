#!/usr/bin/env node
// Launcher for the wasmface CLI: the bundled build when installed from npm (dist/), the TypeScript
// sources through tsx in a checkout.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
if (existsSync(dist)) {
  await import(pathToFileURL(dist).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../js/cli/wasmface.ts');
}
