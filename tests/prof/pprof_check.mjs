// pprof_check: validates liballoc's gzip'd profile.proto heap dumps with
// npm pprof-format (DataDog), the way strict consumers (pprof CheckValid,
// Parca's normalizer) read them.
//
//   node pprof_check.mjs [--period N] [--expect-function NAME]... FILE...
//   node pprof_check.mjs --self-test FILE
//
// PPROF_FORMAT_DIR names the node_modules directory holding pprof-format.
// Checks per file: sample types are exactly alloc_objects/count,
// alloc_space/bytes, inuse_objects/count, inuse_space/bytes; period_type is
// space/bytes and period == N; string_table[0] == ''; every string index is
// in range; mapping, location and function ids are 1..n in array order;
// every sample has 4 non-negative values (alloc_* >= inuse_*) and at least
// one location, each location id resolves, each line's function id
// resolves, each location's mapping id is 0 or resolves; time_nanos is set (and not in the future);
// with --expect-function, some sample's leaf frame is that function with
// inuse_space > 0. Prints one OK line per file, or the errors and exits 1.
// --self-test takes a valid dump, breaks it in each of the ways above
// (re-encoded with pprof-format) and exits 1 unless every broken copy is
// rejected.
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import path from 'node:path';

const modDir = process.env.PPROF_FORMAT_DIR;
if (!modDir) {
    console.error('pprof_check: set PPROF_FORMAT_DIR to the node_modules holding pprof-format');
    process.exit(2);
}
const require = createRequire(path.join(modDir, 'x.js'));
const { Profile } = require('pprof-format');

let period = null;
const expectFns = [];
const files = [];
let selfTest = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--period') period = BigInt(argv[++i]);
    else if (argv[i] === '--self-test') selfTest = true;
    else if (argv[i] === '--expect-function') expectFns.push(argv[++i]);
    else files.push(argv[i]);
}
if (files.length === 0) {
    console.error('usage: pprof_check.mjs [--period N] [--expect-function NAME]... FILE...');
    process.exit(2);
}

const big = (v) => BigInt.asIntN(64, BigInt(v ?? 0));

function check(file) {
    const errs = [];
    const err = (m) => { if (errs.length < 20) errs.push(m); };
    const raw = readFileSync(file);
    if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return [`${file}: not gzip'd`];
    let buf;
    try { buf = gunzipSync(raw); } catch (e) { return [`${file}: gunzip: ${e.message}`]; }
    let p;
    try { p = Profile.decode(new Uint8Array(buf.buffer, buf.byteOffset, buf.length)); }
    catch (e) { return [`${file}: decode: ${e.message}`]; }

    const strings = p.stringTable?.strings ?? [];
    const str = (idx, what) => {
        const i = big(idx);
        if (i < 0n || i >= BigInt(strings.length)) { err(`${what}: string index ${i} out of range (${strings.length})`); return undefined; }
        return strings[Number(i)];
    };
    if (strings.length === 0 || strings[0] !== '') err(`string_table[0] is ${JSON.stringify(strings[0])}, not ''`);

    const st = (p.sampleType ?? []).map((v, i) => `${str(v.type, `sample_type[${i}].type`)}/${str(v.unit, `sample_type[${i}].unit`)}`);
    const want = ['alloc_objects/count', 'alloc_space/bytes', 'inuse_objects/count', 'inuse_space/bytes'];
    if (st.join(',') !== want.join(',')) err(`sample types are [${st}], want [${want}]`);
    const pt = p.periodType ? `${str(p.periodType.type, 'period_type.type')}/${str(p.periodType.unit, 'period_type.unit')}` : '(none)';
    if (pt !== 'space/bytes') err(`period_type is ${pt}, want space/bytes`);
    if (period !== null && big(p.period) !== period) err(`period is ${big(p.period)}, want ${period}`);
    const tn = big(p.timeNanos);
    const now = BigInt(Date.now()) * 1000000n;
    if (tn <= 0n) err('time_nanos is not set');
    else if (tn > now + 60n * 1000000000n) err(`time_nanos ${tn} is in the future (now ${now})`);
    for (const [k, v] of [['drop_frames', p.dropFrames], ['keep_frames', p.keepFrames], ['default_sample_type', p.defaultSampleType]])
        str(v, k);
    (p.comment ?? []).forEach((c, i) => str(c, `comment[${i}]`));

    const seqIds = (arr, what) => arr.forEach((x, i) => {
        if (big(x.id) !== BigInt(i + 1)) err(`${what}[${i}].id is ${big(x.id)}, want ${i + 1}`);
    });
    const maps = p.mapping ?? [], locs = p.location ?? [], fns = p.function ?? [];
    seqIds(maps, 'mapping');
    seqIds(locs, 'location');
    seqIds(fns, 'function');
    maps.forEach((m, i) => { str(m.filename, `mapping[${i}].filename`); str(m.buildId, `mapping[${i}].build_id`); });
    fns.forEach((f, i) => {
        str(f.name, `function[${i}].name`); str(f.systemName, `function[${i}].system_name`); str(f.filename, `function[${i}].filename`);
    });
    locs.forEach((l, i) => {
        const mid = big(l.mappingId);
        if (mid < 0n || mid > BigInt(maps.length)) err(`location[${i}].mapping_id ${mid} does not resolve`);
        (l.line ?? []).forEach((ln, j) => {
            const fid = big(ln.functionId);
            if (fid < 1n || fid > BigInt(fns.length)) err(`location[${i}].line[${j}].function_id ${fid} does not resolve`);
        });
    });

    const samples = p.sample ?? [];
    const leafInuse = new Map();
    samples.forEach((s, i) => {
        const vals = (s.value ?? []).map(big);
        if (vals.length !== 4) err(`sample[${i}] has ${vals.length} values, want 4`);
        if (vals.some((v) => v < 0n)) err(`sample[${i}] has a negative value: ${vals}`);
        if (vals.length === 4 && (vals[0] < vals[2] || vals[1] < vals[3]))
            err(`sample[${i}] has alloc below inuse (alloc_* counts every allocation): ${vals}`);
        const ids = (s.locationId ?? []).map(big);
        if (ids.length === 0) err(`sample[${i}] has no location`);
        ids.forEach((id, j) => {
            if (id < 1n || id > BigInt(locs.length)) err(`sample[${i}].location_id[${j}] = ${id} does not resolve (${locs.length} locations)`);
        });
        (s.label ?? []).forEach((lb, j) => { str(lb.key, `sample[${i}].label[${j}].key`); str(lb.str, `sample[${i}].label[${j}].str`); });
        if (ids.length && ids[0] >= 1n && ids[0] <= BigInt(locs.length)) {
            const lines = locs[Number(ids[0]) - 1].line ?? [];
            for (const ln of lines) {
                const fid = Number(big(ln.functionId));
                if (fid >= 1 && fid <= fns.length) {
                    const name = strings[Number(big(fns[fid - 1].name))];
                    leafInuse.set(name, (leafInuse.get(name) ?? 0n) + (vals[3] ?? 0n));
                }
            }
        }
    });
    if (samples.length === 0) err('no samples');
    for (const f of expectFns)
        if (!((leafInuse.get(f) ?? 0n) > 0n)) err(`no sample with leaf function ${f} and inuse_space > 0`);
    if (errs.length) return errs.map((e) => `${file}: ${e}`);
    console.log(`OK ${file}: ${samples.length} samples, ${locs.length} locations, ${fns.length} functions, ${maps.length} mappings, period ${big(p.period)}, time_nanos ${tn}`);
    return [];
}

