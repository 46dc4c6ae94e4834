"""A local stand-in for a QuickBooks Desktop company file and the Web Connector that drives it.

`company.Company` is one company file: lists, transactions, the qbXML request processor QuickBooks exposes
(`Company.open_session().process(message)`), and the entries a QuickBooks user makes at the keyboard. It
follows
the references in ../shared/reference (Intuit's qbXML 13.0 schema and OSR, the Web Connector captures and
NOTES.md): the same status codes and messages, the same shapes, the same limits. It is its own code and never
imports the product's qbXML codec, so that it can catch the codec's bugs.
"""
