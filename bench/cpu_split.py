"""Where a bench round's CPU went: the service's workers, PostgreSQL, Dovecot, the bench itself, the rest.

Read from /proc (Linux): a process's own user+system time, plus what its children that have exited were
charged (cutime/cstime), so PostgreSQL backends and Dovecot's imap processes that ended during the round
are counted through the postmaster and the Dovecot master. `snapshot()` before and after, then `since()`.
On this 2-core machine the split shows whether a second worker is short of CPU because of the servers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class _Proc:
    pid: int
    ppid: int
    comm: str
    own: float  # seconds: utime + stime
    reaped: float  # seconds: cutime + cstime (children that exited and were waited for)


def _processes() -> dict[int, _Proc]:
    out: dict[int, _Proc] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        # fields[0] is state; ppid is [1]; utime, stime, cutime, cstime are [11]..[14]
        out[int(entry.name)] = _Proc(pid=int(entry.name), ppid=int(fields[1]), comm=comm,
                                     own=(int(fields[11]) + int(fields[12])) / _TICK,
                                     reaped=(int(fields[13]) + int(fields[14])) / _TICK)
    return out


def _tree(procs: dict[int, _Proc], roots: set[int]) -> set[int]:
    members = set(roots) & set(procs)
    grew = True
    while grew:
        grew = False
        for proc in procs.values():
            if proc.pid not in members and proc.ppid in members:
                members.add(proc.pid)
                grew = True
    return members


def _charged(procs: dict[int, _Proc], members: set[int]) -> float:
    return sum(procs[pid].own + procs[pid].reaped for pid in members)


def _machine() -> tuple[float, float, float]:
    """Seconds of busy, idle and iowait CPU on the whole machine since boot (every core)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / _TICK, idle / _TICK, iowait / _TICK


def snapshot(worker_pids: list[int]) -> dict[str, float]:
    """CPU seconds charged so far, per role. Workers are the given pids and their descendants."""
    procs = _processes()
    postgres = {p.pid for p in procs.values() if p.comm.startswith("postgres") and
                procs.get(p.ppid, _Proc(0, 0, "", 0, 0)).comm != p.comm}  # the postmaster(s)
    dovecot = {p.pid for p in procs.values() if p.comm == "dovecot"}
    roles = {"workers": _tree(procs, set(worker_pids)), "postgres": _tree(procs, postgres),
             "dovecot": _tree(procs, dovecot)}
    split = {role: _charged(procs, members) for role, members in roles.items()}
    times = os.times()
    split["bench"] = times.user + times.system  # every thread: the SMTP server and the polling
    split["machine"], split["idle"], split["iowait"] = _machine()
    return split


def since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """The round's CPU per role; `other`, the machine's busy time no role accounts for; `idle` and `iowait`."""
    spent = {role: after[role] - before[role] for role in before}
    spent["other"] = spent["machine"] - sum(v for k, v in spent.items() if k not in ("machine", "idle", "iowait"))
    return spent
