// Lamina's Node.js runtime client: what AWS's /var/runtime/index.mjs does, in one file of
// Node built-ins. It loads the function's handler (_HANDLER) from LAMBDA_TASK_ROOT, then
// loops over the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API): GET .../invocation/next, run
// the handler, POST .../response or .../error. Formats follow AWS's runtime (the
// aws-lambda-nodejs-runtime-interface-client): console lines, error documents, the context.
//
// Lamina mounts this directory at /var/runtime, so error messages and stacks name
// /var/runtime/index.mjs as AWS's do, and the SDK is at /var/runtime/node_modules.
//
// A pooled process (_LAMINA_POOL=1) starts before any function is known: it loads this
// module, then asks the engine for its function (GET /_lamina/assign on the same API),
// takes its environment and drops to the sandbox's uid, and only then runs the user's
// init. See nodejs.py.
//
// Response streaming as AWS's runtime offers it: `awslambda.streamifyResponse(handler)` marks
// a handler `(event, responseStream, context)`, whose stream is a POST of .../response in
// `Lambda-Runtime-Function-Response-Mode: streaming` (chunked, each write sent as it is
// made; a failure in the trailers Lambda-Runtime-Function-Error-Type/-Body), and
// `awslambda.HttpResponseStream.from(stream, metadata)` puts a function URL's status,
// headers and cookies in front of the body (JSON, then 8 NUL bytes).

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import util from 'node:util';

const require = createRequire(import.meta.url);
const PREFIX = '/2018-06-01/runtime';

// --- errors, named and shaped as AWS's runtime names and shapes them ---------------------

class ExtendedError extends Error {
  constructor(reason) {
    super(reason);
  }
}
class ImportModuleError extends ExtendedError {}
class HandlerNotFound extends ExtendedError {}
class MalformedHandlerName extends ExtendedError {}
class UserCodeSyntaxError extends ExtendedError {}
class UnhandledPromiseRejection extends ExtendedError {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const kind of [ImportModuleError, HandlerNotFound, MalformedHandlerName, UserCodeSyntaxError, UnhandledPromiseRejection]) {
  kind.prototype.name = `Runtime.${kind.name}`;
}

function isError(value) {
  return util.types.isNativeError(value) || (value && typeof value === 'object' && typeof value.name === 'string' && typeof value.message === 'string');
}

