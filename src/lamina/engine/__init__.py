"""The data plane, below the services. Services reach it through facade.py (Engine).

Running functions (this folder): invoker.py (one invocation: instance in, result out),
concurrency.py (who may run now), pool.py (warm instances), factory.py (which sandbox a
function gets), provisioned.py (provisioned concurrency), snapstart.py (SnapStart
snapshots), invocation_log.py (START/END/REPORT and the instance's log), faults.py
(Lambda's fault names), telemetry.py (AWS/Lambda metrics), spec.py (what the engine knows
of a function).

    sandbox/    where a function's code runs; guest/ is the code inside the sandbox
    delivery/   accepted -> retried -> finished: async invocations, the outbox, retry
                policies, destinations by ARN, FIFO deduplication
    pollers/    event source mappings at work: queue and stream pollers
    timers/     cron, rate and at() expressions, and the scheduler that fires them
"""
