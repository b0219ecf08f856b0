import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A registry on a loopback port that serves the given package tarballs the
 * way the npm registry does (a packument per name, then the tarball), so
 * `npm pack name@version` runs for real without the network.
 */
export async function serveRegistry(packages: Array<{ name: string; version: string; tarball: string }>) {
  const tarballs = new Map<string, Buffer>();
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const url = decodeURIComponent(request.url ?? '/');
    requests.push(url);
    const tarball = tarballs.get(url);
    if (tarball) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball);
      return;
    }
    const name = url.slice(1);
    const versions = packages.filter((entry) => entry.name === name);
    if (versions.length === 0) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      return;
    }
    const packument = {
      name,
      'dist-tags': { latest: versions.at(-1)!.version },
      versions: Object.fromEntries(
        versions.map((entry) => {
          const data = tarballs.get(tarballPath(entry.name, entry.version))!;
          return [
            entry.version,
            {
              name,
              version: entry.version,
              dist: {
                tarball: `${baseUrl}${tarballPath(entry.name, entry.version)}`,
                shasum: createHash('sha1').update(data).digest('hex'),
                integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
              },
            },
          ];
        }),
      ),
    };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument));
  });
  for (const entry of packages) tarballs.set(tarballPath(entry.name, entry.version), await readFile(entry.tarball));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${baseUrl}/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function tarballPath(name: string, version: string): string {
  return `/${name}/-/${name}-${version}.tgz`;
}
