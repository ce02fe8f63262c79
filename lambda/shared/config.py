"""Typed configuration parsed once from environment variables."""

import os
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Optional

from shared import drs_limits
from shared.errors import ConfigurationError

# Attribute name -> environment variable. Every env var the functions read is
# listed here so a missing one fails with its exact name.
ENV_VARS = {
    "project_name": "PROJECT_NAME",
    "environment": "ENVIRONMENT",
    "region": "AWS_REGION",
    "protection_groups_table": "PROTECTION_GROUPS_TABLE",
    "recovery_plans_table": "RECOVERY_PLANS_TABLE",
    "execution_history_table": "EXECUTION_HISTORY_TABLE",
    "execution_servers_table": "EXECUTION_SERVERS_TABLE",
    "target_accounts_table": "TARGET_ACCOUNTS_TABLE",
    "tag_sync_config_table": "TAG_SYNC_CONFIG_TABLE",
    "state_machine_arn": "STATE_MACHINE_ARN",
    "execution_handler_arn": "EXECUTION_HANDLER_ARN",
    "query_handler_arn": "QUERY_HANDLER_ARN",
    "notification_formatter_arn": "NOTIFICATION_FORMATTER_ARN",
    "execution_notifications_topic_arn": "EXECUTION_NOTIFICATIONS_TOPIC_ARN",
    "drs_alerts_topic_arn": "DRS_ALERTS_TOPIC_ARN",
    "cross_account_role_name": "CROSS_ACCOUNT_ROLE_NAME",
    "function_name": "AWS_LAMBDA_FUNCTION_NAME",
    "wave_poll_interval_seconds": "WAVE_POLL_INTERVAL_SECONDS",
    "wave_max_wait_seconds": "WAVE_MAX_WAIT_SECONDS",
    "metrics_namespace": "POWERTOOLS_METRICS_NAMESPACE",
    "max_servers_per_job": "DRS_MAX_SERVERS_PER_JOB",
    "max_concurrent_jobs": "DRS_MAX_CONCURRENT_JOBS",
    "max_servers_in_all_jobs": "DRS_MAX_SERVERS_IN_ALL_JOBS",
}

DEFAULTS = {
    "project_name": "hrp-drs-tech-adapter",
    "environment": "dev",
    "cross_account_role_name": "DRSOrchestrationCrossAccountRole",
    "wave_poll_interval_seconds": "30",
    "wave_max_wait_seconds": "14400",
    "metrics_namespace": "DRSOrchestration",
    # The DRS quotas per account and region (seeds' DRS_LIMITS); an
    # account with raised quotas sets the template parameters.
    "max_servers_per_job": str(drs_limits.MAX_SERVERS_PER_JOB),
    "max_concurrent_jobs": str(drs_limits.MAX_CONCURRENT_JOBS),
    "max_servers_in_all_jobs": str(drs_limits.MAX_SERVERS_IN_ALL_JOBS),
}


@dataclass(frozen=True)
class Settings:
    """Environment of one function. Optional values are None when unset."""

    project_name: str
    environment: str
    region: Optional[str] = None
    protection_groups_table: Optional[str] = None
    recovery_plans_table: Optional[str] = None
    execution_history_table: Optional[str] = None
    execution_servers_table: Optional[str] = None
    target_accounts_table: Optional[str] = None
    tag_sync_config_table: Optional[str] = None
    state_machine_arn: Optional[str] = None
    execution_handler_arn: Optional[str] = None
    query_handler_arn: Optional[str] = None
    notification_formatter_arn: Optional[str] = None
    execution_notifications_topic_arn: Optional[str] = None
    drs_alerts_topic_arn: Optional[str] = None
    cross_account_role_name: str = "DRSOrchestrationCrossAccountRole"
    function_name: Optional[str] = None
    wave_poll_interval_seconds: int = 30
    wave_max_wait_seconds: int = 14400
    metrics_namespace: str = "DRSOrchestration"
    max_servers_per_job: int = drs_limits.MAX_SERVERS_PER_JOB
    max_concurrent_jobs: int = drs_limits.MAX_CONCURRENT_JOBS
    max_servers_in_all_jobs: int = drs_limits.MAX_SERVERS_IN_ALL_JOBS

    def require(self, attribute: str) -> str:
        """Return a setting or fail naming the missing environment variable."""
        value = getattr(self, attribute)
        if value in (None, ""):
            raise ConfigurationError(
                f"environment variable {ENV_VARS[attribute]} is not set"
            )
        return value


def _int_setting(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(
            f"environment variable {ENV_VARS[name]} must be an integer, "
            f"got {raw!r}"
        ) from None
    if value <= 0:
        raise ConfigurationError(
            f"environment variable {ENV_VARS[name]} must be positive"
        )
    return value


def load_settings(environ: Optional[dict] = None) -> Settings:
    """Parse settings from ``environ`` (default ``os.environ``)."""
    env = os.environ if environ is None else environ
    values = {}
    for field in fields(Settings):
        raw = env.get(ENV_VARS[field.name]) or DEFAULTS.get(field.name)
        if field.name == "region" and not raw:
            raw = env.get("AWS_DEFAULT_REGION")
        if raw is None:
            continue
        if field.type is int:
            values[field.name] = _int_setting(field.name, raw)
        else:
            values[field.name] = raw
    return Settings(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, parsed once."""
    return load_settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