// The document posted to /error (and so the Invoke payload): errorType, errorMessage, trace.
function toRapidResponse(error) {
  try {
    if (isError(error)) {
      return {
        errorType: error.name?.replace(/\x7F/g, '%7F'),
        errorMessage: error.message?.replace(/\x7F/g, '%7F'),
        trace: String(error.stack ?? '').replace(/\x7F/g, '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

// The error as the log shows it: "\t" + JSON with the error's own properties and its stack.
function toFormatted(error) {
  const withProperties = (_key, value) => {
    if (!(value instanceof Error)) return value;
    const shown = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
    if (typeof value.stack === 'string') shown.stack = value.stack.split('\n');
    return shown;
  };
  try {
    return '\t' + JSON.stringify(error, withProperties);
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

// --- console: "<ISO time>\t<request id>\t<LEVEL>\t<message>", newlines as \r -------------

let currentRequestId; // undefined during init, as on AWS
function logLine(level, message, ...params) {
  const line = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(message, ...params)}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}
function patchConsole() {
  console.trace = (m, ...p) => logLine('TRACE', m, ...p);
  console.debug = (m, ...p) => logLine('DEBUG', m, ...p);
  console.info = (m, ...p) => logLine('INFO', m, ...p);
  console.log = (m, ...p) => logLine('INFO', m, ...p);
  console.warn = (m, ...p) => logLine('WARN', m, ...p);
  console.error = (m, ...p) => logLine('ERROR', m, ...p);
  console.fatal = (m, ...p) => logLine('FATAL', m, ...p);
}

// --- the Runtime API ---------------------------------------------------------------------

// One keep-alive connection, spoken to directly: the API always answers with a
// Content-Length, and node's http client cost a warm invoke more than the handler did (AWS's
// runtime uses a native client for the same reason). The socket holds the event loop only
// while a request is out, so that an empty loop still tells a callback handler it is done.
const runtimeApi = {
  socket: null,
  buffer: Buffer.alloc(0),
  pending: null,
  connect() {
    const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
    const socket = net.connect({ host, port: Number(port) });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.received(chunk));
    const lost = (error) => {
      if (this.socket === socket) this.socket = null;
      this.buffer = Buffer.alloc(0);
      const pending = this.pending;
      this.pending = null;
      pending?.reject(error ?? new Error('the Runtime API closed the connection'));
    };
    socket.on('error', lost);
    socket.on('close', () => lost());
    this.socket = socket;
  },
  request(method, urlPath, body, headers) {
    if (this.socket === null) this.connect();
    this.socket.ref();
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      let head = `${method} ${urlPath} HTTP/1.1\r\nHost: ${process.env.AWS_LAMBDA_RUNTIME_API}\r\n`;
      for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
      head += `Content-Length: ${body ? body.length : 0}\r\n\r\n`;
      this.socket.write(body && body.length ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : head, 'latin1');
    });
  },
  received(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = this.buffer.toString('latin1', 0, end).split('\r\n');
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] || 0);
    if (this.buffer.length < end + 4 + length) return;
    const body = this.buffer.subarray(end + 4, end + 4 + length);
    this.buffer = this.buffer.subarray(end + 4 + length);
    const pending = this.pending;
    this.pending = null;
    this.socket?.unref();
    pending?.resolve({ status: Number(lines[0].split(' ')[1]), headers, body });
  },
};
function call(method, urlPath, body, headers = {}) {
  return runtimeApi.request(method, urlPath, typeof body === 'string' ? Buffer.from(body) : body, headers);
}
function post(urlPath, document, headers = {}) {
  const body = Buffer.from(document);
  return call('POST', urlPath, body, { 'Content-Type': 'application/json', ...headers });
}
function postError(urlPath, error) {
  const document = toRapidResponse(error);
  const type = String(document.errorType ?? 'Runtime.Unknown').replace(/[^\x20-\x7e]/g, '');
  return post(urlPath, JSON.stringify(document), { 'Lambda-Runtime-Function-Error-Type': type });
}

// --- response streaming (AWS's ResponseStream, HttpResponseStream, streamifyResponse) -------

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';
const HTTP_INTEGRATION_TYPE = 'application/vnd.awslambda.http-integration-response';

class InvalidStreamingOperation extends ExtendedError {}
InvalidStreamingOperation.prototype.name = 'Runtime.InvalidStreamingOperation';

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION_TYPE);
    const metadata = JSON.stringify(prelude); // JSON: it can hold no NUL byte
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

globalThis.awslambda = {
  streamifyResponse(handler, options) {
    handler[HANDLER_STREAMING] = STREAM_RESPONSE;
    if (options?.highWaterMark) handler[HANDLER_HIGHWATERMARK] = Number(options.highWaterMark);
    return handler;
  },
  HttpResponseStream,
};

// The response stream handed to a streaming handler: node's own chunked request to the
// Runtime API, with AWS's setContentType and first-write hook. `done` settles once the
// Runtime API has answered the POST (after end()).
function responseStream(requestId, highWaterMark) {
  const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
  const request = http.request({
    host,
    port: Number(port),
    method: 'POST',
    path: `${PREFIX}/invocation/${requestId}/response`,
    agent: new http.Agent({ keepAlive: false }),
    highWaterMark,
    headers: {
      'Lambda-Runtime-Function-Response-Mode': 'streaming',
      'Transfer-Encoding': 'chunked',
      Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
      'Content-Type': 'application/octet-stream',
    },
  });
  const done = new Promise((resolve, reject) => {
    request.on('response', (response) => {
      response.resume();
      response.on('end', resolve);
    });
    request.on('error', reject);
  });
  let written = false;
  request.setContentType = (type) => {
    if (written) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    request.setHeader('Content-Type', type);
  };
  const write = request.write.bind(request);
  request.write = function (chunk, encoding, callback) {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && chunk?.constructor !== Uint8Array) {
      chunk = JSON.stringify(chunk);
    }
    if (!written && typeof this._onBeforeFirstWrite === 'function') this._onBeforeFirstWrite((c) => write(c));
    written = true;
    return write(chunk, encoding, callback);
  };
  const end = request.end.bind(request);
  request.end = function (chunk, encoding, callback) {
    if (typeof chunk === 'function') return end(chunk);
    if (chunk !== undefined && chunk !== null) this.write(chunk, encoding);
    else if (!written && typeof this._onBeforeFirstWrite === 'function') {
      this._onBeforeFirstWrite((c) => write(c));
      written = true;
    }
    return end(callback);
  };
  // A failure ends the stream with AWS's trailers (base64 of the error document).
  const fail = (error) => {
    const document = toRapidResponse(error);
    if (!request.writableEnded) {
      request.addTrailers({
        'Lambda-Runtime-Function-Error-Type': String(document.errorType ?? 'Runtime.Unknown').replace(/[^\x20-\x7e]/g, ''),
        'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(document)).toString('base64'),
      });
      end();
    }
  };
  return { request, done, fail };
}

