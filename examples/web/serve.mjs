// Serves the repository root over http://127.0.0.1:PORT for the browser demo (after npm run build):
//   node examples/web/serve.mjs [port]   then open http://127.0.0.1:8080/examples/web/
// getUserMedia needs a secure context: localhost/127.0.0.1 counts as one.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css' };
const allowed = ['examples/web/', 'dist/', 'models/'];

export function serve(port = 0) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '');
    const file = path.endsWith('/') || path === 'examples/web' ? join(path, 'index.html') : path;
    if (!allowed.some((a) => file.startsWith(a)) || file.includes('..')) { res.writeHead(404).end(); return; }
    try {
      const body = await readFile(join(root, file));
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serve(Number(process.argv[2] ?? 8080));
  console.log(`wasmface demo: http://127.0.0.1:${server.address().port}/examples/web/`);
}
