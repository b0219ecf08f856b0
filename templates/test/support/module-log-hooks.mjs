// Module hooks of module-log.mjs (they run on the loader's own thread): each
// resolved URL is posted back to the main thread.
let port;

export function initialize(data) {
  port = data.port;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  port.postMessage(result.url);
  return result;
}
