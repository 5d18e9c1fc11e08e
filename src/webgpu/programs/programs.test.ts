/**
 * Every kernel program's description against its WGSL, reflected with wgsl_reflect: group 0's
 * bindings (numbers, names, uniform / read-only / read-write storage), the `Params` struct (field
 * names, order, types, offsets), the override constants (each one the host sets declared with its
 * type, and each one the WGSL declares without a default set by the host) and the workgroup size.
 * A WGSL header and its description cannot drift apart without failing here. Every kernel source
 * is covered, the copy kernels' (src/webgpu/programs/copy.ts) included. Also: every kernel source
 * belongs to exactly one program, variants map to distinct pipeline keys, and the uniform
 * packing puts each value at its field's offset. No GPU.
 */
import { describe, expect, test } from "vitest";
import { Override, WgslParser, WgslReflect } from "wgsl_reflect";
import { KERNEL_FILE_TEXT } from "../kernel_sources.ts";
import { KERNEL_FILES, kernelSources } from "../shaders.ts";
import {
  type AnyProgram,
  packParams,
  paramsBytes,
  pipelineConstants,
  pipelineKey,
  shaderOf,
  shadersOf,
  type WorkgroupSizes,
} from "../program.ts";
import { COPY_PROGRAM_FILES, COPY_PROGRAMS, copyProgramSources } from "./copy.ts";
import { PROGRAMS } from "./mod.ts";

/** Every described program: the sort_pool2d kernels' and the copy kernels'. */
const ALL_PROGRAMS: readonly AnyProgram<string>[] = [...PROGRAMS, ...COPY_PROGRAMS];
/** File name in `kernels/` of every shader key, the copy kernels' included. */
const ALL_FILES: Readonly<Record<string, string>> = { ...KERNEL_FILES, ...COPY_PROGRAM_FILES };

const SIZES: WorkgroupSizes = { workgroupSize: 64, forwardWorkgroupSize: 256 };

/** The fields of wgsl_reflect's reflection this test reads. */
interface Reflected {
  readonly uniforms: readonly ResourceInfo[];
  readonly storage: readonly ResourceInfo[];
  readonly structs: readonly {
    name: string;
    size: number;
    members: { name: string; offset: number; type: { name: string } }[];
  }[];
  readonly overrides: readonly { name: string; type: { name: string } | null }[];
  readonly entry: { compute: readonly { name: string; workgroupSize: number[] | null }[] };
}
interface ResourceInfo {
  readonly name: string;
  readonly group: number;
  readonly binding: number;
  readonly access: string;
  readonly type: { name: string };
}

/** How the WGSL declares a binding, in the description's terms. */
function kindOf(resource: ResourceInfo, uniform: boolean): string {
  if (uniform) return "uniform";
  return resource.access === "read"
    ? "read-only-storage"
    : resource.access === "read_write"
    ? "storage"
    : resource.access;
}

/**
 * Every difference between `program`'s description and the WGSL `code` of one of its shaders
 * (empty when they agree), one line each.
 */
function differences(program: AnyProgram<string>, code: string): string[] {
  const reflect = new WgslReflect(code) as unknown as Reflected;
  const out: string[] = [];
  const resources = [
    ...reflect.uniforms.map((r) => ({ r, uniform: true })),
    ...reflect.storage.map((r) => ({ r, uniform: false })),
  ].sort((a, b) => a.r.group - b.r.group || a.r.binding - b.r.binding);
  const wgslBindings = resources.map(({ r, uniform }) => `${r.group}/${r.binding} ${r.name} ${kindOf(r, uniform)}`);
  const described = program.bindings.map((b, i) => `0/${i} ${b.name} ${b.kind}`);
  if (wgslBindings.join("; ") !== described.join("; ")) {
    out.push(`bindings: WGSL [${wgslBindings.join("; ")}], description [${described.join("; ")}]`);
  }
  const params = resources.find(({ r }) => r.name === "params");
  const struct = reflect.structs.find((s) => s.name === params?.r.type.name);
  if (!params || !params.uniform || !struct) {
    out.push(`params: expected a uniform "params" of a struct type, found ${params ? params.r.type.name : "none"}`);
  } else {
    const members = struct.members.map((m) => `${m.name}: ${m.type.name} @${m.offset}`);
    const fields = program.params.fields.map((f, i) => `${f}: u32 @${i * 4}`);
    if (members.join(", ") !== fields.join(", ")) {
      out.push(`${struct.name}: WGSL {${members.join(", ")}}, description {${fields.join(", ")}}`);
    }
    if (Math.ceil(struct.size / 16) * 16 !== paramsBytes(program)) {
      out.push(`${struct.name}: ${struct.size} bytes, bound as ${paramsBytes(program)}`);
    }
  }
  for (const field of program.params.unread ?? []) {
    if (!program.params.fields.includes(field)) out.push(`params.unread: ${field} is no field`);
  }
  const overrides = new Map(reflect.overrides.map((o) => [o.name, o.type?.name]));
  for (const [name, type] of Object.entries(program.overrides)) {
    if (overrides.get(name) !== type) {
      out.push(`override ${name}: WGSL ${overrides.get(name) ?? "none"}, description ${type}`);
    }
  }
  // The other way round: an override with no default that the host does not set fails pipeline
  // creation, so the description must list it (ones with a default, e.g. derived ones, may stay unset).
  const ast = new WgslParser().parse(code);
  for (const node of ast) {
    if (node instanceof Override && node.value == null && !(node.name in program.overrides)) {
      out.push(`override ${node.name}: WGSL declares it without a default, description does not list it`);
    }
  }
  const main = reflect.entry.compute.find((f) => f.name === "main");
  if (!main) out.push("no compute entry point main");
  else if (!("WORKGROUP_SIZE" in program.overrides) && main.workgroupSize?.[0] !== program.workgroupSize) {
    out.push(`workgroup size: WGSL ${main.workgroupSize}, description ${program.workgroupSize}`);
  }
  return out;
}

