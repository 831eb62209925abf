"""`python -m benchmarks.reminders`: how late due reminders go out while N reminders are pending.

The real notifier process runs on a real broker against a store pre-loaded (services.notifier.bulk,
the intake's own row format) with `--pending` reminders. Most are due days ahead; during the run
`--rate` per second fall due for `--seconds`, then `--bursts` 30-seat sessions fall due in one
instant. Delay = when the SMTP sink accepted a reminder - when it was due (both wall clock).
"""
