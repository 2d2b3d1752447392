// The Connect protocol in JSON over fetch, as the page speaks it to wbemd's HTTP listener: unary
// calls are one POST of the request's JSON; server streams are enveloped JSON messages ending with
// an end-of-stream message that carries the error, if any, and the WBEM status metadata.

const SERVICE = 'wbem.v1.WbemServices';

/** A failed call: the Connect code and message, and the WBEM status from its ErrorInfo detail. */
export class RpcError extends Error {
  constructor(code, message, details, metadata = {}) {
    super(message);
    this.code = code;
    const info = (details ?? []).find((d) => d.type === 'google.rpc.ErrorInfo')?.debug;
    this.wbemStatus = info?.reason ?? first(metadata['wbem-status']) ?? '';
    this.hresult = info?.metadata?.hresult ?? first(metadata['wbem-hresult']) ?? '';
  }

  /** `WBEM_E_NOT_FOUND (0x80041002) not_found: class X does not exist in root\cimv2` */
  describe() {
    const status = this.wbemStatus === '' ? '' : `${this.wbemStatus} (${this.hresult}) `;
    return `${status}${this.code}: ${this.message}`;
  }
}

function first(value) {
  return Array.isArray(value) ? value[0] : value;
}

let token = '';

/** The bearer token sent with every call from now on ('' = none). */
export function setToken(value) {
  token = value.trim();
}

function headers(contentType) {
  const all = { 'content-type': contentType, 'connect-protocol-version': '1' };
  if (token !== '') all.authorization = `Bearer ${token}`;
  return all;
}

/** A unary call; resolves with the response's JSON, rejects with an RpcError. */
export async function unary(method, request) {
  const response = await fetch(`/${SERVICE}/${method}`, {
    method: 'POST',
    headers: headers('application/json'),
    body: JSON.stringify(request),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new RpcError(body.code ?? `http ${response.status}`, body.message ?? '', body.details, {
      'wbem-status': response.headers.get('wbem-status') ?? undefined,
      'wbem-hresult': response.headers.get('wbem-hresult') ?? undefined,
    });
  }
  return body;
}

function envelope(json) {
  const payload = new TextEncoder().encode(JSON.stringify(json));
  const framed = new Uint8Array(5 + payload.length);
  new DataView(framed.buffer).setUint32(1, payload.length);
  framed.set(payload, 5);
  return framed;
}

function concat(a, b) {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/**
 * A server stream: `onMessage` gets each message as it arrives; resolves once the stream ended
 * well, rejects with an RpcError when it ended with one. `signal` cancels it.
 */
export async function serverStream(method, request, onMessage, signal) {
  const response = await fetch(`/${SERVICE}/${method}`, {
    method: 'POST',
    headers: headers('application/connect+json'),
    body: envelope(request),
    signal,
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new RpcError(body.code ?? `http ${response.status}`, body.message ?? '', body.details);
  }
  const reader = response.body.getReader();
  let buffered = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new RpcError('unavailable', 'the stream ended without its end message', []);
    buffered = concat(buffered, value);
    while (buffered.length >= 5) {
      const length = new DataView(buffered.buffer, buffered.byteOffset + 1, 4).getUint32(0);
      if (buffered.length < 5 + length) break;
      const flags = buffered[0];
      const json = JSON.parse(new TextDecoder().decode(buffered.subarray(5, 5 + length)));
      buffered = buffered.slice(5 + length);
      if ((flags & 0x02) === 0) {
        onMessage(json);
        continue;
      }
      if (json.error !== undefined) {
        const { code, message, details } = json.error;
        throw new RpcError(code, message ?? '', details, json.metadata ?? {});
      }
      return json.metadata ?? {};
    }
  }
}