function decodeFile(file) {
    const buf = gunzipSync(readFileSync(file));
    return Profile.decode(new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
}

// Each mutation breaks one rule; check() must reject every result with
// the matching message. A mutation edits the decoded profile, or returns
// the bytes to write instead.
const mutations = [
    // Field 6 (string_table) entry "x" first: it becomes string_table[0].
    ['string_table[0]', (p) => { const b = p.encode(); const o = new Uint8Array(b.length + 3); o.set([0x32, 1, 0x78]); o.set(b, 3); return o; }],
    ['sample types are', (p) => { p.sampleType.reverse(); }],
    ['period_type is', (p) => { p.periodType = undefined; }],
    ['period is', (p) => { p.period = Number(p.period) * 2; }],
    ['function[0].id', (p) => { const f = p.function; [f[0].id, f[1].id] = [f[1].id, f[0].id]; }],
    ['location[0].id', (p) => { p.location[0].id = 0; }],
    ['mapping[0].id', (p) => { p.mapping.forEach((m) => { m.id = Number(m.id) + 1; }); }],
    ['does not resolve (', (p) => { p.sample[0].locationId[0] = p.location.length + 5; }],
    ['function_id', (p) => { const l = p.location.find((x) => x.line.length); l.line[0].functionId = p.function.length + 1; }],
    ['has 3 values', (p) => { p.sample[0].value.pop(); }],
    ['negative value', (p) => { p.sample[0].value[3] = -1; }],
    ['alloc below inuse', (p) => { const s = p.sample.find((x) => Number(x.value[3]) > 0); s.value[1] = 0; }],
    ['time_nanos is not set', (p) => { p.timeNanos = 0; }],
    ['out of range', (p) => { p.function[0].name = p.stringTable.strings.length + 3; }],
];

if (selfTest) {
    const dir = mkdtempSync(path.join(tmpdir(), 'pprof-check-'));
    let failed = 0;
    try {
        const base = check(files[0]);
        if (base.length) { base.forEach((e) => console.log(`FAIL self-test input: ${e}`)); process.exit(1); }
        for (const [expect, mutate] of mutations) {
            const p = decodeFile(files[0]);
            const bytes = mutate(p) ?? p.encode();
            const f = path.join(dir, 'mutated.pb.gz');
            writeFileSync(f, gzipSync(bytes));
            const errs = check(f);
            const hit = errs.find((e) => e.includes(expect));
            if (!hit) { failed = 1; console.log(`FAIL self-test: a profile broken for "${expect}" was not rejected for it: ${errs.length ? errs.join('; ') : 'accepted'}`); }
            else console.log(`self-test: rejected: ${hit.replace(f + ': ', '')}`);
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
    process.exit(failed);
}

let bad = 0;
for (const f of files) {
    const errs = check(f);
    if (errs.length) { bad = 1; for (const e of errs) console.log(`FAIL ${e}`); }
}
process.exit(bad);
