"""Creates the template's stateful resources (key, queues, bus, secrets, topic, tables) in moto.

One creator per resource type, run in dependency order; each records what `Ref` and `Fn::GetAtt` give.
"""

from __future__ import annotations

import functools
import json
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from local import template as tpl

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
# Secrets the local stack fills with known values, so that the signed sample events in events/ verify.
LOCAL_SECRETS: dict[str, dict[str, Any]] = {
    "WebhookVerifierSecret": {"verifier_token": "qbsync-example-verifier-token"},
}
# Alarms and the dashboard show what CloudWatch makes of the functions' logs: nothing to emulate locally.
NOT_EMULATED = {"AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard"}


@dataclass
class LocalStack:
    """What the template's references resolve to once its resources exist in moto."""

    name: str
    template: dict[str, Any]
    resolver: tpl.Resolver

    def function_environment(self, function: tpl.Function) -> dict[str, str]:
        return {k: str(self.resolver(v)) for k, v in function.environment.items()}

    def ref(self, logical_id: str) -> Any:
        return self.resolver.refs[logical_id]

    def queue_url(self, logical_id: str) -> str:
        return str(self.ref(logical_id))


@dataclass
class _Build:
    stack_name: str
    resources: dict[str, Any]
    resolve: tpl.Resolver
    client: Callable[[str], Any]
    secret_values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def props(self, lid: str) -> dict[str, Any]:
        return dict(self.resolve(self.resources[lid].get("Properties", {})))

    def name(self, lid: str, given: str | None = None) -> str:
        return given or f"{self.stack_name}-{lid}"

    def record(self, lid: str, ref: Any, **attributes: Any) -> None:
        self.resolve.refs[lid] = ref
        for attribute, value in attributes.items():
            self.resolve.attributes[(lid, attribute)] = value


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def _function(b: _Build, lid: str) -> None:  # runs in-process; its references name it
    name = b.name(lid)
    b.record(lid, name, Arn=_arn("lambda", f"function:{name}"))


def _http_api(b: _Build, lid: str) -> None:
    b.record(lid, "local")


def _layer(b: _Build, lid: str) -> None:
    b.record(lid, _arn("lambda", f"layer:{lid}:1"))


def _kms_key(b: _Build, lid: str) -> None:
    raw = b.resources[lid]["Properties"]
    key = b.client("kms").create_key(Description=raw.get("Description", lid))["KeyMetadata"]
    b.record(lid, key["KeyId"], Arn=key["Arn"])


def _kms_alias(b: _Build, lid: str) -> None:
    props = b.props(lid)
    b.client("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
    b.record(lid, props["AliasName"])


_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
)


def _queue(b: _Build, lid: str) -> None:
    raw = b.resources[lid]["Properties"]  # RedrivePolicy may point at a queue not made yet: see _redrive
    name = b.name(lid, raw.get("QueueName"))
    attrs = {k: str(raw[k]) for k in _QUEUE_ATTRIBUTES if k in raw}
    url = b.client("sqs").create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    b.record(lid, url, QueueName=name, QueueUrl=url, Arn=_arn("sqs", name))


def _redrive(b: _Build, lid: str) -> None:
    props = b.props(lid)
    if "RedrivePolicy" in props:
        b.client("sqs").set_queue_attributes(
            QueueUrl=b.resolve.refs[lid], Attributes={"RedrivePolicy": json.dumps(props["RedrivePolicy"])}
        )


def _event_bus(b: _Build, lid: str) -> None:
    name = b.props(lid)["Name"]
    arn = b.client("events").create_event_bus(Name=name)["EventBusArn"]
    b.record(lid, name, Name=name, Arn=arn)


def _secret_string(props: Mapping[str, Any]) -> str:
    if "SecretString" in props:
        return str(props["SecretString"])
    gen = props.get("GenerateSecretString", {})
    alphabet = string.ascii_letters + string.digits
    value = "".join(secrets.choice(alphabet) for _ in range(int(gen.get("PasswordLength", 32))))
    if "GenerateStringKey" in gen:
        doc = json.loads(gen.get("SecretStringTemplate", "{}"))
        doc[gen["GenerateStringKey"]] = value
        return json.dumps(doc)
    return value


