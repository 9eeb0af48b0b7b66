#!/usr/bin/env python3
"""Benchmark: convert and evaluate a generated Terraform plan of N resources.

Generates a `terraform show -json`-shaped plan (a realistic mix of create,
update, replace, delete and no-op), then runs, several times each:
  gatehouse convert --input PLAN                      (parse + normalise)
  gatehouse eval --input PLAN --policy <5 examples>   (parse + 5 policies)
and prints the median wall time and the peak resident memory of the child.
This is a benchmark, not a test: numbers go to docs/performance.md.

Usage: python3 scripts/bench_plan.py [--resources 100000] [--runs 5] [--bin target/release/gatehouse]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POLICIES = ["stream-approval", "destructive-changes", "change-budget", "approval-quorum", "release-window"]
ACTIONS = [["create"]] * 5 + [["update"]] * 3 + [["no-op"]] * 8 + [["delete", "create"], ["create", "delete"], ["delete"]]
TYPES = ["aws_instance", "aws_s3_bucket", "aws_db_instance", "aws_iam_role", "aws_security_group"]


def plan(n):
    changes = []
    for i in range(n):
        rtype = TYPES[i % len(TYPES)]
        actions = ACTIONS[i % len(ACTIONS)]
        changes.append({
            "address": f"module.m{i % 50}.{rtype}.r{i}",
            "module_address": f"module.m{i % 50}",
            "mode": "managed",
            "type": rtype,
            "name": f"r{i}",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": actions, "before": None if actions == ["create"] else {"id": f"i-{i}"},
                       "after": {"id": f"i-{i}", "tags": {"team": "platform"}}},
        })
    return {"format_version": "1.2", "terraform_version": "1.9.5", "resource_changes": changes,
            "applyable": True, "complete": True, "errored": False}


def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1, 2):
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[:500]}")
    return elapsed, max(peak_kib, before)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "gatehouse"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "plan.json")
        with open(path, "w") as f:
            json.dump(plan(args.resources), f)
        size_mib = os.path.getsize(path) / 2**20
        common = ["--input", path, "--format", "terraform", "--environment", "prod-eu", "--release-stream", "PROD"]
        policies = []
        for p in POLICIES:
            policies += ["--policy", os.path.join(ROOT, "target", "policies", f"{p}.wasm")]
        policies += ["--set", "approval-quorum:required-groups=tech-lead", "--now", "2026-11-23T10:00:00Z"]
        benches = {
            "convert": [args.bin, "convert"] + common,
            "eval (5 policies)": [args.bin, "eval"] + common + policies,
        }
        print(f"plan: {args.resources} resources, {size_mib:.1f} MiB; {args.runs} runs each; binary {args.bin}")
        for name, cmd in benches.items():
            times, peak = [], 0
            for _ in range(args.runs):
                elapsed, peak_kib = run(cmd)
                times.append(elapsed)
                peak = max(peak, peak_kib)
            print(f"{name:>18}: median {statistics.median(times) * 1000:.0f} ms "
                  f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); peak RSS {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
