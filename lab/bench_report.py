#!/usr/bin/env python3
"""What the benchmark scripts print, read from run records (never from another command's output).

  bench_report.py native RECORD [FLOOR_S [FLOOR_CPU_US]]
                                               one native run's figures, its time to target and its ramp's
                                               busy CPU a connection each over the floor's
  bench_report.py lab APPROACH NATIVE LAB      a lab run beside the native one made just before it
  bench_report.py swarm APPROACH COMPOSE SWARM the swarm lab's run beside the compose lab's made before it
  bench_report.py ttt RECORD                   the record's time to target in seconds ("" if never reached)
  bench_report.py cpu RECORD                   its ramp's busy CPU microseconds a connection ("" if not measured)
  bench_report.py rtt RECORD PERCENTILE        its live hold's ping round trip at p99 or p999, in ms ("" if none)
  bench_report.py medians LABEL TARGET RUN...  median ratio per approach; RUN is APPROACH:NUMERATOR:DENOMINATOR
                                               (seconds), TARGET a bound or "-"

Every figure may be null in a record (a run that never reached its target has no time to target; a
slab that shrank during a run gives no kernel bytes per socket): it prints "n/a", never aborts.

Figures are read by their names in the record's schema (results/run-record.schema.json, made from
the record's field table, src/core/record/record_fields.cpp): a name the schema does not have stops
the report with exit 2, so a renamed figure cannot print "n/a" for ever unnoticed.
"""
import json
import os
import statistics
import sys

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results", "run-record.schema.json")


class Schema:
    """The record's schema, as a table of dotted names: results.time_to_target_s, series.ping_rtt_ms.p99."""

    def __init__(self, path=SCHEMA):
        with open(path) as f:
            self.doc = json.load(f)

    def node(self, name):
        node = self.doc
        for part in name.split("."):
            while "$ref" in node:
                node = self.doc["$defs"][node["$ref"].split("/")[-1]]
            if node.get("type") == "array" or "items" in node:
                node = node.get("items", {})
            props = node.get("properties") or {}
            if part not in props:
                raise ValueError(f"{name}: not a figure of the run record's schema ({SCHEMA})")
            node = props[part]
        return node


_schema = None


def known(name):
    """The name, once the schema has it."""
    global _schema
    if _schema is None:
        _schema = Schema()
    _schema.node(name)
    return name


class Record:
    """A run record read by the schema's names."""

    def __init__(self, path):
        with open(path) as f:
            self.doc = json.load(f)

    def __getitem__(self, name):
        value = self.doc
        for part in known(name).split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def series(self, *names):
        """The series' points, and the names each is read by (checked against the schema)."""
        for name in names:
            known("series." + name)
        return [p for p in self.doc.get("series") or [] if isinstance(p, dict)]

    def outside_schema(self, key):
        """A part the schema leaves open: the server's own stats document (core/record/server_stats), the lab's facts."""
        return self.doc.get(key) or {}


