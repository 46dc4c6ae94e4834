"""Settings: one model, validated once at cold start from the function's environment."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Names of the stack's resources, set by template.yaml (Globals) or by the local stack."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    jobs_queue_url: str = Field(alias="JOBS_QUEUE_URL", min_length=1)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    token_key_id: str = Field(alias="TOKEN_KEY_ID", min_length=1)
    qbo_app_secret_id: str = Field(alias="QBO_APP_SECRET_ID", min_length=1)
    webhook_verifier_secret_id: str = Field(alias="WEBHOOK_VERIFIER_SECRET_ID", min_length=1)
    qbo_environment: str = Field(alias="QBO_ENVIRONMENT", default="sandbox")  # or production, or a local URL
    app_name: str = Field(alias="APP_NAME", default="qbsync")
    stage: str = Field(alias="STAGE", default="dev")
    # Who may frame the dashboard pages: CSP `frame-ancestors` sources ("'none'", or origins such as
    # "https://app.example.com"); no `;` or `,`, which would end the directive or the policy.
    dashboard_frame_ancestors: str = Field(
        alias="DASHBOARD_FRAME_ANCESTORS", default="'none'", pattern=r"^ *[^;,\s][^;,\r\n]*$"
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls.model_validate(dict(env))
