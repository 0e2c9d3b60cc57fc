// Lab 5: reads the OTLP profiles the collector received (its file exporter's OTLP JSON, one
// export request a line; format of pdata/pprofile v0.158.0, proto profiles/v1development v0.4.0)
// into samples: one stack of named frames each, attributed to a process and its service.
//
// In that format every string, function, location, stack and attribute of a request lives once in
// `dictionary` tables and samples refer to them by index; an index of 0 (the tables' empty
// first entry) is left out of the JSON, as are zero values. 64-bit integers are JSON strings.
// Even the resource attributes' keys and string values are string-table references
// (keyStrindex, stringValueStrindex) in this release.

export interface Frame {
  /** Function name; for a native frame without symbols, `<file>+0x<address>`. */
  name: string;
  /** Source file (JS), or the mapped binary (native). */
  file: string;
  line: number;
  /** The profiler's frame type: v8js, native, kernel, ... */
  type: string;
}

export interface ProfileSample {
  /** The resource attributes of the profiled process (process.pid, process.executable.*, ...). */
  resource: Record<string, string | number | boolean>;
  /**
   * The service the process runs: its OTEL_SERVICE_NAME (the profiler reports the variables it
   * is told to as process.environment_variable.*), else service.name, else `<executable> (pid N)`.
   */
  service: string;
  pid: number;
  /** Root first (the process's entry), leaf (where the CPU was) last. */
  frames: Frame[];
  /** How many times this stack was sampled. */
  count: number;
  /** e.g. samples/count (on-CPU sampling). */
  sampleType: string;
}

type AnyValue = { stringValue?: string; stringValueStrindex?: number; intValue?: string | number; boolValue?: boolean; doubleValue?: number };

/** A value; strings may be references into the string table (stringValueStrindex). */
function scalar(v: AnyValue | undefined, str: (i: number | undefined) => string): string | number | boolean {
  if (!v) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.stringValueStrindex !== undefined) return str(v.stringValueStrindex);
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.doubleValue !== undefined) return v.doubleValue;
  return '';
}

export const SERVICE_ENV_ATTRIBUTE = 'process.environment_variable.OTEL_SERVICE_NAME';

function serviceOf(resource: ProfileSample['resource']): string {
  const named = resource[SERVICE_ENV_ATTRIBUTE] ?? resource['service.name'];
  if (named) return String(named);
  return `${resource['process.executable.name'] ?? 'process'} (pid ${resource['process.pid'] ?? '?'})`;
}

/** The samples of one OTLP profiles export request (as the file exporter writes it). */
export function samplesOf(request: any): ProfileSample[] {
  const dict = request.dictionary ?? {};
  const strings: string[] = dict.stringTable ?? [];
  const str = (i: number | undefined) => strings[i ?? 0] ?? '';
  const functions: any[] = dict.functionTable ?? [];
  const locations: any[] = dict.locationTable ?? [];
  const mappings: any[] = dict.mappingTable ?? [];
  const stacks: any[] = dict.stackTable ?? [];
  const attributes: any[] = dict.attributeTable ?? [];
  const attrOf = (indices: number[] | undefined, key: string) =>
    (indices ?? []).map((i) => attributes[i]).find((a) => a && str(a.keyStrindex) === key)?.value;

  const frameCache = new Map<number, Frame[]>();
  /** One location may expand to several frames (inlined functions): innermost first, as stored. */
  const framesOf = (locIndex: number): Frame[] => {
    let frames = frameCache.get(locIndex);
    if (frames) return frames;
    const loc = locations[locIndex] ?? {};
    const type = String(scalar(attrOf(loc.attributeIndices, 'profile.frame.type'), str) || 'unknown');
    const mappingFile = str(mappings[loc.mappingIndex ?? 0]?.filenameStrindex);
    const lines: any[] = loc.lines ?? [];
    frames = lines.length
      ? lines.map((l) => {
          const fn = functions[l.functionIndex ?? 0] ?? {};
          return { name: str(fn.nameStrindex) || '<unknown>', file: str(fn.filenameStrindex), line: Number(l.line ?? 0), type };
        })
      : [
          {
            name: `${mappingFile ? mappingFile.replace(/^.*\//, '') : '<unknown>'}+0x${BigInt(loc.address ?? 0).toString(16)}`,
            file: mappingFile,
            line: 0,
            type,
          },
        ];
    frameCache.set(locIndex, frames);
    return frames;
  };

  const out: ProfileSample[] = [];
  for (const rp of request.resourceProfiles ?? []) {
    const resource: ProfileSample['resource'] = {};
    for (const kv of rp.resource?.attributes ?? []) resource[kv.key ?? str(kv.keyStrindex)] = scalar(kv.value, str);
    const service = serviceOf(resource);
    const pid = Number(resource['process.pid'] ?? 0);
    for (const sp of rp.scopeProfiles ?? []) {
      for (const profile of sp.profiles ?? []) {
        const sampleType = `${str(profile.sampleType?.typeStrindex)}/${str(profile.sampleType?.unitStrindex)}`;
        for (const s of profile.samples ?? []) {
          const locIndices: number[] = stacks[s.stackIndex ?? 0]?.locationIndices ?? [];
          // The profiler stores the leaf first (pprof's order); a flame graph wants the root first.
          const frames = locIndices.flatMap((i) => framesOf(i)).reverse();
          const values: (string | number)[] = s.values ?? [];
          const count = values.length ? values.reduce<number>((a, v) => a + Number(v), 0) : (s.timestampsUnixNano?.length ?? 1);
          out.push({ resource, service, pid, frames, count, sampleType });
        }
      }
    }
  }
  return out;
}

/** A frame as one name in a folded stack or flame graph: JS functions with their file. */
export function frameLabel(f: Frame): string {
  const label = f.type === 'v8js' && f.file ? `${f.name} (${f.file.replace(/^.*\/(?=[^/]+\/[^/]+$)/, '')})` : f.name;
  // ';' separates frames in the folded format; a name must not contain it.
  return label.replace(/;/g, ',');
}

/** Folded stacks ("root;child;leaf count", Brendan Gregg's format, read by flamegraph.pl and speedscope). */
export function folded(samples: ProfileSample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    const key = s.frames.map(frameLabel).join(';');
    out.set(key, (out.get(key) ?? 0) + s.count);
  }
  return out;
}

export interface FlameNode {
  name: string;
  value: number;
  children: FlameNode[];
}

/** The hierarchy d3-flame-graph draws: every stack merged into one tree under `rootName`. */
export function flameTree(samples: ProfileSample[], rootName: string): FlameNode {
  const root: FlameNode = { name: rootName, value: 0, children: [] };
  for (const s of samples) {
    root.value += s.count;
    let node = root;
    for (const f of s.frames) {
      const name = frameLabel(f);
      let child = node.children.find((c) => c.name === name);
      if (!child) node.children.push((child = { name, value: 0, children: [] }));
      child.value += s.count;
      node = child;
    }
  }
  return root;
}
