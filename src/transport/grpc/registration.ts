/**
 * Handlers are registered under the names the generated service definition gives them: each one
 * is made for its method, and the name it is logged and counted under is read from the
 * definition's path. No handler spells its own name, so a renamed RPC cannot leave one stale: its
 * new key is missing from the handlers and the build fails.
 */

/** `/wbem.v1.WbemServices/PutClass` → `PutClass`: the method as the access log and metrics name it. */
export function methodNameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** For each method of a service, how to make its handler once its name is known. */
export type HandlerFactories<Handlers> = {
  readonly [K in keyof Handlers]: (method: string) => Handlers[K];
};

/** Each method's handler, made with the name taken from that method's path in `definition`. */
export function namedHandlers<Handlers extends object>(
  definition: { readonly [K in keyof Handlers]: { readonly path: string } },
  factories: HandlerFactories<Handlers>,
): Handlers {
  const handlers = {} as Handlers;
  for (const key of Object.keys(factories) as (keyof Handlers)[])
    handlers[key] = factories[key](methodNameOf(definition[key].path));
  return handlers;
}
