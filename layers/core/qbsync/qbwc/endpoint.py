"""The Web Connector endpoint over API Gateway: GET answers the support page, POST answers SOAP calls.

Every POST gets a SOAP envelope back, faults included: the Web Connector reports anything else as
"Response is not well-formed XML" (QBWC1042), which tells the tenant nothing.
"""

from __future__ import annotations

import base64
import binascii
import logging

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from qbsync.composition import Container, from_context
from qbsync.connect.pages import page
from qbsync.qbwc import pages, soap
from qbsync.qbwc.errors import FaultCode, SoapFaultError

log = logging.getLogger(__name__)

PATH = "/qbwc"
SERVER_FAULT = (
    "qbsync could not answer this call; the error was logged. The next scheduled update will retry."
)


def raw_body(event: APIGatewayProxyEventV2) -> bytes:
    """The request body as bytes, so the XML parser reads the encoding the XML declares."""
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise SoapFaultError("The request body is not valid base64.") from exc


def soap_response(status: int, envelope: bytes) -> Response[str]:
    return Response(status_code=status, content_type=soap.CONTENT_TYPE, body=envelope.decode("utf-8"))


def build_endpoint() -> APIGatewayHttpResolver:
    """The endpoint's resolver; its handler appends the container to the context before each event."""
    app = APIGatewayHttpResolver()

    def c() -> Container:
        return from_context(app.context)

    @app.get(PATH)
    def support() -> Response[str]:
        return pages.support_page(c().settings.app_name)

    @app.post(PATH)
    def call() -> Response[str]:
        request = soap.parse_request(raw_body(app.current_event))
        log.info("Web Connector call", extra={"operation": request.operation})
        result = c().web_connector.call(request.operation, request.params)
        return soap_response(200, soap.build_response(request.operation, result))

    @app.exception_handler(SoapFaultError)
    def refused(fault: SoapFaultError) -> Response[str]:
        log.warning("Web Connector call refused", extra={"fault": fault.message})
        return soap_response(500, soap.build_fault(fault.code, fault.message))

    @app.exception_handler(Exception)
    def failed(_: Exception) -> Response[str]:
        log.exception("Web Connector call failed")
        if app.current_event.http_method == "GET":
            return page(
                500,
                "Something went wrong",
                "<p>The error was logged. Try again in a few minutes.</p>",
                app_name=c().settings.app_name,
            )
        return soap_response(500, soap.build_fault(FaultCode.SERVER, SERVER_FAULT))

    return app
