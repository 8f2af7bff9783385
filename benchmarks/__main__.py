"""`python -m benchmarks` (`make bench`): every benchmark, one table, with the machine it ran on."""

from benchmarks import cold_start, drain, emulator, lock_out, memory, mixed_load, per_record, reconcile
from benchmarks.report import describe_machine, render

if __name__ == "__main__":
    print(describe_machine())
    print(
        render(
            [
                *cold_start.run(),
                *per_record.run(),
                *memory.run(),
                *drain.run(),
                *lock_out.run(),
                *mixed_load.run(),
                *emulator.run(),
                *reconcile.run(),
            ]
        )
    )
