"""Writes the benchmark report (Markdown) from a run's results.

Usage: python3 report.py RESULTS_TSV META_DIR OUTPUT_MD

RESULTS_TSV has one row per measured run (see measure() in lib.sh):
target service workload connections requests rps p50_ms p99_ms errors
cpu_app_s cpu_backing_s hwm_app_mib hwm_backing_mib wrk_cpu_s other_cpu_s
duration_s valid
META_DIR holds one file per fact about the run (command, date, machine,
descriptions of the targets and workloads, bcrypt cost, durable create
rate).
"""
import os
import sys

COLUMNS = ["target", "service", "workload", "connections", "requests", "rps",
           "p50_ms", "p99_ms", "errors", "cpu_app_s", "cpu_backing_s",
           "hwm_app_mib", "hwm_backing_mib", "wrk_cpu_s", "other_cpu_s",
           "duration_s", "valid"]

# Share of the machine's core-seconds that other processes may use during a
# run before the run is flagged as disturbed.
NOISE_LIMIT = 0.05

SERVICE_TITLES = {"identity": "Identity (Keystone v3 API)",
                  "object": "Object storage (Swift v1 API)"}

# What the "backing" process group of a target is, per service.
BACKING_LABELS = {"identity": "db+cache", "object": "cache+log"}

# Targets that are ceilings of the machine, not implementations of the API:
# no ratio table against the reference.
CEILING_TARGETS = ("nginx",)

# Bytes per response of the workloads reported as throughput.
RESPONSE_BYTES = {"get_64m": 64 * 1024 * 1024}

# The object storage goals: (label, workload, connections, unit, least
# onestack / reference ratio).
OBJECT_GOALS = [
    ("PUT 4 KiB", "put_4k", 64, "req/s", 20),
    ("GET 4 KiB", "get_4k", 64, "req/s", 50),
    ("GET 64 MiB", "get_64m", 1, "MB/s", 3),
    ("GET 64 MiB", "get_64m", 4, "MB/s", 3),
    ("listing of 10,000 (JSON)", "list_10k", 4, "req/s", 20),
]
# Memory: reference / onestack at least this.
OBJECT_MEMORY_GOAL = 10
# Large GET: onestack within this factor of nginx serving the same file.
OBJECT_NGINX_FACTOR = 1.5


