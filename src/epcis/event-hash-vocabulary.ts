/**
 * What the pre-hash string takes from an EPCIS document's JSON-LD context (CBV 2.0 §8.9 rules
 * 15-16 and 19-20): the namespaces of its prefixes, which spell extension members as
 * {namespace}name, and the CBV web URIs that standard vocabulary written as bare strings
 * ("receiving", "in_transit", "Temperature") stands for.
 *
 * The reference implementation (RalphTro/epcis-event-hash-generator) finds those URIs by JSON-LD
 * expansion with GS1's EPCIS 2.0.0 context, then replaces every string of the document that
 * ends one of the expanded CBV or GS1 vocabulary URIs found (after "-" or "/") with that URI,
 * when exactly one matches. This module gets the same URIs from the terms the EPCIS context
 * defines, without a JSON-LD processor, and applies the same replacement.
 */

const CBV = 'https://ref.gs1.org/cbv/';
const GS1_VOC = 'https://gs1.org/voc/';

const words = (text: string) => text.trim().split(/\s+/);

/** The vocabulary terms of GS1's EPCIS 2.0.0 JSON-LD context, with the URI each term stands for. */
const BIZ_STEP = words(`accepting arriving assembling collecting commissioning consigning creating_class_instance
  cycle_counting decommissioning departing destroying disassembling dispensing encoding entering_exiting holding
  inspecting installing killing loading other packing picking receiving removing repackaging repairing replacing
  reserving retail_selling sampling sensor_reporting shipping staging_outbound stock_taking stocking storing
  transporting unloading unpacking void_shipping`).map((term) => [term, `${CBV}BizStep-${term}`] as const);
const DISPOSITION = words(`active available completeness_inferred completeness_verified conformant container_closed
  container_open damaged destroyed dispensed disposed encoded expired in_progress in_transit inactive mismatch_class
  mismatch_instance mismatch_quantity needs_replacement no_pedigree_match non_conformant non_sellable_other
  partially_dispensed recalled reserved retail_sold returned sellable_accessible sellable_not_accessible stolen
  unavailable unknown`).map((term) => [term, `${CBV}Disp-${term}`] as const);
const SOURCE_DESTINATION_TYPE = words('location owning_party possessing_party').map(
  (term) => [term, `${CBV}SDT-${term}`] as const,
);
const BIZ_TRANSACTION_TYPE = words('bol cert desadv inv pedigree po poc prodorder recadv rma testprd testres upevt').map(
  (term) => [term, `${CBV}BTT-${term}`] as const,
);
const ERROR_REASON = words('did_not_occur incorrect_data').map((term) => [term, `${CBV}ER-${term}`] as const);
const MEASUREMENT_TYPE = words(`AbsoluteHumidity AbsorbedDose AbsorbedDoseRate Acceleration Altitude AmountOfSubstance
  AmountOfSubstancePerUnitVolume Angle AngularAcceleration AngularMomentum AngularVelocity Area Capacitance Conductance
  Conductivity Count Density Dimensionless DoseEquivalent DoseEquivalentRate DynamicViscosity ElectricCharge
  ElectricCurrent ElectricCurrentDensity ElectricFieldStrength Energy Exposure Force Frequency Illuminance Inductance
  Irradiance KinematicViscosity Length LinearMomentum Luminance LuminousFlux LuminousIntensity MagneticFlux
  MagneticFluxDensity MagneticVectorPotential Mass MassConcentration MassFlowRate MassPerAreaTime MemoryCapacity
  MolalityOfSolute MolarEnergy MolarMass MolarVolume Power Pressure RadiantFlux RadiantIntensity Radioactivity
  RelativeHumidity Resistance Resistivity SolidAngle SpecificVolume Speed SurfaceDensity SurfaceTension Temperature
  Time Torque Voltage Volume VolumeFlowRate VolumeFraction VolumetricFlux Wavenumber`).map(
  (term) => [term, `${GS1_VOC}${term}`] as const,
);
const SENSOR_ALERT = words('ALARM_CONDITION ERROR_CONDITION').map((term) => [term, `${GS1_VOC}${term}`] as const);
const COMPONENT = words(`altitude axial_distance azimuth easting elevation_angle height latitude longitude northing
  polar_angle spherical_radius x y z`).map((term) => [term, `${CBV}Comp-${term}`] as const);

type Vocabulary = ReadonlyMap<string, string>;

/** The prefixes GS1's EPCIS context defines, for values written as compact URIs (cbv:BizStep-…). */
const CONTEXT_PREFIXES: Readonly<Record<string, string>> = {
  epcis: 'https://ref.gs1.org/epcis/',
  cbv: CBV,
  cbvmda: 'urn:epcglobal:cbv:mda:',
  gs1: GS1_VOC,
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  owl: 'http://www.w3.org/2002/07/owl#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  dcterms: 'http://purl.org/dc/terms/',
};