async function handleStreaming(handler, event, context) {
  const { request, done, fail } = responseStream(context.awsRequestId, handler[HANDLER_HIGHWATERMARK]);
  const failed = (error) => {
    console.error('Invoke Error', toFormatted(error));
    fail(error);
  };
  try {
    const result = handler(event, request, context);
    if (!result || typeof result.then !== 'function') {
      failed(new InvalidStreamingOperation('Streaming does not support non-async handlers.'));
    } else {
      const value = await result;
      if (value !== undefined) console.warn('Streaming handlers ignore return values.');
      if (!request.writableEnded) failed(new InvalidStreamingOperation('Response stream is not finished.'));
    }
  } catch (error) {
    failed(error);
  }
  await done.catch(() => {});
}

// --- loading the handler (AWS's UserFunction.load) -----------------------------------------

function packageTypeIsModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const manifest = path.join(folder, 'package.json');
  if (fs.existsSync(manifest)) {
    try {
      return JSON.parse(fs.readFileSync(manifest, 'utf8'))?.type === 'module';
    } catch (error) {
      console.warn(`${manifest} cannot be read, it will be ignored for ES module detection purposes.`, error);
      return false;
    }
  }
  return folder === '/' ? false : packageTypeIsModule(path.resolve(folder, '..'));
}

async function tryRequire(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}
// ES modules resolve bare specifiers through NODE_PATH too, as on AWS: Node's hooks for that
// run on a thread of their own, whose start costs ~50 ms, so only once an ES module is loaded
// (or ahead of time, in a pooled process).
let hooked = false;
function hookNodePath() {
  if (hooked || typeof Module.register !== 'function') return;
  hooked = true;
  Module.register(new URL('./node-path-hooks.mjs', import.meta.url), { data: { nodePath: process.env.NODE_PATH } });
}

async function tryImport(file) {
  if (!fs.existsSync(file)) return undefined;
  hookNodePath();
  return await import(pathToFileURL(file).href);
}

async function loadModule(appRoot, moduleRoot, name) {
  const base = path.resolve(appRoot, moduleRoot, name);
  const extensionless = await tryRequire(base);
  if (extensionless) return extensionless;
  const esm = fs.existsSync(base + '.js') && packageTypeIsModule(path.dirname(base + '.js'));
  if (!esm) {
    const loaded = await tryRequire(base + '.js');
    if (loaded) return loaded;
  }
  const loaded = (esm && (await tryImport(base + '.js'))) || (await tryImport(base + '.mjs')) || (await tryRequire(base + '.cjs'));
  if (loaded) return loaded;
  // A module name (a package in node_modules), resolved from the code, not from here.
  return require(require.resolve(name, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const moduleAndHandler = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(moduleAndHandler));
  const match = moduleAndHandler.match(/^([^.]*)\.(.*)$/);
  if (!match) throw new MalformedHandlerName('Bad handler');
  const [, name, handlerPath] = match;
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, name);
  } catch (error) {
    if (error instanceof SyntaxError) throw new UserCodeSyntaxError(error);
    if (error?.code === 'MODULE_NOT_FOUND' || error?.code === 'ERR_MODULE_NOT_FOUND') throw new ImportModuleError(error);
    throw error;
  }
  const handler = handlerPath.split('.').reduce((nested, key) => nested && nested[key], app);
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return handler;
}

// --- running invocations (AWS's Runtime, CallbackContext, InvokeContext) -------------------

// Called when the event loop runs empty: a callback handler's answer waits for it
// (callbackWaitsForEmptyEventLoop), and a handler that never answered answers null.
let onEmptyLoop = null;
process.on('beforeExit', () => {
  const listener = onEmptyLoop;
  onEmptyLoop = null;
  if (listener) listener();
});