describe("kernel programs", () => {
  const sources: Readonly<Record<string, string>> = { ...kernelSources(), ...copyProgramSources() };

  test("every kernel source belongs to exactly one program", () => {
    for (const key of Object.keys(ALL_FILES)) {
      expect(ALL_PROGRAMS.filter((p) => shadersOf(p).includes(key)).map((p) => p.name), key).toHaveLength(1);
    }
    // Every generated kernel file is some program's source.
    expect(Object.values(ALL_FILES).sort()).toEqual(Object.keys(KERNEL_FILE_TEXT).sort());
    // The copy kernels' keys must not shadow a sort_pool2d kernel's.
    expect(Object.keys(ALL_FILES)).toHaveLength(
      Object.keys(KERNEL_FILES).length + Object.keys(COPY_PROGRAM_FILES).length,
    );
    expect(new Set(ALL_PROGRAMS.map((p) => p.name)).size).toBe(ALL_PROGRAMS.length);
  });

  for (const program of ALL_PROGRAMS) {
    for (const source of shadersOf(program)) {
      test(`${program.name} matches ${ALL_FILES[source]}: bindings, Params, overrides, workgroup size`, () => {
        expect(differences(program, sources[source])).toEqual([]);
      });
    }
  }

  test("the comparison catches a WGSL header that drifted from its description", () => {
    const program = PROGRAMS.find((p) => p.name === "generalRanks")!;
    const code = sources.generalRanks;
    const swapped = code.replace(/ {2}segment: u32,\n {2}segments: u32,/, "  segments: u32,\n  segment: u32,");
    const rebound = code.replace("var<storage, read> dy", "var<storage, read_write> dy");
    expect(swapped).not.toBe(code);
    expect(rebound).not.toBe(code);
    expect(differences(program, swapped).join("\n")).toContain("segments: u32 @48");
    expect(differences(program, rebound).join("\n")).toContain("0/1 dy storage");
  });

  test("the comparison catches an override without a default that the description does not list", () => {
    const code = sources.generalRanks;
    const added = code.replace("override K: u32 = 1u;", "override K: u32 = 1u;\noverride EXTRA: u32;");
    const defaulted = code.replace("override K: u32 = 1u;", "override K: u32 = 1u;\noverride EXTRA: u32 = 2u;");
    expect(added).not.toBe(code);
    const program = PROGRAMS.find((p) => p.name === "generalRanks")!;
    expect(differences(program, added)).toEqual([
      "override EXTRA: WGSL declares it without a default, description does not list it",
    ]);
    expect(differences(program, defaulted)).toEqual([]);
  });

  test("each variant sets exactly the declared constants, and distinct pipelines have distinct cache keys", () => {
    for (const program of ALL_PROGRAMS) {
      const declared = Object.keys(program.overrides).sort();
      const keys = new Map<string, string>();
      for (const variant of program.variants()) {
        const constants = pipelineConstants(program, variant, SIZES);
        expect(Object.keys(constants).sort(), program.name).toEqual(declared);
        for (const [name, type] of Object.entries(program.overrides)) {
          if (type === "bool") expect([0, 1], `${program.name} ${name}`).toContain(constants[name]);
        }
        const source = shaderOf(program, variant);
        expect(shadersOf(program)).toContain(source);
        const pipeline = JSON.stringify([source, constants]);
        const key = pipelineKey(source, constants);
        expect(keys.get(key) ?? pipeline, `${program.name}: key ${key}`).toBe(pipeline);
        keys.set(key, pipeline);
      }
      // No variant listed twice: each is a pipeline of its own.
      expect(keys.size, program.name).toBe(program.variants().length);
    }
  });

  test("packParams writes each value at its field's offset, padding and unread fields 0", () => {
    for (const program of ALL_PROGRAMS) {
      const { fields, unread = [] } = program.params;
      const read = fields.filter((f) => !/^unused\d*$/.test(f) && !unread.includes(f));
      const values = Object.fromEntries(read.map((f) => [f, 1000 + fields.indexOf(f)]));
      const block = packParams(program, values as never);
      expect(block.length * 4, program.name).toBe(paramsBytes(program));
      fields.forEach((f, i) => expect(block[i], `${program.name}.${f}`).toBe(read.includes(f) ? 1000 + i : 0));
    }
  });
});
