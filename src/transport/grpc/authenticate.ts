/**
 * Who is calling (docs/wmi-semantics.md §8 [I]: TLS and tokens stand in for Windows
 * authentication): a bearer token (`authorization: Bearer …`, stored as its SHA-256), else the
 * client certificate of an mTLS connection, else nobody. Authentication only: what the caller may
 * do is the service's AccessPolicy.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import type { Principal } from '../../domain/access';
import type { AnyCall } from './call-context';

export interface TokenEntry {
  /** Hex SHA-256 of the token; the token itself is never stored. */
  readonly sha256: string;
  readonly principal: string;
  readonly groups: readonly string[];
}

/** What a caller presented, whatever the transport: `peer` as grpc-js spells it (`127.0.0.1:5000`). */
export interface PresentedCredentials {
  readonly peer: string;
  /** The `authorization` header's value, when sent (grpc-js may hand a Buffer for a -bin key). */
  readonly authorization: string | Buffer | undefined;
  /** The client certificate of a TLS connection, when one was presented. */
  readonly certificate: PeerCertificate | undefined;
}

export type Authentication =
  | { readonly ok: true; readonly principal: Principal | undefined }
  | { readonly ok: false; readonly reason: string };

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** `127.0.0.1:5000`, `[::1]:5000`, `::ffff:127.0.0.1` (grpc-js spells peers without a scheme): this machine. */
export function isLocalPeer(peer: string): boolean {
  const address = peer.replace(/^(ipv4|ipv6):/, '');
  return (
    /^127\./.test(address) ||
    /^\[?::1\]?(:|$)/.test(address) ||
    /^\[?::ffff:127\./i.test(address) ||
    address.startsWith('unix:')
  );
}

export class Authenticator {
  #tokens: ReadonlyMap<string, TokenEntry>;

  constructor(
    tokens: readonly TokenEntry[],
    /** Calls must present a token or a client certificate (tokens configured, or mTLS required). */
    private readonly credentialsRequired: boolean,
  ) {
    this.#tokens = indexTokens(tokens);
  }

  /** SIGHUP: new tokens for calls from now on. */
  setTokens(tokens: readonly TokenEntry[]): void {
    this.#tokens = indexTokens(tokens);
  }

  authenticate(call: AnyCall): Authentication {
    const [authorization] = call.metadata.get('authorization');
    return this.authenticateCredentials({
      peer: call.getPeer(),
      authorization,
      certificate: call.getAuthContext().sslPeerCertificate,
    });
  }

  /** The same decision for any transport: the peer, its authorization header, its certificate. */
  authenticateCredentials(credentials: PresentedCredentials): Authentication {
    const { authorization, certificate } = credentials;
    // Only a principal records it: an anonymous call (every call when no credentials are
    // configured) does not pay for the peer's pattern match.
    const local = (): boolean => isLocalPeer(credentials.peer);
    if (authorization !== undefined) {
      const match =
        typeof authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(authorization.trim()) : null;
      if (match === null)
        return { ok: false, reason: 'the authorization header is not "Bearer <token>"' };
      const entry = this.#lookup(match[1] as string);
      if (entry === undefined) return { ok: false, reason: 'the bearer token is not valid' };
      return {
        ok: true,
        principal: { name: entry.principal, groups: entry.groups, local: local() },
      };
    }
    if (certificate !== undefined && Object.keys(certificate).length > 0) {
      const cn: string | string[] | undefined = certificate.subject?.CN;
      const name =
        (Array.isArray(cn) ? cn[0] : cn) ?? firstSubjectAltName(certificate.subjectaltname);
      if (name === undefined)
        return { ok: false, reason: 'the client certificate names no subject' };
      return { ok: true, principal: { name, groups: [], local: local() } };
    }
    if (this.credentialsRequired)
      return {
        ok: false,
        reason: 'no credentials: send "authorization: Bearer <token>" or a client certificate',
      };
    return { ok: true, principal: undefined };
  }

  #lookup(token: string): TokenEntry | undefined {
    const digest = sha256Hex(token);
    const entry = this.#tokens.get(digest);
    // The map lookup already matched; the constant-time compare keeps the decision itself flat.
    return entry !== undefined &&
      timingSafeEqual(Buffer.from(entry.sha256, 'hex'), Buffer.from(digest, 'hex'))
      ? entry
      : undefined;
  }
}

function indexTokens(tokens: readonly TokenEntry[]): Map<string, TokenEntry> {
  return new Map(
    tokens.map((t) => [t.sha256.toLowerCase(), { ...t, sha256: t.sha256.toLowerCase() }]),
  );
}

/** `DNS:alice.example, URI:spiffe://…` → `alice.example`. */
function firstSubjectAltName(altNames: string | undefined): string | undefined {
  const first = altNames?.split(',')[0]?.trim();
  const colon = first?.indexOf(':') ?? -1;
  return first === undefined || colon < 0 ? undefined : first.slice(colon + 1);
}