def fig(value, fmt="{:.1f}"):
    return fmt.format(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else "n/a"


def gigabytes(value):
    return fig(value / 1e9 if isinstance(value, (int, float)) and not isinstance(value, bool) else None)


def native(path, floor="", floor_cpu_us=""):
    r = Record(path)
    ttt = r["results.time_to_target_s"]
    print(f"  established client {fig(r['results.established_peak_client'], '{:.0f}')} server {fig(r['results.established_peak_server'], '{:.0f}')} "
          f"errors {fig(r['results.errors_total'], '{:.0f}')} time_to_target_s {fig(ttt, '{:.2f}')} "
          f"connect_rate_per_s {fig(r['results.connect_rate_per_s'], '{:.0f}')}")
    if floor and isinstance(ttt, (int, float)):
        print(f"  time to target / floor = {ttt:.2f} / {float(floor):.2f} = {ttt / float(floor):.3f}")
    print(f"  user bytes/conn client {fig(r['memory.user_bytes_per_connection_client'])} server {fig(r['memory.user_bytes_per_connection_server'])}; "
          f"kernel bytes/socket {fig(r['memory.kernel_bytes_per_socket'], '{:.0f}')}; "
          f"available at the peak {gigabytes(r['memory.mem_available_at_peak_bytes'])} GB")
    busy, us = r["results.ramp_cpu_busy_s"], r["results.ramp_cpu_busy_us_per_connection"]
    print(f"  ramp cpu: machine busy {fig(busy, '{:.2f}')} s, steal {fig(r['results.ramp_cpu_steal_s'], '{:.2f}')} s, "
          f"{fig(us, '{:.2f}')} us/connection; own processes client {fig(r['results.ramp_cpu_client_s'], '{:.2f}')} s "
          f"(user mode {fig(r['results.ramp_cpu_client_user_s'], '{:.2f}')}), "
          f"server {fig(r['results.ramp_cpu_server_s'], '{:.2f}')} s (user mode {fig(r['results.ramp_cpu_server_user_s'], '{:.2f}')})")
    if floor_cpu_us and isinstance(us, (int, float)) and float(floor_cpu_us) > 0:
        print(f"  ramp busy cpu a connection / floor = {us:.2f} / {float(floor_cpu_us):.2f} us = {us / float(floor_cpu_us):.3f}")
    print(f"  hold cpu cores client {fig(r['results.hold_cpu_cores_client'], '{:.4f}')} server {fig(r['results.hold_cpu_cores_server'], '{:.4f}')}")
    live(r)


def live(r):
    """The live hold's lines, when the run had one."""
    if not isinstance(r["results.live_hold_s"], (int, float)):
        return
    print(f"  live hold {fig(r['results.live_hold_s'])} s: {fig(r['results.live_pings_per_s'], '{:.0f}')} pings/s, "
          f"{fig(r['results.pongs_received'], '{:.0f}')} answers; rtt p99 {fig(r['results.ping_rtt_ms.p99'], '{:.2f}')} ms, "
          f"p99.9 {fig(r['results.ping_rtt_ms.p999'], '{:.2f}')} ms, max {fig(r['results.ping_rtt_ms.max'], '{:.2f}')} ms; "
          f"{fig(r['results.pings_late'], '{:.0f}')} late, {fig((r['results.errors'] or {}).get('no_answer'), '{:.0f}')} never answered")
    print(f"  live cpu: client {fig(r['results.live_cpu_cores_client'], '{:.3f}')} cores "
          f"({fig(r['results.live_cpu_cores_per_1k_pings_per_s_client'], '{:.4f}')} per 1,000 pings/s), "
          f"server {fig(r['results.live_cpu_cores_server'], '{:.3f}')} cores "
          f"({fig(r['results.live_cpu_cores_per_1k_pings_per_s_server'], '{:.4f}')} per 1,000 pings/s); "
          f"machine busy {fig(r['results.live_cpu_machine_busy_cores'], '{:.2f}')} cores, "
          f"steal {fig(r['results.live_cpu_machine_steal_cores'], '{:.2f}')}")
    by_second(r.series("t_s", "ping_rtt_ms.p99", "ping_rtt_ms.max", "ping_rtt_ms.count", "machine_steal_cores",
                       "machine_busy_cores", "client_cores", "server_cores"))


def by_second(series):
    """When the round trips were long: the series' seconds with answers, by their own p99."""
    seconds = [(p.get("t_s"), dict(p["ping_rtt_ms"], steal=p.get("machine_steal_cores"), busy=p.get("machine_busy_cores"),
                                    client=p.get("client_cores"), server=p.get("server_cores")))
               for p in series if isinstance(p.get("ping_rtt_ms"), dict)]
    seconds = [(t, s) for t, s in seconds if isinstance(t, (int, float)) and isinstance(s.get("p99"), (int, float))]
    if not seconds:
        return
    p99s = sorted(s["p99"] for _, s in seconds)
    total = sum(s.get("count") or 0 for _, s in seconds)
    print(f"  live rtt by second ({len(seconds)} s with answers): p99 median {statistics.median(p99s):.2f} ms; "
          + "; ".join(f"{sum(1 for x in p99s if x > bound)} s over {bound} ms "
                      f"({100 * sum(s.get('count') or 0 for _, s in seconds if s['p99'] > bound) / max(total, 1):.1f}% of the answers)"
                      for bound in (20, 40)))
    worst = sorted(seconds, key=lambda ts: -ts[1]["p99"])[:5]
    print("  live rtt's worst seconds: " + ", ".join(
        f"t={t:.0f} s p99 {s['p99']:.1f} max {fig(s.get('max'))} ms steal {fig(s.get('steal'), '{:.2f}')} "
        f"busy {fig(s.get('busy'), '{:.2f}')} (client {fig(s.get('client'), '{:.2f}')}, server {fig(s.get('server'), '{:.2f}')})"
        for t, s in sorted(worst, key=lambda ts: ts[0])))
    stolen = [s for _, s in seconds if isinstance(s.get("steal"), (int, float)) and s["steal"] >= 0.05]
    if stolen:
        print(f"  live rtt in the {len(stolen)} s the hypervisor took 0.05 cores or more: p99 median "
              f"{statistics.median(s['p99'] for s in stolen):.2f} ms, against {statistics.median(p99s):.2f} ms over all")


def lab(approach, native_path, lab_path, run="lab", base="native"):
    n, l = Record(native_path), Record(lab_path)
    print(f"{approach}: {run} record {lab_path} ({l['status']}); {base} record {native_path} ({n['status']})")
    print(f"  {run}: established client {fig(l['results.established_peak_client'], '{:.0f}')} server {fig(l['results.established_peak_server'], '{:.0f}')} "
          f"errors {fig(l['results.errors_total'], '{:.0f}')}")
    a, b = l["results.time_to_target_s"], n["results.time_to_target_s"]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
        print(f"  time to target: {run} {a:.2f} s / {base} {b:.2f} s = {a / b:.3f}")
    else:
        print("  time to target: not reached by one side; no ratio")
    parts = l["participants"] or []
    addresses = sorted({a for p in parts for a in (p.get("addresses") or [])})
    ports = (l["topology"] or {}).get("server_listen") or []
    print(f"  {len(addresses)} distinct client addresses; server listening on {len(ports)} port(s): "
          f"{', '.join(ports[:3])}{' ...' if len(ports) > 3 else ''}")
    clients = [p for p in parts if p.get("role", "client") == "client"]
    ranges = sorted({(p.get("sysctls") or {}).get("net.ipv4.ip_local_port_range") for p in clients if p.get("sysctls")} - {None})
    nofiles = sorted({(p.get("limits") or {}).get("nofile_hard") for p in clients if p.get("limits")} - {None})
    srv = l.outside_schema("server")
    print(f"  read back in the containers: clients ip_local_port_range {ranges}, nofile {nofiles}; server somaxconn "
          f"{((srv.get('sysctls') or {}).get('namespaced') or {}).get('net.core.somaxconn')}, nofile {(srv.get('limits') or {}).get('nofile_hard')}")
    for node in l["nodes"] or []:
        print(f"  node {node.get('id', '?')[:12]} ({node.get('hostname')}, kernel {node.get('kernel')}): "
              f"{node.get('servers')} server(s), {node.get('clients')} client(s)")
    live(l)
    ct = l.outside_schema("lab").get("configured", {}).get("connection_tracking", "on")
    print(f"  connection tracking: {ct}; a client's namespace tracked {((l['results.conntrack_at_peak'] or {}).get('count'))} "
          f"connections at its peak")
    print(f"  memory: kernel {fig(l['memory.kernel_bytes_per_socket'])} B/socket, user {fig(l['memory.user_bytes_per_connection_client'])} B/conn client, "
          f"{fig(l['memory.user_bytes_per_connection_server'])} B/conn server; "
          f"available at the peak {gigabytes(l['memory.mem_available_at_peak_bytes'])} GB")


def swarm(approach, compose_path, swarm_path):
    lab(approach, compose_path, swarm_path, run="swarm", base="compose")


def figure(path, name):
    value = Record(path)[name]
    print(value if isinstance(value, (int, float)) and not isinstance(value, bool) else "")


def ttt(path):
    figure(path, "results.time_to_target_s")


def cpu(path):
    figure(path, "results.ramp_cpu_busy_us_per_connection")


def rtt(path, percentile):
    if percentile not in ("p99", "p999"):
        raise ValueError(f"rtt {percentile}: expected p99 or p999")
    value = Record(path)["results.ping_rtt_ms." + percentile]
    print(value if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else "")


def medians(label, target, runs):
    bound = None if target == "-" else float(target)
    by_approach = {}
    for run in runs:
        name, numerator, denominator = run.split(":")
        by_approach.setdefault(name, []).append(float(numerator) / float(denominator))
    for name, ratios in by_approach.items():
        median = statistics.median(ratios)
        verdict = "" if bound is None else f" ({'within' if median <= bound else 'over'} the {bound:g}x target)"
        print(f"{name}: {label} over {len(ratios)} round(s): {' '.join(f'{x:.3f}' for x in ratios)}; median {median:.3f}{verdict}")


def main(argv):
    commands = {"native": (native, 1, 3), "lab": (lab, 3, 3), "swarm": (swarm, 3, 3), "ttt": (ttt, 1, 1),
                "cpu": (cpu, 1, 1), "rtt": (rtt, 2, 2)}
    if argv and argv[0] == "medians" and len(argv) >= 3:
        return medians(argv[1], argv[2], argv[3:])
    if not argv or argv[0] not in commands or not commands[argv[0]][1] <= len(argv) - 1 <= commands[argv[0]][2]:
        sys.exit("bench_report.py: usage: native RECORD [FLOOR_S [FLOOR_CPU_US]] | lab APPROACH NATIVE LAB | swarm APPROACH COMPOSE SWARM | ttt RECORD | cpu RECORD | medians LABEL TARGET RUN...")
    try:
        commands[argv[0]][0](*argv[1:])
    except (OSError, ValueError) as e:
        print(f"bench_report.py: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
