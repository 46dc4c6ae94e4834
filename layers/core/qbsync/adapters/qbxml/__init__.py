"""The qbXML codec: the messages QuickBooks Desktop reads and answers, behind the Web Connector."""
