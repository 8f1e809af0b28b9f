// ES module resolution hooks: a bare specifier that Node's own resolution cannot find is
// looked up in the node_modules directories of NODE_PATH too, as AWS's Node.js runtimes do
// (since nodejs18.x), so that `import ... from '@aws-sdk/client-s3'` finds the runtime's SDK
// and packages in layers (/opt/nodejs/node_modules). Node itself reads NODE_PATH for
// require() only. Registered by index.mjs before it imports an ES module handler.

import path from 'node:path';
import { pathToFileURL } from 'node:url';

let parents = [];

export async function initialize(data) {
  // Resolving "from a file beside node_modules/" searches that node_modules/ first.
  parents = String(data?.nodePath ?? '')
    .split(':')
    .filter((dir) => dir.endsWith('/node_modules'))
    .map((dir) => pathToFileURL(path.join(path.dirname(dir), '_')).href);
}

function bare(specifier) {
  return !/^(\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier);
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !bare(specifier)) throw error;
    for (const parentURL of parents) {
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch {
        // not in this one
      }
    }
    throw error;
  }
}
