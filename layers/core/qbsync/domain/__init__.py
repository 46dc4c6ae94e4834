"""The domain: records, rules and the ports adapters implement. Imports no AWS, HTTP or XML library."""
