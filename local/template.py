"""Reads template.yaml: CloudFormation short tags, intrinsic functions, and the SAM shapes the stack needs."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML loader that turns `!Ref X` into `{"Ref": "X"}` and `!Sub s` into `{"Fn::Sub": s}`; libyaml's
    parser where PyYAML has it (ten times faster: every test of the handlers loads the template)."""


def _tag(name: str) -> Callable[[yaml.SafeLoader, yaml.Node], Any]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _short in ("Ref", "Condition"):
    _CfnLoader.add_constructor(f"!{_short}", _tag(_short))
for _fn in (
    "GetAtt",
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
):
    _CfnLoader.add_constructor(f"!{_fn}", _tag(f"Fn::{_fn}"))


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template, a copy of its own: parsed once per version of the file (a parse takes tens of
    milliseconds, and every test's moto is provisioned from it)."""
    stat = path.stat()
    return copy.deepcopy(_parsed(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _parsed(path: Path, *version: int) -> dict[str, Any]:  # noqa: ARG001
    """`version` (the file's modification time and size) is only part of the cache's key."""
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CfnLoader)  # type: ignore[no-any-return]  # noqa: S506 - a SafeLoader subclass


@dataclass
class Resolver:
    """Evaluates intrinsic functions against the physical values of resources created locally."""

    refs: dict[str, Any]
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            function = {
                "Ref": self._ref,
                "Fn::GetAtt": lambda a: self._getatt(a[0], a[1]),
                "Fn::Sub": self._sub,
                "Fn::Join": lambda a: self(a[0]).join(str(self(v)) for v in a[1]),
            }.get(key)
            if function is not None:
                return function(arg)
        return {k: self(v) for k, v in value.items()}

    def _ref(self, name: str) -> Any:
        if name not in self.refs:
            raise KeyError(f"template refers to {name!r}, which the local stack has not created")
        return self.refs[name]

    def _getatt(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) not in self.attributes:
            raise KeyError(
                f"template asks for {logical_id}.{attribute}, which the local stack does not provide"
            )
        return self.attributes[(logical_id, attribute)]

    def _sub(self, arg: str | list[Any]) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                return str(extra[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self._getatt(logical_id, attribute))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


def parameter_defaults(template: Mapping[str, Any]) -> dict[str, Any]:
    return {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}


def resources_of_type(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template["Resources"].items() if res["Type"] == kind}


@dataclass(frozen=True)
class Route:
    function: str
    method: str  # upper case, or ANY
    path: str  # as in the template: /v1/tenants/{id}, /v1/{proxy+}
    authorizer: str | None  # None when the route is public


@dataclass(frozen=True)
class QueueSource:
    function: str
    queue_logical_id: str
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class Schedule:
    function: str
    name: str
    expression: str
    input: dict[str, Any] | None


@dataclass(frozen=True)
class Authorizer:
    name: str
    function: str
    identity_headers: tuple[str, ...]
    ttl_seconds: int
    simple_responses: bool
    payload_version: str


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, Any]  # unresolved: intrinsic functions still in place


def functions(template: Mapping[str, Any]) -> dict[str, Function]:
    glob = template.get("Globals", {}).get("Function", {})
    glob_env = glob.get("Environment", {}).get("Variables", {})
    result = {}
    for lid, res in resources_of_type(template, "AWS::Serverless::Function").items():
        props = res["Properties"]
        result[lid] = Function(
            logical_id=lid,
            code_uri=ROOT / props["CodeUri"],
            handler=props.get("Handler", glob.get("Handler", "")),
            timeout=int(props.get("Timeout", glob.get("Timeout", 3))),
            memory=int(props.get("MemorySize", glob.get("MemorySize", 128))),
            environment={**glob_env, **props.get("Environment", {}).get("Variables", {})},
        )
    return result


def _events(template: Mapping[str, Any], kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for lid, res in resources_of_type(template, "AWS::Serverless::Function").items():
        for name, event in res["Properties"].get("Events", {}).items():
            if event["Type"] == kind:
                found.append((lid, name, event.get("Properties", {})))
    return found


def http_api_auth(template: Mapping[str, Any]) -> tuple[str | None, dict[str, Authorizer]]:
    """The default authorizer's name and every authorizer of the (single) HTTP API."""
    apis = resources_of_type(template, "AWS::Serverless::HttpApi")
    if len(apis) != 1:
        raise ValueError("the local stack serves exactly one AWS::Serverless::HttpApi")
    auth = next(iter(apis.values()))["Properties"].get("Auth", {})
    authorizers = {}
    for name, spec in auth.get("Authorizers", {}).items():
        identity = spec.get("Identity", {})
        authorizers[name] = Authorizer(
            name=name,
            function=_function_of(spec["FunctionArn"]),
            identity_headers=tuple(h.lower() for h in identity.get("Headers", [])),
            ttl_seconds=int(identity.get("ReauthorizeEvery", 300)),
            simple_responses=bool(spec.get("EnableSimpleResponses", False)),
            payload_version=str(spec.get("AuthorizerPayloadFormatVersion", "2.0")),
        )
    return auth.get("DefaultAuthorizer"), authorizers


def _function_of(arn: Mapping[str, Any]) -> str:
    """The logical id behind an authorizer's FunctionArn: `!GetAtt F.Arn`, or `!Ref F.Alias` (the alias
    SAM's AutoPublishAlias makes, which SnapStart needs)."""
    if "Fn::GetAtt" in arn:
        return str(arn["Fn::GetAtt"][0])
    return str(arn["Ref"]).removesuffix(".Alias")


def routes(template: Mapping[str, Any]) -> list[Route]:
    default, _ = http_api_auth(template)
    found = []
    for lid, _name, props in _events(template, "HttpApi"):
        authorizer = props.get("Auth", {}).get("Authorizer", default)
        found.append(
            Route(
                function=lid,
                method=props.get("Method", "ANY").upper(),
                path=props.get("Path", "$default"),
                authorizer=None if authorizer in (None, "NONE") else authorizer,
            )
        )
    return found


def queue_sources(template: Mapping[str, Any]) -> list[QueueSource]:
    return [
        QueueSource(
            function=lid,
            queue_logical_id=props["Queue"]["Fn::GetAtt"][0],
            batch_size=int(props.get("BatchSize", 10)),
            batching_window_seconds=int(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        )
        for lid, _name, props in _events(template, "SQS")
    ]


def schedules(template: Mapping[str, Any]) -> list[Schedule]:
    return [
        Schedule(
            function=lid,
            name=name,
            expression=props["ScheduleExpression"],
            input=json.loads(props["Input"]) if "Input" in props else None,
        )
        for lid, name, props in _events(template, "ScheduleV2")
    ]
