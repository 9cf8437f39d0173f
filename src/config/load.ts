/**
 * Loads the one validated OperatorConfig. Precedence, highest first:
 *   command-line flags > environment (KUBESKIPPY_*) > YAML file (--config or KUBESKIPPY_CONFIG) > schema defaults.
 * Nested objects merge key by key; lists are replaced whole. Every problem is reported at once, each naming the
 * setting, where its value came from (flag, env variable, file:line) and what is wrong; unknown keys in the file
 * are errors (a typo must not silently fall back to a default).
 *
 * The caller passes the environment and the file reader in: this module never touches process.env or the disk
 * by itself. Environment variables outside CONFIG_SETTINGS are ignored (KUBESKIPPY_TEST_* and friends).
 */
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { CONFIG_FILE_ENV, CONFIG_SETTINGS, OperatorConfigSchema, checkConfigRules, type ConfigSetting, type OperatorConfig } from './operator-config.js';

/** Where a setting's value came from. */
export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

/** One bad setting. */
export interface ConfigProblem {
  /** Dotted path of the setting (`leaderElection.leaseDurationSeconds`); '' for the file as a whole. */
  readonly path: string;
  readonly source: ConfigSource;
  /** The flag (`--dry-run`), env variable (`KUBESKIPPY_DRY_RUN`) or `file:line` that supplied the value. */
  readonly origin: string;
  readonly message: string;
}

/** The configuration is invalid; `problems` lists every bad setting. The message has one line per problem. */
export class ConfigError extends Error {
  readonly code = 'InvalidConfig';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`invalid operator configuration:\n${problems.map((p) => `  - ${p.path === '' ? '(file)' : p.path} (${p.origin}): ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Inputs of loadOperatorConfig. */
export interface LoadConfigInput {
  /**
   * Parsed command-line flags: keys are commander property names (`leaderElectionEnabled`, see
   * CONFIG_SETTINGS[].flagKey) or dotted paths (`leaderElection.enabled`), plus `config` for the YAML file. Values
   * may be strings (parsed like env values), booleans, numbers or string lists; undefined means "not given".
   * Unknown keys are ignored (commands have flags of their own).
   */
  readonly flags?: Readonly<Record<string, unknown>>;
  /** The process environment (pass `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads the config file; needed only when a file is named. */
  readonly readFile?: (path: string) => string | Promise<string>;
}

type Json = Record<string, unknown>;

interface Origin {
  readonly source: ConfigSource;
  readonly origin: string;
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** Parses an env/flag string as the setting's type; returns an error message instead when it cannot. */
function parseValue(setting: ConfigSetting, raw: string): { value: unknown } | { error: string } {
  const s = raw.trim();
  switch (setting.type) {
    case 'boolean':
      if (TRUE.has(s.toLowerCase())) return { value: true };
      if (FALSE.has(s.toLowerCase())) return { value: false };
      return { error: `must be a boolean (true/false), got ${JSON.stringify(raw)}` };
    case 'integer':
    case 'number': {
      const n = s === '' ? NaN : Number(s);
      if (!Number.isFinite(n)) return { error: `must be a number, got ${JSON.stringify(raw)}` };
      if (setting.type === 'integer' && !Number.isInteger(n)) return { error: `must be an integer, got ${JSON.stringify(raw)}` };
      return { value: n };
    }
    case 'string[]':
      return { value: s.split(',').map((x) => x.trim()).filter((x) => x !== '') };
    case 'json':
      try {
        return { value: JSON.parse(s) as unknown };
      } catch {
        return { error: `must be JSON (a list of objects), got ${JSON.stringify(raw.slice(0, 80))}` };
      }
    case 'string':
      return { value: raw };
  }
}

function setIn(target: Json, segments: readonly string[], value: unknown): void {
  let cur = target;
  segments.slice(0, -1).forEach((seg) => {
    const next = cur[seg];
    if (isObject(next)) cur = next;
    else {
      const created: Json = {};
      cur[seg] = created;
      cur = created;
    }
  });
  const last = segments[segments.length - 1];
  if (last !== undefined) cur[last] = value;
}

/** Deep merge: objects merge key by key, anything else (lists included) is replaced. */
function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? merge(b, v) : v;
  }
  return out;
}

