"""A local stand-in for QuickBooks Online: Intuit's OAuth 2.0 server and the Accounting API v3.

It follows the real service's status codes, fault codes, limits and shapes (../shared/reference/qbo) and is
stricter where Intuit documents a rule loosely: a refresh token is single-use, an authorization code is
exchanged once.
"""
