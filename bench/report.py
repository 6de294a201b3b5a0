"""What bench/ingest.py prints: the table of rates, ratios and worker memory, and the notes
below it (failures, readings not accepted or not stored, the target)."""

from dataclasses import dataclass, field
from statistics import median

TARGET_BATCH, TARGET_DB, TARGET_RATIO = 100, "postgresql", 0.5
BASELINES = ("bare", "limit")


@dataclass
class Case:
    """One database and batch size: each target's results, one per round."""

    db: str
    batch: int
    results: dict = field(default_factory=dict)  # name -> [load.Result per round]
    peaks: dict = field(default_factory=dict)  # name -> [MiB per worker], highest round
    cpu: dict = field(default_factory=dict)  # name -> [workers' CPU ms per 1000 readings]
    problems: list = field(default_factory=list)

    def add(self, name: str, result, peaks: list[float] | None = None, cpu: float = 0) -> None:
        """One round's result; `cpu`: seconds the workers used for result.stored readings."""
        self.results.setdefault(name, []).append(result)
        if cpu and result.stored:
            self.cpu.setdefault(name, []).append(cpu * 1e6 / result.stored)
        if peaks is not None and max(peaks, default=0) > max(self.peaks.get(name, []), default=0):
            self.peaks[name] = peaks

    def rate(self, name: str) -> float:
        return median(r.rate for r in self.results[name])

    def ratio(self, name: str, baseline: str) -> float | None:
        """The median of each round's ratio: a round's two runs are minutes apart at most,
        so a busy spell on the machine weighs on both."""
        pairs = zip(self.results[name], self.results[baseline], strict=True)
        ratios = [mine.rate / base.rate for mine, base in pairs if base.rate]
        return median(ratios) if ratios else None


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _peaks(peaks: list[float]) -> str:
    return " / ".join(f"{p:.0f}" for p in peaks) or "-"


def table(cases: list[Case], served: list[str]) -> str:
    endpoints = [name for name in served if name not in BASELINES]
    head = ["db", "batch", *(f"{n} r/s" for n in served), "limit r/s"]
    head += [f"{n}/{b}" for n in endpoints for b in BASELINES]
    head += [f"{n} worker MiB" for n in served]
    lines = [head]
    for case in cases:
        row = [case.db, str(case.batch)]
        row += [f"{case.rate(n):,.0f}" for n in (*served, "limit")]
        row += [_ratio(case.ratio(n, b)) for n in endpoints for b in BASELINES]
        row += [_peaks(case.peaks.get(n, [])) for n in served]
        lines.append(row)
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join(_line(line, widths) for line in lines)


def _line(cells: list[str], widths: list[int]) -> str:
    """Names to the left, numbers to the right."""
    aligned = [
        c.ljust(w) if i < 2 else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ]
    return "  ".join(aligned)


def cpu_table(cases: list[Case], served: list[str]) -> str:
    """The workers' CPU time per 1000 readings stored (warm-up included): what a reading
    costs the app, which a busy machine disturbs far less than a rate."""
    endpoints = [name for name in served if name not in BASELINES]
    head = ["db", "batch", *(f"{n} CPU ms/1k" for n in served)]
    head += [f"{n}/bare CPU" for n in endpoints]
    lines = [head]
    for case in cases:
        cpu = {n: median(case.cpu[n]) if case.cpu.get(n) else None for n in served}
        row = [case.db, str(case.batch)]
        row += ["-" if cpu[n] is None else f"{cpu[n]:.1f}" for n in served]
        row += [
            "-" if not (cpu[n] and cpu.get("bare")) else f"{cpu[n] / cpu['bare']:.2f}"
            for n in endpoints
        ]
        lines.append(row)
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join(_line(line, widths) for line in lines)


def notes(cases: list[Case]) -> list[str]:
    said = []
    for case in cases:
        where = f"{case.db} batch {case.batch}"
        said += [f"{where} {problem}" for problem in case.problems]
        for name, results in case.results.items():
            for result in results:
                if result.errors:
                    errors = ", ".join(
                        f"{k}: {v}" for k, v in sorted(result.errors.items(), key=str)
                    )
                    said.append(f"{where} {name}: failed requests ({errors})")
                elif result.sent != result.readings:
                    lost = result.sent - result.readings
                    said.append(f"{where} {name}: {lost} readings not accepted")
    for case in cases:
        if case.db != TARGET_DB or case.batch != TARGET_BATCH:
            continue
        for name in case.results:
            if name in BASELINES:
                continue
            ratio = case.ratio(name, "bare")
            met = ratio is not None and ratio >= TARGET_RATIO
            said.append(
                f"target: {name} >= {TARGET_RATIO:.0%} of bare with batches of {TARGET_BATCH} "
                f"on {TARGET_DB}: {_ratio(ratio)} -> {'met' if met else 'NOT met'}"
            )
    return said
