// playwright-core's declarations name four DOM types. The tests type-check without lib "dom" (they
// run in Node) and hand the page only selectors and strings, so opaque stand-ins are enough; lib
// "dom" itself would clash with src/types/fetch-headers.d.ts and retype fetch for every test.
/* eslint-disable @typescript-eslint/no-empty-object-type */
interface Node {}
interface HTMLElement extends Node {}
interface SVGElement extends Node {}
interface HTMLElementTagNameMap {}