def _secret(b: _Build, lid: str) -> None:
    props = b.props(lid)
    value = json.dumps(b.secret_values[lid]) if lid in b.secret_values else _secret_string(props)
    arn = b.client("secretsmanager").create_secret(Name=b.name(lid, props.get("Name")), SecretString=value)[
        "ARN"
    ]
    b.record(lid, arn)


def _topic(b: _Build, lid: str) -> None:
    name = b.name(lid, b.props(lid).get("TopicName"))
    arn = b.client("sns").create_topic(Name=name)["TopicArn"]
    b.record(lid, arn, TopicName=name)


def _table(b: _Build, lid: str) -> None:
    props = b.props(lid)
    name = b.name(lid, props.get("TableName"))
    keys = (
        "AttributeDefinitions",
        "KeySchema",
        "BillingMode",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
    )
    kwargs = {k: props[k] for k in keys if k in props}
    if "SSESpecification" in props:
        sse = props["SSESpecification"]
        kwargs["SSESpecification"] = {
            "Enabled": sse["SSEEnabled"],
            "SSEType": sse.get("SSEType", "KMS"),
            **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
        }
    dynamodb = b.client("dynamodb")
    dynamodb.create_table(TableName=name, **kwargs)
    if "TimeToLiveSpecification" in props:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
    b.record(lid, name, Arn=_arn("dynamodb", f"table/{name}"))


# Dependency order: the table is encrypted with the key; queues refer to each other through redrive.
CREATORS: list[tuple[str, Callable[[_Build, str], None]]] = [
    ("AWS::Serverless::Function", _function),
    ("AWS::Serverless::HttpApi", _http_api),
    ("AWS::Serverless::LayerVersion", _layer),
    ("AWS::KMS::Key", _kms_key),
    ("AWS::KMS::Alias", _kms_alias),
    ("AWS::SQS::Queue", _queue),
    ("AWS::SQS::Queue", _redrive),
    ("AWS::Events::EventBus", _event_bus),
    ("AWS::SecretsManager::Secret", _secret),
    ("AWS::SNS::Topic", _topic),
    ("AWS::DynamoDB::Table", _table),
]


def provision(
    session: boto3.Session,
    *,
    stack_name: str = "qbsync-local",
    parameters: Mapping[str, str] | None = None,
    api_base_url: str = "http://127.0.0.1:3000",
    secret_values: Mapping[str, Mapping[str, Any]] | None = None,
    endpoint_url: str | None = None,
) -> LocalStack:
    """Create every stateful resource of template.yaml in the moto behind `session` / `endpoint_url`."""
    template = tpl.load()
    resources = template["Resources"]
    unknown = {r["Type"] for r in resources.values()} - {kind for kind, _ in CREATORS} - NOT_EMULATED
    if unknown:
        raise NotImplementedError(f"the local stack cannot create {sorted(unknown)} yet; teach local/aws.py")
    refs: dict[str, Any] = {
        **tpl.parameter_defaults(template),
        **(parameters or {}),
        "AWS::StackName": stack_name,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    build = _Build(
        stack_name=stack_name,
        resources=resources,
        resolve=tpl.Resolver(refs),
        # one client a service: making one costs more than the call it makes
        client=functools.cache(
            lambda service: session.client(service, region_name=REGION, endpoint_url=endpoint_url)
        ),
        secret_values={**LOCAL_SECRETS, **(secret_values or {})},
    )
    for kind, create in CREATORS:
        for lid, resource in resources.items():
            if resource["Type"] == kind:
                create(build, lid)
    # The public URL the API is reached at, wherever the template builds it from the API id.
    build.resolve.attributes[("HttpApi", "ApiEndpoint")] = api_base_url
    return LocalStack(name=stack_name, template=template, resolver=build.resolve)
