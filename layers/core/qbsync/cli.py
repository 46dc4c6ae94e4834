"""Operator commands. `make api-key STACK=qbsync-dev LABEL=billing-app` runs `create-api-key`.

The key is printed once, on stdout; only its SHA-256 digest is stored.
"""

from __future__ import annotations

import argparse
import sys

import boto3

from qbsync.adapters.clock import SystemClock
from qbsync.adapters.dynamodb import DynamoApiKeyRepository
from qbsync.usecases.apikeys import issue_api_key


def _table_of_stack(stack: str, endpoint_url: str | None) -> str:
    cfn = boto3.client("cloudformation", endpoint_url=endpoint_url)
    outputs = cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output.get("OutputKey") == "TableName":
            return str(output["OutputValue"])
    raise SystemExit(f"stack {stack!r} has no TableName output; is it a qbsync stack?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qbsync.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser(
        "create-api-key", help="create an API key for the host app and print it once"
    )
    where = create.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="CloudFormation stack name (its TableName output is used)")
    where.add_argument("--table", help="DynamoDB table name")
    create.add_argument("--label", default="host-app", help="what the key is for; shown in logs, not secret")
    create.add_argument(
        "--endpoint-url", help="AWS endpoint, e.g. the local stack's moto: http://127.0.0.1:4566"
    )
    args = parser.parse_args(argv)

    table = args.table or _table_of_stack(args.stack, args.endpoint_url)
    repo = DynamoApiKeyRepository(boto3.client("dynamodb", endpoint_url=args.endpoint_url), table)
    plaintext, key = issue_api_key(repo, SystemClock(), args.label)
    print(
        f"API key {key.key_id} ({key.label}) created. It is shown only now: keep it with your app's secrets.",
        file=sys.stderr,
    )
    print(plaintext)
    return 0


if __name__ == "__main__":
    sys.exit(main())
