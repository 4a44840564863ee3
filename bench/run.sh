#!/usr/bin/env bash
# bench/run.sh: runs the benchmark programs in build/bench/ under several
# allocators (chosen with LD_PRELOAD) and prints one table of medians.
#
# For every repetition, every benchmark row is run once under every allocator
# (the allocator order rotates between repetitions), so noise on this shared
# machine hits all allocators alike. Wall time, CPU time and peak RSS come
# from bench/tools/timeit (/usr/bin/time's figures, CPU times in microseconds);
# burst_retention also reports its own RSS after the burst ("post" columns).
#
# Environment:
#   REPS=5              repetitions (the table shows medians)
#   THREADS=2           threads for the multithreaded rows
#   THREADS_HI=8        extra rows at this many threads ("larson-8t"); 0 = none
#   BENCH_ONLY=a,b      only rows whose name contains one of these strings
#   ALLOCATORS="ours glibc jemalloc tcmalloc mimalloc"   (order = table order)
#   SCALE=1             passed to every program (work multiplier)
#   NODECAY=1           also run ours with decay and NUMA bookkeeping off
#                       (dirty_decay_ms:-1,muzzy_decay_ms:-1,numa:false): their cost
#   PROF=1              also run ours with MALLOC_CONF=prof:true,lg_prof_sample:19
#                       and :14, and jemalloc with prof:true,lg_prof_sample:19,
#                       and report the overhead against their prof:false runs
#   PROF_PEAK=1         with PROF=1, also ours+prof19+peak and ours+prof14+peak
#                       (prof_peak:true added): the peak snapshot's cost
#   OURS_CONFS="label=conf ..."   also run ours under each MALLOC_CONF (an
#                       option's A/B, e.g. "sig=prof:true,prof_dump_signal:USR2"
#                       against PROF=1's ours+prof19), labelled ours+label
#   PROF_HTTP=1         also run ours with prof:true,lg_prof_sample:19 and the
#                       profile server listening (prof_http:127.0.0.1:PROF_HTTP_PORT,
#                       default 16099) but never asked: its idle cost (with PROF=1)
#   BENCH_TIMEOUT=60    seconds before a run is killed (its later reps are skipped)
#   BENCH_BUDGET=660    seconds: no new repetition starts if it would end past
#                       this (a loaded machine then gets fewer reps; 0 = no limit;
#                       it leaves ~4 min of the 15-min target to the extra suites)
#   BENCH_EXTRA=1       0 skips the extra suites bench/*/run.sh run after the table
#   OURS_SO, JEMALLOC_SO, TCMALLOC_SO, MIMALLOC_SO   override library paths
#   allocator "ours-nocheck": liballoc without its misuse checks
#                       (OURS_NOCHECK_SO, default build/nocheck/liballoc.so;
#                       bench/check_cost/run.sh compares it with ours)
#   BENCH_RESULTS=results   name of the outputs (another name: a suite's own run)
#   BENCH_PAIRED=1      with exactly two allocator configs and two CPUs or more:
#                       run the two at the same time, each row's pair started
#                       together, single-threaded rows pinned to CPUs 0 and 1
#                       (swapped every repetition); a load the host puts on
#                       this VM then slows both sides of a pair alike, which
#                       running them one after the other does not ensure
#                       (bench/check_cost/run.sh uses it)
# Outputs: build/bench/results.csv (raw runs), build/bench/table.txt (table).
set -u
# Library paths given relative to the caller's directory: make them absolute
# before leaving it (a relative path would resolve against the project root,
# and a row whose library is missing would be skipped or measure glibc).
for v in OURS_SO OURS_NOCHECK_SO JEMALLOC_SO TCMALLOC_SO MIMALLOC_SO; do
	p=${!v:-}
	[ -n "$p" ] && [ "${p#/}" = "$p" ] && export "$v=$PWD/$p"
done
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build/bench
REPS=${REPS:-5}
THREADS=${THREADS:-2}
THREADS_HI=${THREADS_HI:-8}
BENCH_ONLY=${BENCH_ONLY:-}
ALLOCATORS=${ALLOCATORS:-"ours glibc jemalloc tcmalloc mimalloc"}
SCALE=${SCALE:-1}
PROF=${PROF:-0}
TIMEOUT=${BENCH_TIMEOUT:-60}
BUDGET=${BENCH_BUDGET:-660}
BENCH_EXTRA=${BENCH_EXTRA:-1}
CSV=$OUT/${BENCH_RESULTS:-results}.csv
TABLE=$OUT/${BENCH_RESULTS:-table}.txt
RUNDIR=$OUT/run # scratch cwd for the programs (profile dumps land here)

