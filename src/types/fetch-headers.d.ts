// @connectrpc/connect's declarations name the Fetch API's HeadersInit, which @types/node 20 uses
// but does not declare globally (lib "dom" would bring the whole browser in for one type).
import type { HeadersInit as FetchHeadersInit } from 'undici-types';

declare global {
  type HeadersInit = FetchHeadersInit;
}