def read_rows(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            row = dict(zip(COLUMNS, line.split("\t")))
            for key in COLUMNS[3:-1]:
                row[key] = float(row[key])
            rows.append(row)
    return rows


def read_meta(directory):
    meta = {}
    for name in os.listdir(directory):
        with open(os.path.join(directory, name)) as f:
            meta[name] = f.read().strip()
    return meta


def fmt(value, digits=1):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def cpu_total(row):
    return row["cpu_app_s"] + row["cpu_backing_s"]


def cpu_ms_per_request(row):
    if row["requests"] <= 0:
        return None
    return 1000.0 * cpu_total(row) / row["requests"]


def ratio(new, base):
    if new is None or base is None or base == 0:
        return None
    return new / base


def disturbed(row, cores):
    return row["other_cpu_s"] > NOISE_LIMIT * cores * row["duration_s"]


def status(row, cores):
    if row["valid"] != "yes":
        return "**INVALID**"
    if disturbed(row, cores):
        return "disturbed"
    return "ok"


def target_table(rows, has_backing, cores, backing="db+cache"):
    out = []
    if has_backing:
        out.append("| workload | conns | req/s | p50 ms | p99 ms | errors | "
                   f"CPU s service | CPU s {backing} | CPU ms/req (all) | "
                   f"peak RSS MiB service | peak RSS MiB {backing} | "
                   "CPU s wrk | CPU s other | run |")
        out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    else:
        out.append("| workload | conns | req/s | p50 ms | p99 ms | errors | "
                   "CPU s | CPU ms/req | peak RSS MiB | CPU s wrk | "
                   "CPU s other | run |")
        out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    for r in rows:
        cells = [r["workload"], f"{r['connections']:.0f}", fmt(r["rps"]),
                 fmt(r["p50_ms"], 2), fmt(r["p99_ms"], 2),
                 f"{r['errors']:.0f}"]
        if has_backing:
            cells += [fmt(r["cpu_app_s"], 2), fmt(r["cpu_backing_s"], 2),
                      fmt(cpu_ms_per_request(r), 2), fmt(r["hwm_app_mib"]),
                      fmt(r["hwm_backing_mib"])]
        else:
            cells += [fmt(cpu_total(r), 2), fmt(cpu_ms_per_request(r), 2),
                      fmt(r["hwm_app_mib"] + r["hwm_backing_mib"])]
        cells += [fmt(r["wrk_cpu_s"], 2), fmt(r["other_cpu_s"], 2),
                  status(r, cores)]
        out.append("| " + " | ".join(cells) + " |")
    return out


def ratio_table(base_rows, new_rows, cores):
    base = {(r["workload"], r["connections"]): r for r in base_rows}
    out = ["| workload | conns | req/s | p50 | p99 | CPU s (all) | "
           "CPU per request | peak RSS (all) | runs |",
           "|---|--:|--:|--:|--:|--:|--:|--:|---|"]
    for r in new_rows:
        b = base.get((r["workload"], r["connections"]))
        if b is None:
            continue
        if r["valid"] != "yes" or b["valid"] != "yes":
            runs = "**INVALID** (errors in a run)"
        elif disturbed(r, cores) or disturbed(b, cores):
            runs = "disturbed (other load on the machine)"
        else:
            runs = "ok"
        cells = [r["workload"], f"{r['connections']:.0f}",
                 fmt(ratio(r["rps"], b["rps"]), 2),
                 fmt(ratio(r["p50_ms"], b["p50_ms"]), 2),
                 fmt(ratio(r["p99_ms"], b["p99_ms"]), 2),
                 fmt(ratio(cpu_total(r), cpu_total(b)), 2),
                 fmt(ratio(cpu_ms_per_request(r), cpu_ms_per_request(b)), 2),
                 fmt(ratio(r["hwm_app_mib"] + r["hwm_backing_mib"],
                           b["hwm_app_mib"] + b["hwm_backing_mib"]), 2),
                 runs]
        out.append("| " + " | ".join(cells) + " |")
    return out


def main():
    rows = read_rows(sys.argv[1])
    meta = read_meta(sys.argv[2])
    output = sys.argv[3]
    targets = []
    for r in rows:
        if r["target"] not in targets:
            targets.append(r["target"])
    baseline = "reference"
    others = [t for t in targets if t != baseline and t not in CEILING_TARGETS]
    compared = "onestack" in targets
    cores = float(meta.get("nproc", "1"))

    md = ["# Benchmarks", ""]
    md.append("Generated by `bench/run.sh`; do not edit by hand, re-run it.")
    md.append("")
    if compared and baseline not in targets:
        md.append("**onestack only: this report has no reference figures to "
                  "compare with.**")
        md.append("")
    if not compared:
        md.append("**Reference only: this report does not measure onestack.** "
                  "It records the reference service's figures on this machine "
                  "(and, with `--self-check`, a second run of the same "
                  "reference to show run-to-run noise).")
        md.append("")
    bad = [r for r in rows if r["valid"] != "yes"]
    noisy = [r for r in rows if disturbed(r, cores)]
    if bad:
        md += [f"**{len(bad)} run(s) had errors and are marked INVALID.**", ""]
    if noisy:
        md += [f"**{len(noisy)} of {len(rows)} run(s) were disturbed by other "
               "load on the machine (column \"CPU s other\"); their figures "
               "understate both services and the ratios are less reliable. "
               "Re-run on a quiet machine.**", ""]
    md += ["## Run", "",
           f"- Command: `{meta.get('command', '?')}`",
           f"- Date: {meta.get('date', '?')}",
           f"- Machine: {meta.get('nproc', '?')} cores ({meta.get('cpu', '?')}), "
           f"{meta.get('memory', '?')} memory, kernel {meta.get('kernel', '?')}, "
           f"{meta.get('os', '?')}; load average at start "
           f"{meta.get('loadavg', '?')}",
           f"- Load generator: {meta.get('wrk', 'wrk')}, "
           f"{meta.get('wrk_threads', '?')} threads (at most one per connection), "
           f"{meta.get('duration', '?')} s per run after a "
           f"{meta.get('warmup', '?')} s warm-up, timeout "
           f"{meta.get('wrk_timeout', '?')} s; it runs on the same cores as the "
           "services.",
           ]
    if meta.get("nice"):
        md.append(f"- Priority: services and wrk ran at nice {meta['nice']} "
                  "to favour them over other load on the machine.")
    md += ["", "## Setup", ""]
    described = set()
    for t in targets:
        base = t.split("-")[0]
        key = "describe_" + base
        if key in meta and base not in described:
            described.add(base)
            md.append(f"- **{base}**: " + " ".join(meta[key].split()))
            if key + "_object" in meta:
                md.append(f"- **{base}, object storage**: " +
                          " ".join(meta[key + "_object"].split()))
    md.append("")

    services = []
    for r in rows:
        if r["service"] not in services:
            services.append(r["service"])
    for service in services:
        md += [f"## {SERVICE_TITLES.get(service, service)}", ""]
        docs = meta.get(f"workloads_{service}", "")
        if docs:
            md += ["Workloads:", ""]
            md += [f"- {line}" for line in docs.splitlines() if line.strip()]
            md.append("")
        for t in targets:
            trows = [r for r in rows if r["target"] == t and r["service"] == service]
            if not trows:
                continue
            has_backing = any(r["cpu_backing_s"] > 0 or r["hwm_backing_mib"] > 0
                              for r in trows)
            md += [f"### {t}", ""] + target_table(
                trows, has_backing, cores,
                BACKING_LABELS.get(service, "backing")) + [""]
        base_rows = [r for r in rows if r["target"] == baseline and r["service"] == service]
        for t in others if base_rows else []:
            new_rows = [r for r in rows if r["target"] == t and r["service"] == service]
            if not new_rows:
                continue
            label = (f"{t} / {baseline}" if t == "onestack"
                     else f"{t} / {baseline} (same service measured twice: run-to-run noise)")
            md += [f"### Ratio {label}", "",
                   "Above 1 means more of it: more req/s is better; lower "
                   "latency, CPU and memory are better.", ""]
            md += ratio_table(base_rows, new_rows, cores) + [""]
        if service == "identity" and "bcrypt" in meta:
            md += bcrypt_section(meta, rows)
        if service == "object":
            md += object_section(meta, [r for r in rows if r["service"] == "object"])

    md += ["## Notes", ""]
    md += [f"- {line}" for line in meta.get("notes", "").splitlines() if line.strip()]
    md.append("")
    with open(output, "w") as f:
        f.write("\n".join(md))


def find(rows, target, workload, conns):
    for r in rows:
        if (r["target"], r["workload"], r["connections"]) == (target, workload, conns):
            return r
    return None


def throughput(row, unit):
    """req/s, or MB/s (10^6 bytes) for the workloads of RESPONSE_BYTES."""
    if row is None:
        return None
    if unit == "MB/s":
        return row["rps"] * RESPONSE_BYTES[row["workload"]] / 1e6
    return row["rps"]


def peak_rss(rows, target):
    """Largest summed peak RSS (service + backing) over a target's runs."""
    values = [r["hwm_app_mib"] + r["hwm_backing_mib"]
              for r in rows if r["target"] == target]
    return max(values) if values else None


def goal_row(label, conns, unit, left, right, r, goal, goal_text, runs):
    """One goal table row: the two figures, their ratio R, the goal and
    whether R meets it (runs: the result rows the figures come from)."""
    if r is None:
        met = "–"
    elif any(x is None or x["valid"] != "yes" for x in runs):
        met = "**INVALID** run"
    else:
        met = "yes" if r >= goal else "**no**"
    cells = [label, conns, unit, fmt(left), fmt(right), fmt(r, 2), goal_text, met]
    return "| " + " | ".join(cells) + " |"


def percent(share):
    if share is None:
        return "–"
    return f"{100 * share:.1f}%" if share < 0.1 else f"{100 * share:.0f}%"


def object_section(meta, rows):
    """Goals, ceilings (nginx, durable creates) and memory of object storage."""
    cores = float(meta.get("nproc", "1"))
    out = ["### Object storage goals", "",
           "Throughput: onestack / reference (higher is better). Memory: "
           "reference / onestack (how many times smaller onestack is). Large "
           "GET against nginx: onestack / nginx.", "",
           "| what | conns | unit | reference (or nginx) | onestack | ratio | goal | met |",
           "|---|--:|---|--:|--:|--:|---|---|"]
    for label, workload, conns, unit, goal in OBJECT_GOALS:
        b = find(rows, "reference", workload, conns)
        n = find(rows, "onestack", workload, conns)
        base, new = throughput(b, unit), throughput(n, unit)
        out.append(goal_row(label, str(conns), unit, base, new, ratio(new, base),
                            goal, f"≥ {goal}×", [b, n]))
    ref_mem, one_mem = peak_rss(rows, "reference"), peak_rss(rows, "onestack")
    out.append(goal_row("peak RSS over the object runs", "", "MiB", ref_mem,
                        one_mem, ratio(ref_mem, one_mem), OBJECT_MEMORY_GOAL,
                        f"≥ {OBJECT_MEMORY_GOAL}× smaller",
                        [r for r in rows if r["target"] in ("reference", "onestack")]))
    for label, workload, conns, unit, _ in OBJECT_GOALS:
        if workload != "get_64m":
            continue
        x = find(rows, "nginx", workload, conns)
        n = find(rows, "onestack", workload, conns)
        ceiling, new = throughput(x, unit), throughput(n, unit)
        out.append(goal_row(f"{label}, against nginx", str(conns), unit,
                            ceiling, new, ratio(new, ceiling),
                            1 / OBJECT_NGINX_FACTOR,
                            f"within {OBJECT_NGINX_FACTOR}× of nginx "
                            f"(≥ {1 / OBJECT_NGINX_FACTOR:.2f})", [x, n]))
    out.append("")

    out += ["### Ceilings on this machine", "",
            "nginx serving the same files (sendfile, page cache) with the same "
            "client, and the disk's rate of durable 4 KiB file creates; each "
            "target's figure as a share of the ceiling.", "",
            "| ceiling | conns | value | reference | onestack |",
            "|---|--:|--:|--:|--:|"]
    for workload, conns, unit in (("get_4k", 64, "req/s"), ("get_64m", 1, "MB/s"),
                                  ("get_64m", 4, "MB/s")):
        x = find(rows, "nginx", workload, conns)
        if x is None:
            continue
        cells = [f"nginx, {workload}", str(conns),
                 f"{fmt(throughput(x, unit))} {unit}"]
        for t in ("reference", "onestack"):
            share = ratio(throughput(find(rows, t, workload, conns), unit),
                          throughput(x, unit))
            cells.append(percent(share))
        out.append("| " + " | ".join(cells) + " |")
    if "fsync_bound" in meta:
        f = dict(kv.split("=") for kv in meta["fsync_bound"].split())
        bound = float(f["creates_per_s"])
        cells = ["durable 4 KiB file creates", f["threads"] + " threads",
                 f"{bound:,.0f} creates/s"]
        for t in ("reference", "onestack"):
            r = find(rows, t, "put_4k", 64)
            share = ratio(r["rps"] if r else None, bound)
            cells.append("–" if share is None else f"PUT 4 KiB: {percent(share)}")
        out.append("| " + " | ".join(cells) + " |")
        out += ["", "Durable creates: each thread, in its own directory, "
                "creates a temp file, writes 4 KiB, fdatasyncs it, renames it "
                "and fsyncs the directory, for "
                f"{f['seconds']} s (`fsync_bound.py`, Python threads: the "
                f"syscalls release the GIL; it used {float(f['cpu_s']):.1f} CPU s "
                f"of the machine's {cores * float(f['seconds']):.0f}). A PUT "
                "that makes its object durable before it answers, one file per "
                "object (the reference), cannot go much faster than this on "
                "this disk. onestack keeps objects up to 64 KiB as rows of its "
                "database (`[object] inline_max_bytes`), written through the "
                "group commit that also writes their listing rows, so its 4 KiB "
                "PUT is not bound by file creates but by CPU and the commit's "
                "fsync."]
    out.append("")
    return out


def bcrypt_section(meta, rows):
    costs = dict(kv.split("=") for kv in meta["bcrypt"].split())
    cores = float(meta.get("nproc", "1"))
    out = ["### Password issue: the bcrypt bound", "",
           "Each password token costs one bcrypt check at cost 12. Measured "
           "here (CPU seconds per check, median of 5):", ""]
    for name, secs in costs.items():
        s = float(secs)
        out.append(f"- {name}: {s * 1000:.0f} ms, so at most "
                   f"{cores / s:.1f} checks/s on {cores:.0f} cores")
    best = min(float(s) for s in costs.values())
    out.append("")
    for r in rows:
        if r["workload"] == "issue_password_token":
            out.append(f"- {r['target']}: {r['rps']:.1f} req/s = "
                       f"{100 * r['rps'] * best / cores:.0f}% of the bound "
                       f"({cores / best:.1f}/s)")
    out.append("")
    return out


if __name__ == "__main__":
    main()
