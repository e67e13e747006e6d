#!/usr/bin/env python3
"""The swarm lab's stack file, rendered from compose.yaml: one source for commands, sysctls and limits.

  docker compose -f compose.yaml config --format json | lab/swarm_stack.py CLIENTS CLIENT_NODES NETWORK

reads what compose made of compose.yaml (variables filled in) and writes a stack for
`docker stack deploy` on stdout (JSON, which is YAML). It keeps each service's command, image, user,
environment, sysctls, ulimits and hardening as compose has them, and changes only what Swarm does
differently:
  - placement by node label (c1m.role == server for the server and the collector, client for the
    clients), the clients as replicas spread evenly over the client nodes;
  - one network, the swarm-scoped macvlan NETWORK that lab/swarm.sh makes from each node's
    config-only network; DNS round robin (Swarm's virtual IPs need IPVS, and a service on macvlan
    has no address of its own to publish: moby/moby#24170), so "server" and "collector" resolve to
    the tasks' own addresses;
  - each task told its node (C1M_NODE_ID, C1M_NODE_HOSTNAME), for the record;
  - no restarts: a participant that ends has ended, as under compose;
  - the clients' run directory, a host path on one machine, becomes a tmpfs: each client's record
    reaches the collector over the network (its copy is the collector's spool);
  - dropped, for Swarm has no such setting: security_opt (no-new-privileges), published ports (the
    host reaches the lab through a macvlan shim instead) and the second, bridged network.
"""
import json
import sys

KEPT = ("image", "command", "user", "environment", "sysctls", "ulimits", "read_only", "cap_drop", "init",
        "stop_grace_period", "volumes")


def service(compose_service, role, replicas, per_node):
    s = {k: compose_service[k] for k in KEPT if k in compose_service}
    # A stack's bind mounts take no create_host_path: the paths must exist (results/ on the manager).
    s["volumes"] = [{k: v for k, v in m.items() if k in ("type", "source", "target", "read_only")}
                    for m in s.get("volumes", [])]
    if role == "collector":
        s["command"] = list(s["command"]) + ["--lab-info=orchestrator=swarm"]
    env = dict(s.get("environment") or {})
    env.update({"C1M_NODE_ID": "{{.Node.ID}}", "C1M_NODE_HOSTNAME": "{{.Node.Hostname}}"})
    s["environment"] = env
    s["networks"] = ["lab"]
    placement = {"constraints": ["node.labels.c1m.role == " + ("client" if role == "client" else "server")]}
    if per_node:
        placement["max_replicas_per_node"] = per_node
    s["deploy"] = {"mode": "replicated", "replicas": replicas, "endpoint_mode": "dnsrr",
                   "restart_policy": {"condition": "none"}, "placement": placement}
    if role == "client":
        s["hostname"] = "client-{{.Task.Slot}}"
        s["volumes"] = [{"type": "tmpfs", "target": "/run"}]
    else:
        s["hostname"] = role
    return s


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: swarm_stack.py CLIENTS CLIENT_NODES NETWORK < compose-config.json")
    clients, client_nodes, network = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    services = json.load(sys.stdin)["services"]
    per_node = -(-clients // client_nodes)  # an even spread: no node takes more than its share
    stack = {
        "version": "3.8",
        "services": {
            "collector": service(services["collector"], "collector", 1, 0),
            "server": service(services["server"], "server", 1, 0),
            # Deployed with none; lab/swarm.sh scales them up once the server answers.
            "client": service(services["client"], "client", 0, per_node),
        },
        "networks": {"lab": {"external": True, "name": network}},
    }
    json.dump(stack, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
