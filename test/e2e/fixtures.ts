import {
  CimType,
  type ClassObject,
  type Property,
  type Qualifier,
} from '../../generated/wbem/v1/cim';

export const SEND_STATUS = 0x80;
export const CREATE_ONLY = 0x2;
export const UPDATE_ONLY = 0x1;
export const SAFE = 0x20;

export const q = (
  name: string,
  value: Qualifier['value'] = { kind: { $case: 'boolean', boolean: true } },
  flavor = 0,
): Qualifier => ({
  name,
  value,
  flavor,
  propagated: false,
});

export const p = (
  name: string,
  type: CimType = CimType.CIM_STRING,
  extra: Partial<Property> = {},
): Property => ({
  name,
  type,
  array: false,
  qualifiers: [],
  referenceClass: '',
  embeddedClass: '',
  classOrigin: '',
  propagated: false,
  ...extra,
});

export const cls = (
  className: string,
  superclass = '',
  properties: Property[] = [],
  extra: Partial<ClassObject> = {},
): ClassObject => ({
  className,
  superclass,
  qualifiers: [],
  properties,
  methods: [],
  ...extra,
});

export const keyed = (name: string, superclass = ''): ClassObject =>
  cls(name, superclass, [p('Id', CimType.CIM_STRING, { qualifiers: [q('Key')] })]);