note() { echo "bench: $*" >&2; }

# ---- the benchmark programs ------------------------------------------------
bins=()
for src in bench/*.c bench/*.cc; do
	[ -f "$src" ] || continue
	src=${src##*/}
	bins+=("${src%.*}")
done
missing=0
for b in "${bins[@]}"; do
	for src in bench/$b.c bench/$b.cc; do
		[ -f "$src" ] || continue
		[ -x "$OUT/$b" ] && [ "$OUT/$b" -nt "$src" ] || missing=1
	done
done
[ -x "$OUT/timeit" ] && [ "$OUT/timeit" -nt bench/tools/timeit.c ] || missing=1
if [ $missing = 1 ]; then
	make --no-print-directory -s bench-bins || { note "building the benchmarks failed"; exit 1; }
fi

# Rows: "name binary threads". Multithreaded programs get a row at THREADS
# and one at THREADS_HI; a new bench/*.c not listed here runs single-threaded.
rows=()
add_row() { # name binary threads
	local pat
	[ -x "$OUT/$2" ] || return 0
	if [ -n "$BENCH_ONLY" ]; then
		local hit=0
		for pat in ${BENCH_ONLY//,/ }; do
			case "$1" in *"$pat"*) hit=1 ;; esac
		done
		[ $hit = 1 ] || return 0
	fi
	rows+=("$1 $2 $3")
}
add_mt_rows() { # short-name binary
	add_row "$1-${THREADS}t" "$2" "$THREADS"
	if [ "$THREADS_HI" != 0 ] && [ -n "$THREADS_HI" ] && [ "$THREADS_HI" != "$THREADS" ]; then
		add_row "$1-${THREADS_HI}t" "$2" "$THREADS_HI"
	fi
}
add_row small_churn small_churn 1
add_mt_rows mixed_ws mixed_working_set
add_mt_rows xthread xthread_producer_consumer
add_mt_rows xthread_large xthread_large
add_mt_rows larson larson_like
add_mt_rows rpmalloc rpmalloc_like
add_row realloc_growth realloc_growth 1
add_row large_blocks large_blocks 1
add_row huge_churn huge_churn 1
add_row "burst-${THREADS}t" burst_retention "$THREADS"
known=" small_churn mixed_working_set xthread_producer_consumer xthread_large larson_like rpmalloc_like realloc_growth large_blocks huge_churn burst_retention "
for b in "${bins[@]}"; do
	case "$known" in *" $b "*) ;; *) add_row "$b" "$b" 1 ;; esac
done
if [ ${#rows[@]} = 0 ]; then
	note "no benchmark matches BENCH_ONLY='$BENCH_ONLY'"
	exit 1
fi

# ---- the allocators --------------------------------------------------------
find_lib() { # file name in the usual library directories
	local d
	for d in /usr/lib/x86_64-linux-gnu /usr/lib/$(uname -m)-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
		[ -e "$d/$1" ] && { echo "$d/$1"; return; }
	done
	echo "/usr/lib/x86_64-linux-gnu/$1"
}
lib_of() {
	case "$1" in
	ours) echo "${OURS_SO:-$ROOT/build/liballoc.so}" ;;
	ours-nocheck) echo "${OURS_NOCHECK_SO:-$ROOT/build/nocheck/liballoc.so}" ;;
	glibc) echo "" ;;
	jemalloc) echo "${JEMALLOC_SO:-$(find_lib libjemalloc.so.2)}" ;;
	tcmalloc) echo "${TCMALLOC_SO:-$(find_lib libtcmalloc_minimal.so.4)}" ;;
	mimalloc) echo "${MIMALLOC_SO:-$(find_lib libmimalloc.so.2)}" ;;
	*) echo "?" ;;
	esac
}

