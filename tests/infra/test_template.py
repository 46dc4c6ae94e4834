"""Assertions on template.yaml: what a reviewer of the stack would check by hand."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from local import template as tpl

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = tpl.load()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = tpl.resources_of_type(TEMPLATE, "AWS::Serverless::Function")
GLOBALS = TEMPLATE["Globals"]["Function"]
WRITE_ACTION = re.compile(r"(Put|Create|Delete|Update|Write|Send|Encrypt|Generate|\*)", re.IGNORECASE)


def prop(function: str, name: str) -> Any:
    return FUNCTIONS[function]["Properties"].get(name, GLOBALS.get(name))


def test_the_expected_functions_exist() -> None:
    assert set(FUNCTIONS) == {
        "ApiFunction",
        "AuthorizerFunction",
        "ConnectFunction",
        "QboWebhookFunction",
        "QbwcFunction",
        "SyncWorkerFunction",
        "SchedulerFunction",
    }


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_is_traced_on_the_layer_with_python313_arm64(function: str) -> None:
    assert prop(function, "Tracing") == "Active"
    assert prop(function, "Runtime") == "python3.13"
    assert prop(function, "Architectures") == ["arm64"]
    assert {"Ref": "CoreLayer"} in prop(function, "Layers")
    env = FUNCTIONS[function]["Properties"]["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"]


# The functions that answer people (API, authorizer, pages) and Intuit (webhook, Web Connector).
SNAPSTARTED = {"ApiFunction", "AuthorizerFunction", "ConnectFunction", "QboWebhookFunction", "QbwcFunction"}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_the_functions_that_answer_people_and_intuit_start_from_a_snapshot_of_a_published_version(
    function: str,
) -> None:
    """SnapStart applies to published versions only, and not beside provisioned concurrency, EFS or more than
    512 MB of ephemeral storage (AWS Lambda Developer Guide, "Improving startup performance with Lambda
    SnapStart"); the Python runtime must be 3.12 or later."""
    props = FUNCTIONS[function]["Properties"]
    if function not in SNAPSTARTED:
        assert "SnapStart" not in props
        return
    assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert props["AutoPublishAlias"] == "live"
    assert prop(function, "Runtime") in ("python3.12", "python3.13")
    assert "ProvisionedConcurrencyConfig" not in props
    assert "FileSystemConfigs" not in props
    assert int(props.get("EphemeralStorage", {}).get("Size", 512)) <= 512


def test_api_gateway_calls_the_authorizer_through_its_alias() -> None:
    """Calling the function's ARN would run $LATEST, which SnapStart never restores."""
    api = next(iter(tpl.resources_of_type(TEMPLATE, "AWS::Serverless::HttpApi").values()))
    authorizers = api["Properties"]["Auth"]["Authorizers"]
    assert {a["FunctionArn"]["Ref"] for a in authorizers.values()} == {"AuthorizerFunction.Alias"}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_its_code_and_handler(function: str) -> None:
    code = ROOT / FUNCTIONS[function]["Properties"]["CodeUri"]
    module, _, attr = FUNCTIONS[function]["Properties"]["Handler"].rpartition(".")
    source = (code / f"{module}.py").read_text(encoding="utf-8")
    assert f"def {attr}(" in source
    assert len(source.splitlines()) <= 45, "handlers stay thin: move logic into the qbsync package"


def test_layer_is_built_for_the_functions_runtime_and_architecture() -> None:
    layer = RESOURCES["CoreLayer"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}
    assert (ROOT / "layers/core/qbsync/__init__.py").exists()
    assert not (ROOT / "layers/core/python").exists(), "SAM adds python/ itself"


def test_layer_requirements_match_the_project_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    lines = (ROOT / "layers/core/requirements.txt").read_text(encoding="utf-8").splitlines()
    layer = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(layer) == sorted(project)


@pytest.mark.parametrize("queue", sorted(tpl.resources_of_type(TEMPLATE, "AWS::SQS::Queue")))
def test_every_queue_has_a_dead_letter_queue_or_is_one(queue: str) -> None:
    props = RESOURCES[queue]["Properties"]
    targets = [
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in tpl.resources_of_type(TEMPLATE, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    ]
    if queue in targets:
        assert props["MessageRetentionPeriod"] == 1209600, "a DLQ keeps messages for the 14-day maximum"
    else:
        assert 1 <= props["RedrivePolicy"]["maxReceiveCount"] <= 10
    assert props.get("SqsManagedSseEnabled") or props.get("KmsMasterKeyId")


def test_queue_visibility_timeout_is_well_above_the_consumer_timeout() -> None:
    for source in tpl.queue_sources(TEMPLATE):
        queue = RESOURCES[source.queue_logical_id]["Properties"]
        assert queue["VisibilityTimeout"] >= 6 * prop(source.function, "Timeout")
        assert source.report_batch_item_failures


def _statements(function: str) -> list[dict[str, Any]]:
    found = []
    for policy in FUNCTIONS[function]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            found += policy["Statement"]
        elif isinstance(policy, str):
            pytest.fail(f"{function} uses the managed policy {policy}; use a scoped policy template")
    return found


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_no_function_may_write_to_every_resource(function: str) -> None:
    for statement in _statements(function):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if "*" in resources:
            assert not [a for a in actions if WRITE_ACTION.search(a.split(":")[1])], (function, actions)
    for policy in FUNCTIONS[function]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" not in policy:
            ((template_name, args),) = policy.items()
            assert args, template_name
            assert all(v not in ("*", {"Ref": "AWS::NoValue"}) for v in args.values()), template_name


def test_table_is_on_demand_recoverable_encrypted_with_the_stack_key_and_expiring() -> None:
    table = RESOURCES["Table"]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["KMSMasterKeyId"] == {"Ref": "TokenKey"}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_routes_cover_the_documented_surface() -> None:
    routes = {(r.method, r.path): r for r in tpl.routes(TEMPLATE)}
    assert routes[("ANY", "/v1/{proxy+}")].authorizer == "ApiKeyAuthorizer"
    public = {
        ("GET", "/health"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("ANY", "/connect/{proxy+}"),
        ("GET", "/dashboard"),
        ("GET", "/dashboard/{proxy+}"),
        ("POST", "/dashboard/{proxy+}"),
        ("GET", "/qbo/callback"),
        ("POST", "/qbo/webhooks"),
        ("POST", "/qbwc"),
        ("GET", "/qbwc"),
    }
    assert public <= set(routes)
    assert all(routes[key].authorizer is None for key in public)


def test_every_function_has_an_errors_alarm_and_the_dlq_is_watched() -> None:
    alarms = tpl.resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm").values()
    watched = {
        d["Value"].get("Ref")
        for a in alarms
        for d in a["Properties"].get("Dimensions", [])
        if a["Properties"].get("MetricName") == "Errors"
    }
    assert watched == set(FUNCTIONS)
    assert any(
        a["Properties"].get("Namespace") == "AWS/SQS"
        and a["Properties"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["JobsDeadLetterQueue", "QueueName"]}
        for a in alarms
    )


def test_outputs_name_every_url_the_host_app_needs() -> None:
    assert {
        "ApiUrl",
        "WebConnectorUrl",
        "WebhookUrl",
        "EventBusName",
        "OAuthRedirectUri",
        "TableName",
    } <= set(TEMPLATE["Outputs"])


def test_secrets_are_not_in_the_template_or_environment() -> None:
    for secret in tpl.resources_of_type(TEMPLATE, "AWS::SecretsManager::Secret").values():
        assert "SecretString" not in secret["Properties"]
    env = GLOBALS["Environment"]["Variables"]
    assert not [k for k in env if re.search(r"SECRET$|TOKEN$|PASSWORD", k)]