/**
 * Where a vocabulary applies: the member name, and the vocabulary of its values, by the name
 * of the list the member sits in (a "type" means a different vocabulary in each).
 */
const VOCABULARY_OF: Readonly<Record<string, Vocabulary | Readonly<Record<string, Vocabulary>>>> = {
  bizStep: new Map(BIZ_STEP),
  disposition: new Map(DISPOSITION),
  set: { persistentDisposition: new Map(DISPOSITION) },
  unset: { persistentDisposition: new Map(DISPOSITION) },
  type: {
    sourceList: new Map(SOURCE_DESTINATION_TYPE),
    destinationList: new Map(SOURCE_DESTINATION_TYPE),
    bizTransactionList: new Map(BIZ_TRANSACTION_TYPE),
    sensorReport: new Map(MEASUREMENT_TYPE),
  },
  exception: { sensorReport: new Map(SENSOR_ALERT) },
  component: { sensorReport: new Map(COMPONENT) },
  reason: { errorDeclaration: new Map(ERROR_REASON) },
};

function vocabularyFor(member: string, enclosing: string | undefined): Vocabulary | undefined {
  const entry = VOCABULARY_OF[member];
  if (entry === undefined || entry instanceof Map) return entry;
  return enclosing === undefined ? undefined : (entry as Readonly<Record<string, Vocabulary>>)[enclosing];
}

const isVocabularyUri = (uri: string) => uri.startsWith('https://ref.gs1.org/cbv') || uri.startsWith('https://gs1.org/voc');

function expandTerm(value: string, vocabulary: Vocabulary, prefixes: Readonly<Record<string, string>>): string {
  const term = vocabulary.get(value);
  if (term !== undefined) return term;
  const colon = value.indexOf(':');
  const namespace = colon > 0 ? prefixes[value.slice(0, colon)] : undefined;
  return namespace === undefined ? value : namespace + value.slice(colon + 1);
}

/**
 * The CBV and GS1 vocabulary URIs a document's values stand for: its vocabulary terms expanded,
 * and any such URI it writes out in full.
 */
export function vocabularyUrisOf(document: unknown, documentPrefixes: ReadonlyMap<string, string>): Set<string> {
  const prefixes = { ...CONTEXT_PREFIXES, ...Object.fromEntries(documentPrefixes) };
  const found = new Set<string>();
  const visit = (value: unknown, member: string | undefined, enclosing: string | undefined): void => {
    if (typeof value === 'string') {
      const vocabulary = member === undefined ? undefined : vocabularyFor(member, enclosing);
      const expanded = vocabulary === undefined ? value : expandTerm(value, vocabulary, prefixes);
      if (isVocabularyUri(expanded)) found.add(expanded);
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item, member, enclosing);
    } else if (typeof value === 'object' && value !== null) {
      // Inside a list, the list's name says which vocabulary a "type" draws from.
      const scope =
        member !== undefined &&
        (member.endsWith('List') || ['sensorReport', 'persistentDisposition', 'errorDeclaration'].includes(member))
          ? member
          : enclosing;
      for (const [key, item] of Object.entries(value)) visit(item, key, scope);
    }
  };
  visit(document, undefined, undefined);
  return found;
}

/**
 * Every string value of the document that one vocabulary URI, and only one, ends with (after
 * "-" or "/") becomes that URI: "receiving" is https://ref.gs1.org/cbv/BizStep-receiving.
 */
export function expandBareVocabulary(value: unknown, vocabularyUris: ReadonlySet<string>): unknown {
  if (typeof value === 'string') {
    const matches = [...vocabularyUris].filter((uri) => uri.endsWith(`-${value}`) || uri.endsWith(`/${value}`));
    return matches.length === 1 ? matches[0] : value;
  }
  if (Array.isArray(value)) return value.map((item) => expandBareVocabulary(item, vocabularyUris));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandBareVocabulary(item, vocabularyUris)]));
  }
  return value;
}

/**
 * The prefixes a document's @context list declares ({"example": "https://ns.example.com/epcis/"}),
 * as the reference reads them: from the objects of a context list only.
 */
export function documentPrefixes(document: unknown): Map<string, string> {
  const prefixes = new Map<string, string>();
  const context =
    typeof document === 'object' && document !== null ? (document as Record<string, unknown>)['@context'] : undefined;
  if (!Array.isArray(context)) return prefixes;
  for (const entry of context) {
    if (typeof entry !== 'object' || entry === null) continue;
    for (const [prefix, namespace] of Object.entries(entry as Record<string, unknown>)) {
      if (typeof namespace === 'string') prefixes.set(prefix, namespace);
    }
  }
  return prefixes;
}