# Configurations: "label library malloc_conf" (library "-" = none, conf "-" = unset).
cfgs=()
have_ours=0
for a in $ALLOCATORS; do
	so=$(lib_of "$a")
	if [ "$so" = "?" ]; then
		note "unknown allocator '$a' (known: ours glibc jemalloc tcmalloc mimalloc): skipped"
		continue
	fi
	if [ -n "$so" ] && [ ! -e "$so" ]; then
		note "$a: $so is missing: skipped"
		continue
	fi
	# Programs run from their run directory: a relative path would not
	# load there, and the row would silently measure glibc.
	[ -n "$so" ] && so=$(realpath "$so")
	if [ -n "$so" ] && ! nm -D --defined-only "$so" 2>/dev/null | grep -qE ' [TWi] malloc$'; then
		note "$a: $so does not export malloc (yet): skipped"
		continue
	fi
	cfgs+=("$a ${so:--} -")
	[ "$a" = ours ] && have_ours=1
	if [ "${NODECAY:-0}" != 0 ] && [ "$a" = ours ]; then
		cfgs+=("ours-nodecay $so dirty_decay_ms:-1,muzzy_decay_ms:-1,numa:false")
	fi
	if [ "$a" = ours ]; then
		for oc in ${OURS_CONFS:-}; do
			cfgs+=("ours+${oc%%=*} $so ${oc#*=}")
		done
	fi
	if [ "$PROF" != 0 ]; then
		case "$a" in
		ours)
			cfgs+=("ours+prof19 $so prof:true,lg_prof_sample:19")
			cfgs+=("ours+prof14 $so prof:true,lg_prof_sample:14")
			if [ "${PROF_PEAK:-0}" != 0 ]; then
				cfgs+=("ours+prof19+peak $so prof:true,lg_prof_sample:19,prof_peak:true")
				cfgs+=("ours+prof14+peak $so prof:true,lg_prof_sample:14,prof_peak:true")
			fi
			[ "${PROF_HTTP:-0}" != 0 ] &&
				cfgs+=("ours+prof19+http $so prof:true,lg_prof_sample:19,prof_http:127.0.0.1:${PROF_HTTP_PORT:-16099}") ;;
		jemalloc)
			cfgs+=("jemalloc+prof19 $so prof:true,lg_prof_sample:19") ;;
		esac
	fi
