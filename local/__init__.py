"""The Docker-free local stack: template.yaml as the one source of truth, moto as AWS, handlers in-process.

Never deployed.
"""
