#!/usr/bin/env python3
"""What the benchmark scripts print, read from run records (never from another command's output).

  bench_report.py native RECORD [FLOOR_S]      one native run's figures, and its ratio to the floor
  bench_report.py lab APPROACH NATIVE LAB      a lab run beside the native one made just before it
  bench_report.py ttt RECORD                   the record's time to target in seconds ("" if never reached)
  bench_report.py medians LABEL TARGET RUN...  median ratio per approach; RUN is APPROACH:NUMERATOR:DENOMINATOR
                                               (seconds), TARGET a bound or "-"

Every figure may be null in a record (a run that never reached its target has no time to target; a
slab that shrank during a run gives no kernel bytes per socket): it prints "n/a", never aborts.
"""
import json
import statistics
import sys


def fig(value, fmt="{:.1f}"):
    return fmt.format(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else "n/a"


def load(path):
    with open(path) as f:
        return json.load(f)


def native(path, floor=""):
    r = load(path)
    res, mem = r.get("results") or {}, r.get("memory") or {}
    ttt = res.get("time_to_target_s")
    print(f"  established client {fig(res.get('established_peak_client'), '{:.0f}')} server {fig(res.get('established_peak_server'), '{:.0f}')} "
          f"errors {fig(res.get('errors_total'), '{:.0f}')} time_to_target_s {fig(ttt, '{:.2f}')} "
          f"connect_rate_per_s {fig(res.get('connect_rate_per_s'), '{:.0f}')}")
    if floor and isinstance(ttt, (int, float)):
        print(f"  time to target / floor = {ttt:.2f} / {float(floor):.2f} = {ttt / float(floor):.3f}")
    print(f"  user bytes/conn client {fig(mem.get('user_bytes_per_connection_client'))} server {fig(mem.get('user_bytes_per_connection_server'))}; "
          f"kernel bytes/socket {fig(mem.get('kernel_bytes_per_socket'), '{:.0f}')}")
    print(f"  hold cpu cores client {fig(res.get('hold_cpu_cores_client'), '{:.4f}')} server {fig(res.get('hold_cpu_cores_server'), '{:.4f}')}")


def lab(approach, native_path, lab_path):
    n, l = load(native_path), load(lab_path)
    nr, lr = n.get("results") or {}, l.get("results") or {}
    print(f"{approach}: lab record {lab_path} ({l.get('status')}); native record {native_path} ({n.get('status')})")
    print(f"  lab: established client {fig(lr.get('established_peak_client'), '{:.0f}')} server {fig(lr.get('established_peak_server'), '{:.0f}')} "
          f"errors {fig(lr.get('errors_total'), '{:.0f}')}")
    a, b = lr.get("time_to_target_s"), nr.get("time_to_target_s")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
        print(f"  time to target: lab {a:.2f} s / native {b:.2f} s = {a / b:.3f}")
    else:
        print("  time to target: not reached by one side; no ratio")
    parts = l.get("participants") or []
    addresses = sorted({a for p in parts for a in (p.get("addresses") or [])})
    ports = (l.get("topology") or {}).get("server_listen") or []
    print(f"  {len(addresses)} distinct client addresses; server listening on {len(ports)} port(s): "
          f"{', '.join(ports[:3])}{' ...' if len(ports) > 3 else ''}")
    ranges = sorted({(p.get("sysctls") or {}).get("net.ipv4.ip_local_port_range") for p in parts if p.get("sysctls")} - {None})
    nofiles = sorted({(p.get("limits") or {}).get("nofile_hard") for p in parts if p.get("limits")} - {None})
    srv = l.get("server") or {}
    print(f"  read back in the containers: clients ip_local_port_range {ranges}, nofile {nofiles}; server somaxconn "
          f"{((srv.get('sysctls') or {}).get('namespaced') or {}).get('net.core.somaxconn')}, nofile {(srv.get('limits') or {}).get('nofile_hard')}")
    mem = l.get("memory") or {}
    print(f"  memory: kernel {fig(mem.get('kernel_bytes_per_socket'))} B/socket, user {fig(mem.get('user_bytes_per_connection_client'))} B/conn client, "
          f"{fig(mem.get('user_bytes_per_connection_server'))} B/conn server")


def ttt(path):
    value = (load(path).get("results") or {}).get("time_to_target_s")
    print(value if isinstance(value, (int, float)) else "")


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
    commands = {"native": (native, 1, 2), "lab": (lab, 3, 3), "ttt": (ttt, 1, 1)}
    if argv and argv[0] == "medians" and len(argv) >= 3:
        return medians(argv[1], argv[2], argv[3:])
    if not argv or argv[0] not in commands or not commands[argv[0]][1] <= len(argv) - 1 <= commands[argv[0]][2]:
        sys.exit("bench_report.py: usage: native RECORD [FLOOR_S] | lab APPROACH NATIVE LAB | ttt RECORD | medians LABEL TARGET RUN...")
    try:
        commands[argv[0]][0](*argv[1:])
    except (OSError, ValueError) as e:
        print(f"bench_report.py: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
