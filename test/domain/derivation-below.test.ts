import type { ClassDefinition } from '../../src/domain/class-model';
import {
  deriveClass,
  derivationBelow,
  derivationNames,
  extendsDerivation,
} from '../../src/domain/resolve-class';

const definition = (name: string, superclass = ''): ClassDefinition => ({
  name,
  superclass,
  qualifiers: [],
  properties: [],
  methods: [],
});

describe('derivationBelow: one __DERIVATION list per parent', () => {
  test("siblings, and a subclass's event, share their parent's list; it is the parent's name and list", () => {
    const root = deriveClass(undefined, definition('Ex_Root'));
    const middle = deriveClass(root, definition('Ex_Middle', 'Ex_Root'));
    const below = derivationBelow(middle);
    expect(derivationNames(below)).toEqual(['Ex_Middle', 'Ex_Root']);
    // A link to the parent: no names copied until read.
    expect(below).toMatchObject({ below: middle, length: 2 });
    const first = deriveClass(middle, definition('Ex_A', 'Ex_Middle'));
    const second = deriveClass(middle, definition('Ex_B', 'Ex_Middle'));
    // The same list, made once: a chain compiled at once holds one list per class, not two.
    expect(first.derivation).toBe(below);
    expect(second.derivation).toBe(below);
    expect(derivationBelow(middle)).toBe(below);
    // A parent resolved again (a new object) gets a list of its own, equal to the first.
    const again = deriveClass(root, definition('Ex_Middle', 'Ex_Root'));
    expect(derivationBelow(again)).not.toBe(below);
    expect(derivationNames(derivationBelow(again))).toEqual(derivationNames(below));
    expect(extendsDerivation(below, 'Ex_Middle', middle.derivation)).toBe(true);
    expect(extendsDerivation(below, 'Ex_Middle', ['Ex_Other'])).toBe(false);
  });
});
