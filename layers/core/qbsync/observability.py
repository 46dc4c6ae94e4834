"""Logging shared by every function: Powertools' structured logger, also used by the qbsync package."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

PACKAGE_LOGGER = "qbsync"


def function_logger() -> Logger:
    """The function's Logger (service from POWERTOOLS_SERVICE_NAME); qbsync's own loggers write through it."""
    logger = Logger()
    logging.getLogger(PACKAGE_LOGGER)
    copy_config_to_registered_loggers(source_logger=logger, include={PACKAGE_LOGGER})
    return logger
