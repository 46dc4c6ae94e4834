"""`make bench`: cold-start import time and peak memory of every function's handler.

Each figure comes from a fresh interpreter that imports one handler module by file path, the way the Lambda
runtime loads `app.lambda_handler`, with layers/core on the path as Lambda's /opt/python. Two reference
rows frame the handlers: a bare `python -c pass`, and a plain import of every runtime dependency (the figure
to beat).
Never deployed.
"""
