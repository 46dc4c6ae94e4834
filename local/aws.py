"""Creates the template's stateful resources (tables, queues, bus, key, secrets, topic) in moto."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from local import template as tpl

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
# Alarms watch metrics that moto does not produce; nothing to emulate for them locally.
NOT_EMULATED = {"AWS::CloudWatch::Alarm"}


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


def provision(
    session: boto3.Session,
    *,
    stack_name: str = "qbsync-local",
    parameters: Mapping[str, str] | None = None,
    api_base_url: str = "http://127.0.0.1:3000",
    secret_values: Mapping[str, Mapping[str, Any]] | None = None,
    endpoint_url: str | None = None,
) -> LocalStack:
    """Create every stateful resource of template.yaml in the moto behind `session`/`endpoint_url`."""
    template = tpl.load()
    refs: dict[str, Any] = {
        **tpl.parameter_defaults(template),
        **(parameters or {}),
        "AWS::StackName": stack_name,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    attributes: dict[tuple[str, str], Any] = {}
    resolve = tpl.Resolver(refs, attributes)

    def client(service: str) -> Any:
        return session.client(service, region_name=REGION, endpoint_url=endpoint_url)  # type: ignore[call-overload]

    resources = template["Resources"]
    by_type: dict[str, list[str]] = {}
    for lid, res in resources.items():
        by_type.setdefault(res["Type"], []).append(lid)

    # Functions and the API exist only as code run in-process; their references name them.
    for lid in by_type.get("AWS::Serverless::Function", []):
        refs[lid] = f"{stack_name}-{lid}"
        attributes[(lid, "Arn")] = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{refs[lid]}"
    for lid in by_type.get("AWS::Serverless::HttpApi", []):
        refs[lid] = "local"
    for lid in by_type.get("AWS::Serverless::LayerVersion", []):
        refs[lid] = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:{lid}:1"

    kms = client("kms")
    for lid in by_type.get("AWS::KMS::Key", []):
        key = kms.create_key(Description=resources[lid]["Properties"].get("Description", lid))["KeyMetadata"]
        refs[lid], attributes[(lid, "Arn")] = key["KeyId"], key["Arn"]
    for lid in by_type.get("AWS::KMS::Alias", []):
        props = resolve(resources[lid]["Properties"])
        kms.create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
        refs[lid] = props["AliasName"]

    sqs = client("sqs")
    queues = by_type.get("AWS::SQS::Queue", [])
    for lid in queues:  # first create all, then wire redrive policies that refer to each other
        props = resources[lid]["Properties"]
        name = props.get("QueueName", f"{stack_name}-{lid}")
        attrs = {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
                                           "ReceiveMessageWaitTimeSeconds") if k in props}
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        refs[lid] = url
        attributes[(lid, "QueueName")] = name
        attributes[(lid, "QueueUrl")] = url
        attributes[(lid, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
    for lid in queues:
        props = resolve(resources[lid]["Properties"])
        if "RedrivePolicy" in props:
            sqs.set_queue_attributes(QueueUrl=refs[lid], Attributes={"RedrivePolicy": json.dumps(props["RedrivePolicy"])})

    events = client("events")
    for lid in by_type.get("AWS::Events::EventBus", []):
        name = resolve(resources[lid]["Properties"]["Name"])
        arn = events.create_event_bus(Name=name)["EventBusArn"]
        refs[lid], attributes[(lid, "Name")], attributes[(lid, "Arn")] = name, name, arn

    sm = client("secretsmanager")
    for lid in by_type.get("AWS::SecretsManager::Secret", []):
        props = resources[lid]["Properties"]
        value = json.dumps(secret_values[lid]) if secret_values and lid in secret_values else _secret_string(props)
        arn = sm.create_secret(Name=props.get("Name", f"{stack_name}-{lid}"), SecretString=value)["ARN"]
        refs[lid] = arn

    sns = client("sns")
    for lid in by_type.get("AWS::SNS::Topic", []):
        refs[lid] = sns.create_topic(Name=f"{stack_name}-{lid}")["TopicArn"]

    dynamodb = client("dynamodb")
    for lid in by_type.get("AWS::DynamoDB::Table", []):
        props = resolve(resources[lid]["Properties"])
        name = props.get("TableName", f"{stack_name}-{lid}")
        kwargs = {k: props[k] for k in ("AttributeDefinitions", "KeySchema", "BillingMode",
                                        "GlobalSecondaryIndexes", "LocalSecondaryIndexes") if k in props}
        if "SSESpecification" in props:
            sse = props["SSESpecification"]
            kwargs["SSESpecification"] = {"Enabled": sse["SSEEnabled"], "SSEType": sse.get("SSEType", "KMS"),
                                          **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {})}
        dynamodb.create_table(TableName=name, **kwargs)
        if "TimeToLiveSpecification" in props:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
        refs[lid] = name
        attributes[(lid, "Arn")] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"

    handled = {"AWS::Serverless::Function", "AWS::Serverless::HttpApi", "AWS::Serverless::LayerVersion",
               "AWS::KMS::Key", "AWS::KMS::Alias", "AWS::SQS::Queue", "AWS::Events::EventBus", "AWS::SecretsManager::Secret",
               "AWS::SNS::Topic", "AWS::DynamoDB::Table"}
    unknown = set(by_type) - handled - NOT_EMULATED
    if unknown:
        raise NotImplementedError(f"the local stack cannot create {sorted(unknown)} yet; teach local/aws.py")
    # The public URL the API is reached at, wherever the template builds it from the API id.
    attributes[("HttpApi", "ApiEndpoint")] = api_base_url
    return LocalStack(name=stack_name, template=template, resolver=resolve)