// What an uncaught exception or unhandled rejection does: fail init, or the invocation.
let failWith = (error, code) => postError(`${PREFIX}/init/error`, error).finally(() => process.exit(code));

function parseJson(text, what) {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`Cannot parse ${what} as json: ${text}`);
  }
}

async function handleOnce(handler) {
  const next = await call('GET', `${PREFIX}/invocation/next`);
  const headers = next.headers;
  const requestId = headers['lambda-runtime-aws-request-id'];
  currentRequestId = requestId;
  if (headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = headers['lambda-runtime-trace-id'];
  else delete process.env._X_AMZN_TRACE_ID;
  const base = `${PREFIX}/invocation/${requestId}`;
  failWith = (error, code) => postError(`${base}/error`, error).finally(() => process.exit(code));

  return new Promise((finished) => {
    let reported = false;
    const complete = (result) => {
      if (reported) {
        console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
        return;
      }
      reported = true;
      let body;
      try {
        body = JSON.stringify(result === undefined ? null : result);
      } catch (error) {
        post(`${base}/error`, JSON.stringify(toRapidResponse(error))).finally(finished);
        return;
      }
      post(`${base}/response`, body).then(finished, finished);
    };
    const fail = (error) => {
      if (reported) return;
      reported = true;
      console.error('Invoke Error', toFormatted(error));
      postError(`${base}/error`, error).then(finished, finished);
    };
    let waitForEmptyEventLoop = true;
    const done = (error, result) => {
      onEmptyLoop = null;
      if (error !== undefined && error !== null) fail(error);
      else complete(result);
    };
    const callback = (error, result) => {
      onEmptyLoop = null;
      if (error !== undefined && error !== null) fail(error);
      else if (!waitForEmptyEventLoop) complete(result);
      else onEmptyLoop = () => setImmediate(() => complete(result));
    };
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
      succeed: (result) => done(null, result),
      fail: (error) => done(error === undefined || error === null ? 'handled' : error, null),
      done,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: undefined,
      identity: undefined,
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: requestId,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    if (handler[HANDLER_STREAMING] === STREAM_RESPONSE) {
      onEmptyLoop = null;
      let event;
      try {
        context.clientContext = parseJson(headers['lambda-runtime-client-context'], 'ClientContext');
        event = parseJson(next.body.toString('utf8') || 'null', 'event');
      } catch (error) {
        fail(error);
        return;
      }
      reported = true;
      handleStreaming(handler, event, context).then(finished, finished);
      return;
    }
    onEmptyLoop = () => complete(null); // the handler never answered: null, once the loop is empty
    try {
      context.clientContext = parseJson(headers['lambda-runtime-client-context'], 'ClientContext');
      context.identity = parseJson(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity');
      const result = handler(parseJson(next.body.toString('utf8') || 'null', 'event'), context, callback);
      if (result && typeof result.then === 'function') {
        result.then(context.succeed, context.fail);
      }
    } catch (error) {
      callback(error);
    }
  });
}

// --- the pool: wait for a function, become its sandbox -------------------------------------

async function assigned() {
  const answer = await call('GET', '/_lamina/assign');
  if (answer.status !== 200) process.exit(0); // the engine retired this process unused
  const { env, uid, gid, cwd } = JSON.parse(answer.body.toString('utf8'));
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, env);
  Module._initPaths(); // NODE_PATH is read at start-up: read it again, now that it is the function's
  process.chdir(cwd); // /var/task was mounted over the placeholder we started in
  if (gid !== null && gid !== undefined) {
    process.setgroups([]);
    process.setgid(gid);
  }
  if (uid !== null && uid !== undefined) process.setuid(uid);
}

// --- main --------------------------------------------------------------------------------

async function main() {
  if (process.env._LAMINA_POOL) {
    hookNodePath(); // its NODE_PATH is the one every function of this runtime gets
    await assigned();
  }
  patchConsole();
  process.on('uncaughtException', (error) => {
    console.error('Uncaught Exception', toFormatted(error));
    failWith(error, 129);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason?.toString(), promise);
    console.error('Unhandled Promise Rejection', toFormatted(error));
    failWith(error, 128);
  });
  const handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER || '');
  for (;;) await handleOnce(handler);
}

main().catch((error) => {
  console.error('Uncaught Exception', toFormatted(error));
  failWith(error, 129);
});
