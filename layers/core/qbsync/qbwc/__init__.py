"""The QuickBooks Web Connector endpoint: SOAP codec (lxml), the callbacks over the domain's ports,
the support page, and the HTTP glue that ties them to API Gateway."""