/** Records the origin of every leaf of `value` under `prefix`. */
function recordOrigins(value: unknown, prefix: string[], origins: Map<string, Origin>, originOf: (path: string[]) => Origin): void {
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) recordOrigins(v, [...prefix, k], origins, originOf);
    return;
  }
  origins.set(prefix.join('.'), originOf(prefix));
}

interface Layer {
  readonly values: Json;
  readonly problems: ConfigProblem[];
}

function flagLayer(flags: Readonly<Record<string, unknown>>, origins: Map<string, Origin>): Layer {
  const values: Json = {};
  const problems: ConfigProblem[] = [];
  for (const setting of CONFIG_SETTINGS) {
    const raw = flags[setting.flagKey] ?? flags[setting.path];
    if (raw === undefined) continue;
    const origin: Origin = { source: 'flag', origin: setting.flag };
    let value: unknown = raw;
    if (setting.type === 'string[]' && Array.isArray(raw) && raw.every((x) => typeof x === 'string')) {
      // commander hands a variadic flag over as a list (`--protected-namespaces a,b c`): commas separate too, as the
      // env variable and the docs have it; `a,b` used to arrive as one invalid name "a,b".
      value = raw.flatMap((x: string) => x.split(',')).map((x) => x.trim()).filter((x) => x !== '');
    } else if (typeof raw === 'string') {
      const parsed = parseValue(setting, raw);
      if ('error' in parsed) {
        problems.push({ path: setting.path, ...origin, message: parsed.error });
        continue;
      }
      value = parsed.value;
    }
    setIn(values, setting.segments, value);
    origins.set(setting.path, origin);
  }
  return { values, problems };
}

function envLayer(env: Readonly<Record<string, string | undefined>>, origins: Map<string, Origin>): Layer {
  const values: Json = {};
  const problems: ConfigProblem[] = [];
  for (const setting of CONFIG_SETTINGS) {
    const raw = env[setting.env];
    if (raw === undefined) continue;
    const origin: Origin = { source: 'env', origin: setting.env };
    const parsed = parseValue(setting, raw);
    if ('error' in parsed) {
      problems.push({ path: setting.path, ...origin, message: parsed.error });
      continue;
    }
    setIn(values, setting.segments, parsed.value);
    origins.set(setting.path, origin);
  }
  return { values, problems };
}

function fileLayer(file: string, text: string, origins: Map<string, Origin>): Layer {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined): string => (offset === undefined ? file : `${file}:${lineCounter.linePos(offset).line}`);
  if (doc.errors.length > 0) {
    return {
      values: {},
      problems: doc.errors.map((e) => ({ path: '', source: 'file' as const, origin: at(e.pos[0]), message: `YAML: ${e.message.split('\n')[0] ?? e.message}` })),
    };
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return { values: {}, problems: [] };
  if (!isObject(data)) {
    return { values: {}, problems: [{ path: '', source: 'file', origin: file, message: 'must be a YAML mapping of settings' }] };
  }
  const lineOf = (path: string[]): Origin => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return { source: 'file', origin: at(node?.range?.[0]) };
  };
  recordOrigins(data, [], origins, lineOf);
  // Origins of whole objects (for "unknown field" and "must be object" errors on a section).
  const sectionOrigins = (value: unknown, prefix: string[]): void => {
    if (!isObject(value)) return;
    for (const [k, v] of Object.entries(value)) {
      const p = [...prefix, k];
      if (isObject(v)) {
        if (!origins.has(p.join('.'))) origins.set(p.join('.'), lineOf(p));
        sectionOrigins(v, p);
      }
    }
  };
  sectionOrigins(data, []);
  return { values: data, problems: [] };
}

let compiled: ReturnType<Ajv['compile']> | undefined;
function validator(): ReturnType<Ajv['compile']> {
  compiled ??= new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(OperatorConfigSchema);
  return compiled;
}

