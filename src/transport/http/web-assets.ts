/**
 * The web class browser's files (web/ at the package root): plain HTML, CSS and one ES module,
 * read once at start and served on GET. Only the files found there are served, by exact name; the
 * page calls the Connect JSON endpoints of the same listener with fetch.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page may load and call only its own origin: no inline script, no third party. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** web/ from the sources (src/transport/http) and from the build (dist/src/transport/http). */
export function findWebRoot(): string | undefined {
  const candidates = [
    join(__dirname, '..', '..', '..', 'web'),
    join(__dirname, '..', '..', '..', '..', 'web'),
  ];
  return candidates.find((path) => existsSync(join(path, 'index.html')));
}

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

function loadAssets(root: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(root)) {
    const contentType = CONTENT_TYPES[extname(name)];
    const path = join(root, name);
    if (contentType === undefined || !statSync(path).isFile()) continue;
    assets.set(`/${name}`, { body: readFileSync(path), contentType });
  }
  const index = assets.get('/index.html');
  if (index !== undefined) assets.set('/', index);
  return assets;
}

/** The handler for every request Connect does not route: the page's files, else 404. */
export function webAssetsHandler(
  root: string | undefined,
): (request: IncomingMessage, response: ServerResponse) => void {
  const assets = root === undefined ? new Map<string, Asset>() : loadAssets(root);
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://wbemd').pathname;
    const asset = assets.get(path);
    if (asset === undefined || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(asset === undefined ? 404 : 405, {
        'content-type': 'text/plain; charset=utf-8',
        ...SECURITY_HEADERS,
      });
      response.end(asset === undefined ? 'not found\n' : 'method not allowed\n');
      return;
    }
    response.writeHead(200, {
      'content-type': asset.contentType,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      ...SECURITY_HEADERS,
    });
    response.end(request.method === 'HEAD' ? undefined : asset.body);
  };
}
