"""`make invoke FUNCTION=<LogicalId> EVENT=events/<file>.json`: what `sam local invoke` does, without Docker.

The function runs in-process against a fresh moto holding every resource of template.yaml; its result is
printed as JSON on stdout (logs go to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

import boto3
from moto import mock_aws

from local import aws as local_aws
from local import lambdas
from local import template as tpl
from local.stack import aws_environment, shared_environment


def invoke(function: str, event_path: Path) -> object:
    event = json.loads(event_path.read_text(encoding="utf-8"))
    os.environ.update({k: v for k, v in aws_environment("").items() if k != "AWS_ENDPOINT_URL"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    lambdas.fresh_clients()  # each invocation is a cold start against a fresh moto
    with mock_aws():
        stack = local_aws.provision(boto3.Session())
        specs = tpl.functions(stack.template)
        if function not in specs:
            raise SystemExit(
                f"no function {function!r} in template.yaml; choose one of: {', '.join(sorted(specs))}"
            )
        os.environ.update(shared_environment(stack))
        spec = specs[function]
        loaded = lambdas.load(spec, str(stack.ref(function)), stack.function_environment(spec))
        return loaded.invoke(event)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__)
    parser.add_argument("function", help="logical id in template.yaml, e.g. ApiFunction")
    parser.add_argument("event", type=Path, help="event file, e.g. events/api_health.json")
    args = parser.parse_args(argv)
    with redirect_stdout(sys.stderr):  # Powertools logs to stdout; keep stdout for the result
        result = invoke(args.function, args.event)
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