done
if [ ${#cfgs[@]} = 0 ]; then
	note "no allocator to run"
	exit 1
fi
REF=ours
if [ $have_ours = 0 ]; then
	REF=${cfgs[0]%% *}
	note "our allocator is not available: ratios are against $REF"
fi

# ---- running ---------------------------------------------------------------
mkdir -p "$OUT" "$RUNDIR"
rm -f "$OUT"/fail-*.stderr
echo "bench,allocator,rep,threads,scale,time_s,peak_rss_kb,post_burst_rss_kb,checksum,status,cpu_s" >"$CSV"
declare -A skip
nruns=$((REPS * ${#rows[@]} * ${#cfgs[@]}))
note "$nruns runs: ${#rows[@]} rows x ${#cfgs[@]} allocator configs x $REPS reps (timeout ${TIMEOUT}s each)"
t_start=$(date +%s)
bad=0

run_one() { # rep row-name binary threads label library conf [run-dir [cpu]]
	local rep=$1 name=$2 bin=$3 thr=$4 label=$5 so=$6 conf=$7 dir=${8:-$RUNDIR} cpu=${9:-}
	local key="$name/$label" tf=$dir/time.txt of=$dir/out.txt ef=$dir/err.txt
	local envs=(env -u MALLOC_CONF -u LD_PRELOAD)
	[ -n "$cpu" ] && envs=(taskset -c "$cpu" "${envs[@]}")
	[ "$so" != - ] && envs+=("LD_PRELOAD=$so")
	[ "$conf" != - ] && envs+=("MALLOC_CONF=$conf")
	if [ -n "${skip[$key]:-}" ]; then
		echo "$name,$label,$rep,$thr,$SCALE,,,,,skipped," >>"$CSV"
		return
	fi
	rm -f "$tf"
	# build/bench/timeit (bench/tools/timeit.c): /usr/bin/time's figures with
	# CPU times in microseconds instead of 10 ms steps.
	(cd "$dir" && timeout -k 5 "$TIMEOUT" "$OUT/timeit" -o "$tf" \
		"${envs[@]}" "$OUT/$bin" "$thr" "$SCALE" >"$of" 2>"$ef")
	local rc=$? status=ok t="" m="" post="" sum="" us="" sy="" cpu=""
	if [ -s "$tf" ]; then
		read -r t m us sy < <(tail -n 1 "$tf")
		t=$(awk -v t="$t" 'BEGIN { printf "%.3f", t }')
		cpu=$(awk -v u="$us" -v s="$sy" 'BEGIN { printf "%.4f", u + s }')
	fi
	sum=$(sed -n 's/.*checksum=\([0-9a-f]*\).*/\1/p' "$of" | tail -n 1)
	post=$(sed -n 's/.*post_burst_rss_kb=\([0-9]*\).*/\1/p' "$of" | tail -n 1)
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		status=timeout
	elif [ $rc != 0 ] || [ -z "$sum" ]; then
		status="fail-rc$rc"
	fi
	if [ $status != ok ]; then
		bad=$((bad + 1))
		[ $status = timeout ] && skip[$key]=1
		note "$label on $name (rep $rep): $status; stderr: $(head -c 300 "$ef" | tr '\n' ' ')"
		cp "$ef" "$OUT/fail-$name-$label.stderr" 2>/dev/null
		t="" m="" post="" cpu=""
	fi
	echo "$name,$label,$rep,$thr,$SCALE,$t,$m,$post,$sum,$status,$cpu" >>"${10:-$CSV}"
}

# BENCH_PAIRED: the two configs of a row at once, each in its own run
# directory and CSV part (merged in config order: the table does not care).
PAIRED=0
if [ "${BENCH_PAIRED:-0}" != 0 ]; then
	if [ ${#cfgs[@]} = 2 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
		PAIRED=1
	else
		note "BENCH_PAIRED: needs two allocator configs, two CPUs and taskset: runs one after the other"
	fi
fi
# How the rows ran, for readers of the CSV (bench/check_cost labels its table).
echo "$PAIRED" >"${CSV%.csv}.paired"
run_pair() { # rep row-name binary threads
	local rep=$1 name=$2 bin=$3 thr=$4 i label so conf cpu
	for ((i = 0; i < 2; i++)); do
		read -r label so conf <<<"${cfgs[$i]}"
		cpu=""
		[ "$thr" = 1 ] && cpu=$(((i + rep) % 2))
		mkdir -p "$RUNDIR/pair$i"
		: >"$RUNDIR/pair$i.csv"
		run_one "$rep" "$name" "$bin" "$thr" "$label" "$so" "$conf" "$RUNDIR/pair$i" "$cpu" \
			"$RUNDIR/pair$i.csv" &
	done
	wait
	# The subshells' failure counts and timeouts, from their CSV lines.
	local line f
	for f in "$RUNDIR/pair0.csv" "$RUNDIR/pair1.csv"; do
		while IFS= read -r line; do
			IFS=, read -r _ label _ _ _ _ _ _ _ status _ <<<"$line"
			case "$status" in ok | skipped) ;; *) bad=$((bad + 1)) ;; esac
			[ "$status" = timeout ] && skip["$name/$label"]=1
		done <"$f"
		cat "$f" >>"$CSV"
	done
}

ncfg=${#cfgs[@]}
reps_done=0
for ((rep = 1; rep <= REPS; rep++)); do
	elapsed=$(($(date +%s) - t_start))
	if [ "$BUDGET" != 0 ] && [ $rep -gt 1 ] && [ $((elapsed + elapsed / (rep - 1))) -gt "$BUDGET" ]; then
		note "stopping after $reps_done of $REPS reps: another would pass BENCH_BUDGET=${BUDGET}s (machine busy?)"
		break
	fi
	printf 'bench: rep %d/%d:' "$rep" "$REPS" >&2
	for row in "${rows[@]}"; do
		read -r name bin thr <<<"$row"
		printf ' %s' "$name" >&2
		if [ $PAIRED = 1 ]; then
			run_pair "$rep" "$name" "$bin" "$thr"
			continue
		fi
		for ((i = 0; i < ncfg; i++)); do
			# rotate the allocator order each repetition
			read -r label so conf <<<"${cfgs[$(((i + rep - 1) % ncfg))]}"
			run_one "$rep" "$name" "$bin" "$thr" "$label" "$so" "$conf"
		done
	done
	printf ' (%ds so far)\n' "$(($(date +%s) - t_start))" >&2
	reps_done=$rep
done

# A checksum that differs from the one most runs of that row agree on marks
# the run "badsum" (a broken allocator, or a benchmark that isn't deterministic).
awk -F, -v OFS=, '
NR == FNR { if (FNR > 1 && $10 == "ok") n[$1 SUBSEP $9]++; next }
FNR == 1 { print; next }
{
	if ($10 == "ok") {
		best = 0
		for (k in n) { split(k, kk, SUBSEP); if (kk[1] == $1 && n[k] > best) { best = n[k]; sum = kk[2] } }
		if ($9 != sum) { $10 = "badsum"; $6 = $7 = $8 = $11 = "" }
	}
	print
}' "$CSV" "$CSV" >"$CSV.tmp" && mv "$CSV.tmp" "$CSV"
badsum=$(grep -c ',badsum,' "$CSV")
if [ "$badsum" != 0 ]; then
	bad=$((bad + badsum))
	grep ',badsum,' "$CSV" | cut -d, -f1,2,3,9 | sed 's/^/bench: wrong checksum: /' >&2
fi

# ---- the table -------------------------------------------------------------
order=""
for c in "${cfgs[@]}"; do order="$order ${c%% *}"; done
rownames=""
for row in "${rows[@]}"; do rownames="$rownames ${row%% *}"; done

awk -F, -v ref="$REF" -v order="$order" -v rownames="$rownames" -v reps="$reps_done" \
	-v threads="$THREADS" -v scale="$SCALE" -v secs="$(($(date +%s) - t_start))" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	if (n == 0) return ""
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(x, f) { return x == "" ? "-" : sprintf(f, x) }
function ratio(peer, ours) { return (peer == "" || ours == "" || ours + 0 <= 0) ? "" : peer / ours }
NR > 1 {
	k = $1 SUBSEP $2
	runs[k]++
	if ($10 == "ok") {
		ok[k]++
		T[k] = T[k] " " $6; M[k] = M[k] " " $7; C[k] = C[k] " " $11
		if ($8 != "") P[k] = P[k] " " $8
	} else if ($10 != "skipped") st[k] = $10
}
END {
	na = split(order, al, " "); nb = split(rownames, bn, " ")
	printf "liballoc bench: medians of %d reps, THREADS=%s, SCALE=%s (%ds total)\n", reps, threads, scale, secs
	printf "ratios are peer/%s: >1 means %s is faster or smaller\n", ref, ref
	printf "time_s wall, cpu_s user+sys, peak_MB max RSS (bench/tools/timeit); post_MB RSS after the burst settles\n\n"
	hdr = sprintf("%-16s %-16s %8s %7s %7s %9s %7s %9s %7s %5s", "bench", "allocator", "time_s", "t/" ref, "cpu_s", "peak_MB", "m/" ref, "post_MB", "p/" ref, "ok")
	print hdr
	gsub(/./, "-", hdr); print hdr
	for (b = 1; b <= nb; b++) {
		bench = bn[b]
		kr = bench SUBSEP ref
		rt = median(T[kr]); rm = median(M[kr]); rp = median(P[kr])
		for (a = 1; a <= na; a++) {
			k = bench SUBSEP al[a]
			if (!(k in runs)) continue
			t = median(T[k]); m = median(M[k]); p = median(P[k]); c = median(C[k])
			tr = ratio(t, rt); mr = ratio(m, rm); pr = ratio(p, rp)
			printf "%-16s %-16s %8s %7s %7s %9s %7s %9s %7s %5s%s\n", (a == 1 ? bench : ""), al[a],
				fmt(t, "%.3f"), fmt(tr, "%.2f"), fmt(c, "%.2f"), fmt(m == "" ? "" : m / 1024, "%.1f"), fmt(mr, "%.2f"),
				fmt(p == "" ? "" : p / 1024, "%.1f"), fmt(pr, "%.2f"), ok[k] + 0 "/" runs[k],
				(k in st) ? "  " st[k] : ""
			if (t != "") { lt[al[a]] += log(t); nt[al[a]]++ }
			if (c != "" && c > 0) { lc[al[a]] += log(c); nc[al[a]]++ }
			if (m != "") { lm[al[a]] += log(m / 1024); nm[al[a]]++ }
			if (tr != "") { ltr[al[a]] += log(tr); ntr[al[a]]++ }
			if (mr != "") { lmr[al[a]] += log(mr); nmr[al[a]]++ }
			if (p != "") { lp[al[a]] += log(p / 1024); np[al[a]]++ }
			if (pr != "") { lpr[al[a]] += log(pr); npr[al[a]]++ }
			t = m = p = c = ""
		}
	}
	print hdr
	for (a = 1; a <= na; a++) {
		x = al[a]
		printf "%-16s %-16s %8s %7s %7s %9s %7s %9s %7s %5s\n", (a == 1 ? "geomean" : ""), x,
			fmt(nt[x] ? exp(lt[x] / nt[x]) : "", "%.3f"), fmt(ntr[x] ? exp(ltr[x] / ntr[x]) : "", "%.2f"),
			fmt(nc[x] ? exp(lc[x] / nc[x]) : "", "%.2f"),
			fmt(nm[x] ? exp(lm[x] / nm[x]) : "", "%.1f"), fmt(nmr[x] ? exp(lmr[x] / nmr[x]) : "", "%.2f"),
			fmt(np[x] ? exp(lp[x] / np[x]) : "", "%.1f"), fmt(npr[x] ? exp(lpr[x] / npr[x]) : "", "%.2f"),
			nt[x] + 0 "/" nb
	}
	printf "(geomean time_s / peak_MB over the rows that allocator completed; ratio geomeans over rows both completed)\n"

	# Profiler overhead: label "base+profNN" against "base".
	np2 = 0
	for (a = 1; a <= na; a++) if (index(al[a], "+prof")) pl[++np2] = al[a]
	if (np2 == 0) exit
	printf "\nprofiler overhead vs the same allocator with prof:false (time %% / peak RSS %%)\n"
	line = sprintf("%-16s", "bench")
	for (i = 1; i <= np2; i++) line = line sprintf(" %22s", pl[i])
	print line
	for (b = 1; b <= nb; b++) {
		line = sprintf("%-16s", bn[b])
		for (i = 1; i <= np2; i++) {
			base = pl[i]; sub(/\+prof.*/, "", base)
			t0 = median(T[bn[b] SUBSEP base]); t1 = median(T[bn[b] SUBSEP pl[i]])
			m0 = median(M[bn[b] SUBSEP base]); m1 = median(M[bn[b] SUBSEP pl[i]])
			cell = "-"
			if (t0 != "" && t1 != "" && t0 > 0 && m0 > 0) {
				ot = (t1 / t0 - 1) * 100; om = (m1 / m0 - 1) * 100
				cell = sprintf("%+.1f%% / %+.1f%%", ot, om)
				go[i] += log(t1 / t0); gm[i] += log(m1 / m0); gn[i]++
			}
			line = line sprintf(" %22s", cell)
		}
		print line
	}
	line = sprintf("%-16s", "geomean")
	for (i = 1; i <= np2; i++)
		line = line sprintf(" %22s", gn[i] ? sprintf("%+.1f%% / %+.1f%%", (exp(go[i] / gn[i]) - 1) * 100, (exp(gm[i] / gn[i]) - 1) * 100) : "-")
	print line
}' "$CSV" | tee "$TABLE"

if [ $bad != 0 ]; then
	echo "bench: $bad run(s) failed, timed out or gave a wrong checksum (see $CSV, $OUT/fail-*.stderr)" | tee -a "$TABLE"
fi

# ---- extra suites owned by others (e.g. bench/jeprof/run.sh) ----------------
if [ "$BENCH_EXTRA" != 0 ]; then
	export BENCH_OUT=$OUT REPS THREADS SCALE PROF
	export OURS_SO="${OURS_SO:-$ROOT/build/liballoc.so}"
	for extra in bench/*/run.sh; do
		[ -f "$extra" ] || continue
		echo | tee -a "$TABLE"
		echo "== $extra" | tee -a "$TABLE"
		bash "$extra" 2>&1 | tee -a "$TABLE"
		rc=${PIPESTATUS[0]}
		[ "$rc" = 0 ] || echo "bench: $extra exited with $rc" | tee -a "$TABLE"
	done
fi
exit 0
