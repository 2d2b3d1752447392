import type { ClassDefinition, CimValue, PropertyDef } from '../../src/domain/class-model';
import { checkDefinitionSyntax } from '../../src/domain/class-rules';
import { checkObjectNesting, CLASS_LIMITS, MAX_OBJECT_NESTING } from '../../src/domain/limits';
import { WbemError } from '../../src/domain/wbem-status';
import { thrown } from '../helpers/expect-thrown';

const prop = (
  name: string,
  value: CimValue | null = null,
  type = 8,
  array = false,
): PropertyDef => ({
  name,
  type,
  array,
  value,
  qualifiers: [],
  referenceClass: '',
  embeddedClass: '',
});
const cls = (extra: Partial<ClassDefinition>): ClassDefinition => ({
  name: 'Ex_Big',
  superclass: '',
  qualifiers: [],
  properties: [],
  methods: [],
  ...extra,
});
const q = (i: number) => ({
  name: `Q${i}`,
  value: { kind: 'boolean' as const, value: true },
  flavor: 0,
});

test.each([
  [
    'qualifiers on the class',
    cls({
      qualifiers: Array.from({ length: CLASS_LIMITS.qualifiersPerElement + 1 }, (_, i) => q(i)),
    }),
    'more than 256 qualifiers',
  ],
  [
    'methods',
    cls({
      methods: Array.from({ length: CLASS_LIMITS.methods + 1 }, (_, i) => ({
        name: `M${i}`,
        returnType: 19,
        parameters: [],
        qualifiers: [],
      })),
    }),
    'more than 1024 methods',
  ],
  [
    'a string default',
    cls({
      properties: [prop('S', { kind: 'string', value: 'x'.repeat(CLASS_LIMITS.stringLength + 1) })],
    }),
    'more than 1048576 characters in a string value',
  ],
  [
    'an array default',
    cls({
      properties: [
        prop(
          'A',
          {
            kind: 'array',
            value: Array.from({ length: CLASS_LIMITS.arrayElements + 1 }, () => ({
              kind: 'uint' as const,
              value: 1n,
            })),
          },
          19,
          true,
        ),
      ],
    }),
    'more than 65536 array elements',
  ],
  [
    'a qualifier value',
    cls({
      qualifiers: [
        {
          name: 'Description',
          value: { kind: 'string', value: 'y'.repeat(CLASS_LIMITS.stringLength + 1) },
          flavor: 0,
        },
      ],
    }),
    'characters in a string value',
  ],
])('%s → WBEM_E_QUOTA_VIOLATION naming the limit', (_label, definition, message) => {
  const error = thrown(WbemError, () => checkDefinitionSyntax(definition));
  expect(error.status).toBe('WBEM_E_QUOTA_VIOLATION');
  expect(error.param).toContain(message);
});

test('at the limits, the definition passes', () => {
  expect(() =>
    checkDefinitionSyntax(
      cls({
        qualifiers: Array.from({ length: CLASS_LIMITS.qualifiersPerElement }, (_, i) => q(i)),
        properties: [prop('S', { kind: 'string', value: 'x'.repeat(CLASS_LIMITS.stringLength) })],
      }),
    ),
  ).not.toThrow();
});

test.each([4, 40])(
  'a member named twice (case aside) is refused in a class of %i properties',
  (count) => {
    const properties = Array.from({ length: count }, (_, i) => prop(`P${i}`));
    properties.push(prop(`p${count - 1}`));
    expect(thrown(WbemError, () => checkDefinitionSyntax(cls({ properties }))).param).toBe(
      `property p${count - 1} appears twice on Ex_Big`,
    );
    const clash = cls({
      properties: Array.from({ length: count }, (_, i) => prop(`P${i}`)),
      methods: [{ name: 'p0', returnType: 19, parameters: [], qualifiers: [] }],
    });
    expect(thrown(WbemError, () => checkDefinitionSyntax(clash)).param).toBe(
      'member p0 appears twice on Ex_Big',
    );
  },
);

describe('WBEM_MAX_OBJECT_NESTING', () => {
  test('64 levels of embedded objects are allowed, 65 are WBEM_E_INVALID_PARAMETER naming the limit', () => {
    expect(MAX_OBJECT_NESTING).toBe(64);
    expect(() => checkObjectNesting(64, 'the request')).not.toThrow();
    const error = thrown(WbemError, () => checkObjectNesting(65, 'the request'));
    expect([error.status, error.param]).toEqual([
      'WBEM_E_INVALID_PARAMETER',
      'the request: embedded objects nest deeper than 64',
    ]);
  });
});
