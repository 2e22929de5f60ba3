/**
 * Reading a compiled ARM template the way the policy tests need it: every resource, nested module deployments
 * included, with enough context to resolve the simple expressions Bicep emits (parameters, variables, string()).
 * Anything more dynamic (reference(), format() …) stays an expression string for the tests to match.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface ArmTemplate {
  readonly $schema?: string;
  readonly languageVersion?: string;
  readonly parameters?: Record<string, { type: string; defaultValue?: Json; metadata?: { description?: string } }>;
  readonly variables?: Record<string, Json>;
  /** An array (languageVersion 1.0) or an object keyed by symbolic name (2.0). */
  readonly resources: ArmResource[] | Record<string, ArmResource>;
  readonly outputs?: Record<string, { type: string; value: Json; metadata?: { description?: string } }>;
}

export interface ArmResource {
  readonly type: string;
  readonly name: string;
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly existing?: boolean;
  readonly condition?: Json;
  readonly scope?: string;
  /** Module deployments into another subscription / resource group. */
  readonly subscriptionId?: string;
  readonly resourceGroup?: string;
  readonly dependsOn?: string[];
  readonly sku?: JsonObject;
  readonly tags?: Json;
  readonly identity?: JsonObject;
  readonly properties?: JsonObject & {
    readonly template?: ArmTemplate;
    readonly parameters?: Record<string, { value?: Json }>;
  };
}

/** A resource plus the template it sits in and the module deployment that holds that template. */
export interface Located {
  readonly resource: ArmResource;
  readonly scope: TemplateScope;
}

export interface TemplateScope {
  readonly template: ArmTemplate;
  /** The Microsoft.Resources/deployments resource whose template this is; undefined at the root. */
  readonly deployment?: ArmResource;
  readonly parent?: TemplateScope;
  /** Module names from the root, e.g. ['functionApp']. */
  readonly path: readonly string[];
}

export function resourcesOf(template: ArmTemplate): ArmResource[] {
  return Array.isArray(template.resources) ? template.resources : Object.values(template.resources);
}

const DEPLOYMENTS = 'Microsoft.Resources/deployments';

/** Every resource of the template and of its nested module templates, depth first. */
export function allResources(template: ArmTemplate, scope: TemplateScope = { template, path: [] }): Located[] {
  return resourcesOf(template).flatMap((resource) => {
    const self: Located = { resource, scope };
    const nested = resource.type === DEPLOYMENTS ? resource.properties?.template : undefined;
    if (nested === undefined) return [self];
    const child: TemplateScope = {
      template: nested,
      deployment: resource,
      parent: scope,
      path: [...scope.path, resource.name],
    };
    return [self, ...allResources(nested, child)];
  });
}

export function ofType(template: ArmTemplate, type: string): Located[] {
  return allResources(template).filter(
    (l) => l.resource.type.toLowerCase() === type.toLowerCase() && l.resource.existing !== true,
  );
}

/** The one resource of a type; fails loudly when there are none or several. */
export function single(template: ArmTemplate, type: string): Located {
  const found = ofType(template, type);
  if (found.length !== 1) throw new Error(`Expected exactly one ${type}, found ${found.length}.`);
  return found[0] as Located;
}

/** The template of the module deployment with this name at the root. */
export function moduleScope(template: ArmTemplate, name: string): TemplateScope {
  const located = allResources(template).find(
    (l) => l.resource.type === DEPLOYMENTS && l.resource.name === name && l.scope.path.length === 0,
  );
  const nested = located?.resource.properties?.template;
  if (located === undefined || nested === undefined) throw new Error(`No module deployment named ${name}.`);
  return { template: nested, deployment: located.resource, parent: located.scope, path: [name] };
}

/** An ARM expression that could not be reduced to a value here. */
export class Unresolved {
  constructor(readonly expression: string) {}
}

export function isExpression(value: Json | undefined): value is string {
  return typeof value === 'string' && value.startsWith('[') && !value.startsWith('[[');
}

const PARAMETER = /^\[parameters\('([^']+)'\)\]$/;
const STRING_OF_PARAMETER = /^\[string\(parameters\('([^']+)'\)\)\]$/;
const VARIABLE = /^\[variables\('([^']+)'\)(?:\.([A-Za-z0-9_]+))?\]$/;

/** Follow a parameter through module boundaries to its value or default. */
function parameterValue(name: string, scope: TemplateScope): Json | Unresolved {
  const passed = scope.deployment?.properties?.parameters?.[name];
  if (passed !== undefined && passed.value !== undefined && scope.parent !== undefined)
    return resolve(passed.value, scope.parent);
  const declared = scope.template.parameters?.[name];
  if (declared?.defaultValue !== undefined) return resolve(declared.defaultValue, scope);
  return new Unresolved(`[parameters('${name}')]`);
}

function variableValue(name: string, member: string | undefined, scope: TemplateScope): Json | Unresolved {
  const value = scope.template.variables?.[name];
  if (value === undefined) return new Unresolved(`[variables('${name}')]`);
  const resolved = resolve(value, scope);
  if (member === undefined || resolved instanceof Unresolved) return resolved;
  if (typeof resolved !== 'object' || resolved === null || Array.isArray(resolved))
    return new Unresolved(`[variables('${name}').${member}]`);
  return resolved[member] ?? new Unresolved(`[variables('${name}').${member}]`);
}

/**
 * The value of a template value in its scope: literals as they are, `[parameters('x')]`, `[string(parameters('x'))]`
 * and `[variables('x')]` / `[variables('x').y]` followed to their source; any other expression → Unresolved.
 */
export function resolve(value: Json, scope: TemplateScope): Json | Unresolved {
  if (!isExpression(value)) return value;
  const param = PARAMETER.exec(value);
  if (param?.[1] !== undefined) return parameterValue(param[1], scope);
  const stringParam = STRING_OF_PARAMETER.exec(value);
  if (stringParam?.[1] !== undefined) {
    const inner = parameterValue(stringParam[1], scope);
    return inner instanceof Unresolved ? new Unresolved(value) : String(inner);
  }
  const variable = VARIABLE.exec(value);
  if (variable?.[1] !== undefined) return variableValue(variable[1], variable[2], scope);
  return new Unresolved(value);
}

/**
 * Like resolve, but an expression that stays unresolved is followed one step further when it is a bare parameter
 * passed from the parent: returns the expression as the parent sees it (e.g. a module output reference).
 */
export function sourceExpression(value: Json, scope: TemplateScope): Json | Unresolved {
  const param = typeof value === 'string' ? PARAMETER.exec(value) : null;
  if (param?.[1] !== undefined && scope.parent !== undefined) {
    const passed = scope.deployment?.properties?.parameters?.[param[1]];
    if (passed?.value !== undefined) return sourceExpression(passed.value, scope.parent);
  }
  const resolved = resolve(value, scope);
  return resolved;
}

/** Text of a value for pattern matching: the expression of an Unresolved, JSON of anything else. */
export function text(value: Json | Unresolved | undefined): string {
  if (value instanceof Unresolved) return value.expression;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
