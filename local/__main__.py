"""`make run`: the whole service locally. Ctrl-C stops it."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import threading

from local import stack as local_stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument(
        "--aws-port",
        type=int,
        default=int(os.environ.get("AWS_PORT", "4566")),
        help="port of the embedded moto server (0 picks a free one)",
    )
    parser.add_argument(
        "--qbo-port",
        type=int,
        default=int(os.environ.get("QBO_PORT", "3001")),
        help="port of the QuickBooks Online sandbox (0 picks a free one)",
    )
    parser.add_argument(
        "--qbd-port",
        type=int,
        default=int(os.environ.get("QBD_PORT", "3002")),
        help="port of the QuickBooks Desktop stand-ins' controls (0 picks a free one)",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("QBSYNC_LOCAL_API_KEY"),
        help="use this API key instead of a new random one (must start with qbs_)",
    )
    parser.add_argument(
        "--frame-ancestors",
        default=os.environ.get("DASHBOARD_FRAME_ANCESTORS"),
        help="the stack's DashboardFrameAncestors: who may frame the dashboard (default 'none')",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    stack = local_stack.start(
        host=args.host,
        port=args.port,
        aws_port=args.aws_port,
        api_key=args.api_key,
        qbo_port=args.qbo_port,
        qbd_port=args.qbd_port,
        parameters={"DashboardFrameAncestors": args.frame_ancestors} if args.frame_ancestors else None,
    )
    demo = local_stack.start_desktop_demo(stack)
    companies = ", ".join(c.name for c in stack.qbo.sandbox.companies.values())
    desktop_companies = ", ".join(c.name for c in stack.qbd.desktop.companies.values())
    stopped = threading.Event()
    # Ctrl-C stops it however it was started: a shell starting it in the background, or a parent process,
    # may hand it SIGINT ignored or blocked, and Python then installs no KeyboardInterrupt for it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1`: every thread's stack, on stderr
    schedules = ", ".join(f"{s.schedule.name} {s.schedule.expression}" for s in stack.schedules)
    try:  # from the banner on: a Ctrl-C as soon as "ready" shows stops it cleanly
        print(
            "\nqbsync is running locally\n"
            f"  API            {stack.api_url}\n"
            f"  API key        {stack.api_key}\n"
            f"                 (send it as: Authorization: Bearer <key>)\n"
            f"  OpenAPI docs   {stack.api_url}/docs   (JSON: {stack.api_url}/openapi.json)\n"
            f"  Health         {stack.api_url}/health\n"
            f"  Web Connector  {stack.api_url}/qbwc\n"
            f"  QBO sandbox    {stack.qbo.url}   (companies: {companies})\n"
            f"  QBD stand-ins  {stack.qbd.url}/_qbd   (companies: {desktop_companies})\n"
            f"  Desktop demo   tenant {demo.tenant_id}: Web Connector {demo.connector_id} logs in as "
            f"{demo.user_name} / {demo.password}, every {demo.run_every_minutes} min\n"
            f"  AWS (moto)     {stack.aws_endpoint}   (AWS_ENDPOINT_URL for the aws CLI or boto3)\n"
            f"  Functions      {', '.join(sorted(stack.functions))}\n"
            f"  Queue pollers  {', '.join(p.source.function for p in stack.pollers)}\n"
            f"  Schedules      {schedules}\n"
            # Nothing is saved: moto and the QuickBooks stand-ins keep their state in this process's memory.
            "  State          in memory only: tenants, records, tokens and the stand-ins' companies "
            "end with it\n"
            "Press Ctrl-C to stop.\n"
            "ready",
            flush=True,
        )
        # In short waits: a SIGINT the kernel hands to another thread interrupts no untimed wait of this one,
        # and Python runs its handler (KeyboardInterrupt) here only when this thread wakes.
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", flush=True)
        stack.stop()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
