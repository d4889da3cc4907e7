"""Sample the memory and CPU of a whole process tree (a Python worker, its Playwright driver and
every Chromium process) from a thread of the benchmark process.

Every `interval` seconds: RSS summed over the root process and all its descendants (the peak
of that sum is the benchmark's "peak memory"). About once a second also PSS (proportional set
size, shared pages split between the processes sharing them: RSS sums count Chromium's shared
libraries and shared memory once per process, PSS does not) and the 1-minute load average.

CPU: the CPU time of every process seen in the tree (kept per pid, so processes that exit
mid-run still count), this process's own CPU time (the local site server runs here), and the
machine's busy time from /proc/stat; what is left is CPU used by other work on the machine.

Needs psutil (a benchmark-only requirement, see bench/README.md).
"""
from __future__ import annotations

import os
import threading
import time

import psutil

PSS_EVERY_S = 1.0


def _machine_busy_s() -> float:
    """Busy CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class TreeSampler:
    def __init__(self, pid: int, interval: float = 0.1):
        self.pid = pid
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_pss_by_role: dict[str, int] = {}   # the split of the peak PSS sample
        self.peak_procs = 0
        self.samples = 0
        self._cpu: dict[tuple[int, float], float] = {}   # (pid, create_time) -> cpu seconds
        self._role: dict[tuple[int, float], str] = {}    # (pid, create_time) -> process role
        self._loads: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tree-sampler", daemon=True)
        self._t0 = self._t1 = 0.0
        self._busy0 = self._busy1 = 0.0
        self._own0 = self._own1 = 0.0

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "TreeSampler":
        self._t0 = time.monotonic()
        self._busy0 = _machine_busy_s()
        self._own0 = _own_cpu()
        self._thread.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(timeout=5)
        self._t1 = time.monotonic()
        self._busy1 = _machine_busy_s()
        self._own1 = _own_cpu()
        return self.summary()

    def summary(self) -> dict:
        wall = max(1e-9, self._t1 - self._t0)
        tree_cpu = sum(self._cpu.values())
        own_cpu = self._own1 - self._own0
        busy = self._busy1 - self._busy0
        by_role: dict[str, float] = {}
        for key, cpu in self._cpu.items():
            role = self._role.get(key, "other")
            by_role[role] = round(by_role.get(role, 0.0) + cpu, 1)
        return {
            "cpu_by_role_s": by_role,
            "peak_rss_mb": round(self.peak_rss / 2**20, 1),
            "peak_pss_mb": round(self.peak_pss / 2**20, 1),
            "peak_pss_by_role_mb": {k: round(v / 2**20, 1) for k, v in sorted(self.peak_pss_by_role.items())},
            "peak_procs": self.peak_procs,
            "samples": self.samples,
            "tree_cpu_s": round(tree_cpu, 1),
            "bench_cpu_s": round(own_cpu, 1),          # this process: site server + sampler
            "machine_busy_s": round(busy, 1),
            # CPU used by anything else on the machine during the run, in cores.
            "other_cores": round(max(0.0, busy - tree_cpu - own_cpu) / wall, 2),
            "load1_mean": round(sum(self._loads) / len(self._loads), 2) if self._loads else round(os.getloadavg()[0], 2),
        }

    # ---- sampling -----------------------------------------------------------------------------
    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _loop(self) -> None:
        next_pss = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            procs = self.tree()
            if not procs:
                break
            rss = 0
            for proc in procs:
                try:
                    with proc.oneshot():
                        rss += proc.memory_info().rss
                        times = proc.cpu_times()
                        key = (proc.pid, proc.create_time())
                        self._cpu[key] = times.user + times.system
                        # A wrapper script may exec Chromium later, and a process forked from the zygote
                        # shows the zygote's command line until it renames itself: look again until settled.
                        if self._role.get(key, "other") in ("other", "chromium zygote"):
                            self._role[key] = role_of(proc, proc.pid == self.pid)
                except psutil.Error:
                    continue
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_procs = max(self.peak_procs, len(procs))
            self.samples += 1
            if now >= next_pss:
                next_pss = now + PSS_EVERY_S
                self._loads.append(os.getloadavg()[0])
                pss = 0
                by_role: dict[str, int] = {}
                for proc in procs:
                    try:
                        value = proc.memory_full_info().pss
                    except (psutil.Error, AttributeError):
                        continue
                    pss += value
                    role = self._role.get((proc.pid, proc.create_time()), "other")
                    by_role[role] = by_role.get(role, 0) + value
                if pss > self.peak_pss:
                    self.peak_pss, self.peak_pss_by_role = pss, by_role
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - now)))


def role_of(proc: psutil.Process, is_root: bool) -> str:
    """python (the worker), driver (Playwright's node), or the Chromium process type."""
    if is_root:
        return "python"
    try:
        cmdline = proc.cmdline()
    except psutil.Error:
        return "other"
    exe = " ".join(os.path.basename(a).lower() for a in cmdline[:2])
    if exe.startswith("node") or "run-driver" in cmdline:
        return "driver"
    for arg in cmdline:
        if arg.startswith("--type="):
            kind = arg[7:]
            if kind == "utility":
                sub = next((a.split("=", 1)[1] for a in cmdline if a.startswith("--utility-sub-type=")), "")
                return "chromium utility " + sub.rsplit(".", 1)[-1].lower() if sub else "chromium utility"
            return "chromium " + kind
    return "chromium browser" if "chrom" in exe else "other"


def _own_cpu() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


def kill_tree(pid: int, timeout: float = 5.0) -> None:
    """Terminate a process we started and every descendant of it (by pid, children first)."""
    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