function pointerToPath(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function describe(e: ErrorObject): { path: string[]; message: string } {
  const path = pointerToPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: [...path, String(p['additionalProperty'])], message: 'unknown setting' };
    case 'required':
      return { path: [...path, String(p['missingProperty'])], message: 'is required' };
    case 'enum':
      return { path, message: `must be one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern':
      return { path, message: `does not have the expected format (${String(p['pattern'])})` };
    default:
      return { path, message: e.message ?? e.keyword };
  }
}

function originFor(path: string[], origins: ReadonlyMap<string, Origin>): Origin {
  for (let n = path.length; n > 0; n--) {
    const o = origins.get(path.slice(0, n).join('.'));
    if (o !== undefined) return o;
  }
  return { source: 'default', origin: 'default' };
}

/**
 * Loads, merges, defaults and validates the operator configuration. Throws ConfigError listing every problem
 * (including an unreadable or unparsable file). The file is named by `flags.config` or env KUBESKIPPY_CONFIG.
 */
export async function loadOperatorConfig(input: LoadConfigInput = {}): Promise<OperatorConfig> {
  const flags = input.flags ?? {};
  const env = input.env ?? {};
  const origins = new Map<string, Origin>();
  const problems: ConfigProblem[] = [];

  const flagFile = flags['config'];
  const fileFromFlag = typeof flagFile === 'string' && flagFile !== '';
  const file = fileFromFlag ? flagFile : env[CONFIG_FILE_ENV] !== undefined && env[CONFIG_FILE_ENV] !== '' ? env[CONFIG_FILE_ENV] : undefined;
  let fileValues: Json = {};
  if (file !== undefined) {
    const fileOrigin = fileFromFlag ? '--config' : CONFIG_FILE_ENV;
    if (input.readFile === undefined) {
      problems.push({ path: '', source: fileFromFlag ? 'flag' : 'env', origin: fileOrigin, message: `cannot read ${file}: no file reader given` });
    } else {
      try {
        const layer = fileLayer(file, await input.readFile(file), origins);
        fileValues = layer.values;
        problems.push(...layer.problems);
      } catch (e: unknown) {
        const why = e instanceof Error ? e.message : String(e);
        problems.push({ path: '', source: fileFromFlag ? 'flag' : 'env', origin: fileOrigin, message: `cannot read config file ${file}: ${why}` });
      }
    }
  }
  // Later layers overwrite the origins recorded by earlier ones.
  const envValues = envLayer(env, origins);
  const flagValues = flagLayer(flags, origins);
  problems.push(...envValues.problems, ...flagValues.problems);

  const merged = merge(merge(fileValues, envValues.values), flagValues.values);
  const validate = validator();
  if (!validate(merged)) {
    const seen = new Set<string>();
    for (const e of validate.errors ?? []) {
      const { path, message } = describe(e);
      const key = `${path.join('.')}\u0000${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push({ path: path.join('.'), ...originFor(path, origins), message });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const config = merged as OperatorConfig;
  const ruleProblems = [...checkConfigRules(config), ...checkEnvReferences(config, env)].map((r) => ({ path: r.path, ...originFor(r.path.split('.'), origins), message: r.message }));
  if (ruleProblems.length > 0) throw new ConfigError(ruleProblems);
  return config;
}

/**
 * Settings that name environment variables must name set ones: a sink whose Authorization header would be empty is
 * a misconfiguration to report at start, not a stream of 401s later. Only names are reported, never values.
 */
export function checkEnvReferences(config: OperatorConfig, env: Readonly<Record<string, string | undefined>>): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  config.notifications.sinks.forEach((sink, i) => {
    const url = sink.urlFromEnv === undefined ? undefined : env[sink.urlFromEnv];
    if (sink.urlFromEnv !== undefined && (url === undefined || !/^https?:\/\/\S+$/.test(url))) {
      problems.push({ path: `notifications.sinks.${i}.urlFromEnv`, message: `sink ${sink.name} takes its URL from ${sink.urlFromEnv}, which is ${url === undefined || url === '' ? 'not set' : 'not an http(s) URL'}` });
    }
    for (const [header, name] of Object.entries(sink.headersFromEnv ?? {})) {
      const value = env[name];
      if (value === undefined || value === '') problems.push({ path: `notifications.sinks.${i}.headersFromEnv`, message: `header ${header} of sink ${sink.name} names the environment variable ${name}, which is not set` });
    }
  });
  return problems;
}

/** The configuration with every default and nothing else (no flags, env or file). */
export async function defaultOperatorConfig(): Promise<OperatorConfig> {
  return loadOperatorConfig({});
}
